"""What each dialect's SQL means where the dialects differ and sqlglot writes one
spelling for all: one row per dialect, read by the rewrites that keep a model's
meaning on another target (compiler.meaning). A dialect without a row is written
as sqlglot writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp


@dataclass(frozen=True, kw_only=True)
class DialectFacts:
    scientific_literal_is_double: bool  # `1e3` (Postgres: a numeric)
    # round(x) of a double's half: to even (Postgres) or away from zero; of an integer or a decimal always away
    double_halves: Literal["even", "away"]
    # round(x, n) of a double: of its product with 10^n (DuckDB), of the decimal it prints as (Spark), or none (Postgres)
    double_digits: Literal["product", "printed", "none"]
    half_even: Callable[[exp.Expr], exp.Expr]  # its spelling of round(x) half to even, for a double
    half_even_keeps_type: bool  # that spelling gives a decimal's round a decimal, as round does
    double_type_names: tuple[str, ...]  # what its typeof() says of a double; none: it has no typeof()
    bare_decimal: tuple[int, int] | None  # the precision and scale of DECIMAL without them; None: every digit kept
    # a fraction cast to an integer: rounded by its type (a double's half to even, a decimal's or a string's away), or truncated
    fraction_to_integer: Literal["by_type", "truncates"]
    # an average's type: always a double, a numeric of integers and numerics, or a double of integers and a decimal of decimals
    averages: Literal["double", "exact_of_exact", "double_of_integers"]
    whole_type_names: tuple[str, ...]  # what its typeof() says of an integer or a boolean
    # how it reads any value's exact digits for a truncation: a cast to DECIMAL(38, 18) (which takes a boolean, a string
    # and a double's digits), or its text read as a numeric (every digit of a double; a boolean's text 'true' or 'false')
    exact_digits: Literal["decimal", "text"] | None
    # how its text compares and sorts: by bytes whatever the database, or by the database's collation (Postgres's locale)
    text_order: Literal["bytes", "database"]
    # substring(): a negative start counted from the end (and 0 read as 1), or every start as given
    substring_start: Literal["from_end", "from_end_zero_first", "as_given"]
    # substring() of a negative length: the characters before the start, or none (Postgres: an error)
    substring_negative_length: Literal["before_start", "empty"]
    # the sqlglot format codes (strftime's, in compiler.time_formats) its format functions read and write with strftime's meaning
    format_codes: frozenset[str]
    format_spellings: Mapping[str, str]  # its pattern for a code sqlglot writes otherwise (Postgres's AM for %p)
    format_literals: Literal["as_is", "double_quoted", "single_quoted"]  # how a format's literal text is written
    log_of_one: Literal["base10", "natural"]  # log(x) (compiler.function_meanings)
    sunday_number: int  # what extract(dow ...) and dayofweek() give for a Sunday (the week's days follow)
    iso_day_field: str  # extract()'s field for the day of the week from Monday as 1
    name_format: tuple[str, str] | None  # the format codes of what dayname() and monthname() give; None: it has neither
    regexp_flags: bool  # its regular expression functions take flags ('g', 'i')
    regexp_replaces_first: bool  # regexp_replace() without 'g' replaces the first match only (else every match)
    regexp_group: Literal["backslash", "dollar"]  # how a replacement names a group: \1 or $1
    negative_left: Literal["all_but", "empty"]  # left()/right() of a negative length: all but that many characters, or ''
    date_difference: Literal["days", "interval"]  # one date minus another: a number of days, or an interval of days
    # its test that a value is a DATE, by the value's type: typeof(), folded when planned, or pg_typeof() per row
    is_date: Callable[[exp.Expr], exp.Expr]
    # its test that a value is a double (or a real), by the value's type: typeof(), folded when planned, or pg_typeof() per row
    is_double: Callable[[exp.Expr], exp.Expr]
    refusal: Callable[[str, exp.Expr], exp.Expr]  # what fails the query with a message, when reached, of a text value
    # a double's text: the shortest digits, plain from 1e-4 up to 1e16 (a whole number with `.0`) or up to 1e15 (bare), or Java's
    double_text: Literal["shortest_plain_below_1e16", "shortest_plain_below_1e15", "java"]


def _type_in(function: str, value: exp.Expr, names: tuple[str, ...]) -> exp.Expr:
    named = exp.cast(exp.Anonymous(this=function, expressions=[value.copy()]), exp.DataType.build("TEXT"))
    return exp.In(this=named, expressions=[exp.Literal.string(name) for name in names])


def _raised(function: str, message: str) -> exp.Expr:
    return exp.Anonymous(this=function, expressions=[exp.Literal.string(message)])


def _failed_cast(message: str, text: exp.Expr) -> exp.Expr:
    """Postgres has no function that raises an error: a cast of the message and the value's
    text to an integer fails with both. The planner folds what is constant, reached or
    not (a literal's text, a subquery's constant pulled up): a stable setting's empty
    prefix keeps the cast for when it is reached."""
    unfolded = exp.Anonymous(this="LEFT", expressions=[
        exp.Anonymous(this="CURRENT_SETTING", expressions=[exp.Literal.string("extra_float_digits")]), exp.Literal.number(0)])
    failing = exp.cast(exp.DPipe(this=exp.DPipe(this=exp.Literal.string(message), expression=text.copy()), expression=unfolded),
                       exp.DataType.build("INT"))
    return exp.cast(failing, exp.DataType.build("TEXT"))


# Codes for the parts of a time every dialect formats alike, padded (`%m`) or not (`%-m`).
_SHARED_CODES = frozenset({
    "%Y", "%y", "%m", "%-m", "%d", "%-d", "%H", "%-H", "%I", "%-I", "%M", "%-M", "%S", "%-S", "%f", "%-j",
    "%a", "%A", "%b", "%B", "%mstrict", "%dstrict", "%Hstrict", "%Istrict", "%Mstrict", "%Sstrict",
})


_FACTS = {
    "duckdb": DialectFacts(
        scientific_literal_is_double=True, double_halves="away", double_digits="product",
        half_even=lambda value: exp.func("round_even", value, exp.Literal.number(0)), half_even_keeps_type=False,
        double_type_names=("DOUBLE", "FLOAT"), bare_decimal=(18, 3),
        fraction_to_integer="by_type", averages="double", whole_type_names=(), exact_digits="decimal", text_order="bytes",
        substring_start="from_end", substring_negative_length="before_start",
        format_codes=_SHARED_CODES | {"%-y", "%G", "%V", "%U", "%W", "%u", "%w", "%j", "%p", "%h", "%g", "%n"},
        format_spellings={}, format_literals="as_is",
        log_of_one="base10", sunday_number=0, iso_day_field="ISODOW", name_format=("%A", "%B"), regexp_flags=True,
        regexp_replaces_first=True, regexp_group="backslash", negative_left="all_but", date_difference="days",
        is_date=lambda value: _type_in("typeof", value, ("DATE",)), double_text="shortest_plain_below_1e16",
        is_double=lambda value: _type_in("typeof", value, ("DOUBLE", "FLOAT")), refusal=lambda message, _: _raised("error", message),
    ),
    "postgres": DialectFacts(
        scientific_literal_is_double=False, double_halves="even", double_digits="none",
        half_even=lambda value: exp.func("round", value), half_even_keeps_type=False, double_type_names=(), bare_decimal=None,
        fraction_to_integer="by_type", averages="exact_of_exact", whole_type_names=(), exact_digits="text", text_order="database",
        substring_start="as_given", substring_negative_length="empty",
        format_codes=_SHARED_CODES | {"%G", "%V", "%j", "%Ythree", "%aenlower"},
        format_spellings={"%p": "AM", "%u": "ID"}, format_literals="double_quoted",
        log_of_one="base10", sunday_number=0, iso_day_field="ISODOW", name_format=None, regexp_flags=True,
        regexp_replaces_first=True, regexp_group="backslash", negative_left="all_but", date_difference="days",
        is_date=lambda value: _type_in("pg_typeof", value, ("date",)), double_text="shortest_plain_below_1e15",
        is_double=lambda value: _type_in("pg_typeof", value, ("double precision", "real")), refusal=_failed_cast,
    ),
    "spark": DialectFacts(
        scientific_literal_is_double=True, double_halves="away", double_digits="printed",
        half_even=lambda value: exp.func("bround", value), half_even_keeps_type=True,
        double_type_names=("double", "float"), bare_decimal=(10, 0),
        fraction_to_integer="truncates", averages="double_of_integers",
        whole_type_names=("tinyint", "smallint", "int", "bigint", "boolean"), exact_digits=None,
        text_order="bytes", substring_start="from_end_zero_first", substring_negative_length="empty",
        format_codes=_SHARED_CODES | {"%p"}, format_spellings={"%j": "DDD"}, format_literals="single_quoted",
        log_of_one="natural", sunday_number=1, iso_day_field="DOW_ISO", name_format=("%a", "%b"), regexp_flags=False,
        regexp_replaces_first=False, regexp_group="dollar", negative_left="empty", date_difference="interval",
        is_date=lambda value: _type_in("typeof", value, ("date",)), double_text="java",
        is_double=lambda value: _type_in("typeof", value, ("double", "float")),
        refusal=lambda message, _: _raised("raise_error", message),
    ),
}


def dialect_facts(dialect: str) -> DialectFacts | None:
    return _FACTS.get(dialect)
