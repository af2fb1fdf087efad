"""Functions that keep their name across dialects but not their meaning.

sqlglot writes these by name for every target, and each was found giving other
values on another engine (tests/integration/cross_engine/test_functions_across_dialects.py):

- `log(x)` is the logarithm to base 10 in DuckDB and Postgres, the natural one in
  Spark: written `log(10, x)` there;
- the day of the week (`extract(dow ...)`, `dayofweek()`) counts Sunday as 0 in
  DuckDB and Postgres, as 1 in Spark: the difference is added; the ISO day
  (Monday 1) is extract()'s field of the target's name (sqlglot wrote Spark a
  formula giving Sunday 2);
- `dayname()`/`monthname()` give full names in DuckDB, abbreviations in Spark:
  written as the format of the project dialect's names;
- `regexp_replace()` replaces the first match in DuckDB and Postgres unless told
  `'g'`, every match in Spark, which takes no flags and writes a group `$1`
  where the others write `\\1`: a first-match replacement, a flag and a group
  reference are refused for and from Spark;
- `regexp_matches(s, p, 'i')` lost its flag on Spark: refused there;
- `left()`/`right()` of a negative length give all but that many characters in
  DuckDB and Postgres, nothing in Spark: the length is written as meant;
- one date minus another is a number of days in DuckDB and Postgres, an interval
  in Spark: where both are dates by the SQL alone, written as the project
  dialect's. Two date columns the SQL cannot tell from numbers: a DuckDB
  project's difference on Spark is caught when built (runner.built_types), a
  Spark project's on DuckDB, whose days no column type tells from a number, is
  guarded by DuckDB's typeof(), which the planner folds: an error naming the
  model's line where both are dates, the subtraction as written elsewhere
  (Postgres has no typeof() to fold: there such a difference still gives days);
- `hash()`, `format()`, `weekday()` and Postgres's `regexp_matches()` are other
  functions under one name (their values, templates, first day, or kind of
  result differ), and SIMILAR TO's pattern another language: refused across
  dialects.
"""

from __future__ import annotations

from typing import NoReturn

from sqlglot import exp

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from featureduck.compiler.operand_types import AVERAGES, integer_literal, is_visibly_date, is_volatile, visible_kind
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

_DAY_OF_WEEK = {"DOW", "DAYOFWEEK"}  # the names extract() takes for Sunday-first days
_ISO_DAY = {"ISODOW", "DOW_ISO", "DAYOFWEEK_ISO"}  # and for days from Monday as 1
# name: what it is on another engine, and what to write instead
_OTHER_FUNCTIONS = {
    "HASH": ("a hash of another function (each engine hashes its own way)", "hash with md5(), which every engine shares"),
    "FORMAT": ("a template of another syntax ({} in DuckDB, %s in Postgres and Spark)", "concatenate the parts with concat()"),
    "WEEKDAY": ("a day of the week counted from Sunday as 0 in DuckDB, from Monday in Spark", "use extract(dow from ts)"),
    "REGEXP_MATCHES": ("a test where Postgres gives the set of matches", "use regexp_match() for the first, or ~ for a test"),
}


def keep_function_meanings(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so these functions mean in `target` what they mean in `dialect`."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target or source is None or dest is None:
        return
    for node in reversed(list(tree.walk())):  # the inner first: an outer one's rewrite copies them
        if isinstance(node, exp.Log) and node.args.get("expression") is None and source.log_of_one != dest.log_of_one:
            node.replace(exp.Log(this=exp.Literal.number(10), expression=node.this.copy()))
        elif isinstance(node, exp.DayOfWeekIso) or isinstance(node, exp.Extract) and node.this.name.upper() in _ISO_DAY:
            day = node.this if isinstance(node, exp.DayOfWeekIso) else node.expression
            node.replace(exp.Extract(this=exp.var(dest.iso_day_field), expression=day.copy()))
        elif _is_day_of_week(node) and source.sunday_number != dest.sunday_number:
            node.replace(exp.paren(exp.Add(this=node.copy(), expression=exp.Literal.number(source.sunday_number - dest.sunday_number))))
        elif isinstance(node, (exp.Dayname, exp.Monthname)) and source.name_format is not None:
            code = source.name_format[isinstance(node, exp.Monthname)]
            node.replace(exp.TimeToStr(this=node.this.copy(), format=exp.Literal.string(code)))
        elif isinstance(node, exp.RegexpReplace):
            _check_replacement(node, source, dest, dialect, target, path)
        elif isinstance(node, exp.RegexpLike) and node.args.get("flag") is not None and not dest.regexp_flags:
            _refuse(node, f"{target} takes no flags for a regular expression", "write the flag in the pattern: '(?i)...'",
                    dialect, path)
        elif isinstance(node, (exp.Left, exp.Right)) and source.negative_left != dest.negative_left:
            _keep_length(node, source, dialect, path)
        elif isinstance(node, exp.Sub) and is_visibly_date(node.this) and is_visibly_date(node.expression):
            if source.date_difference != dest.date_difference:
                node.replace(_date_difference(node, source))
        elif isinstance(node, exp.Sub) and (source.date_difference, dest.date_difference) == ("interval", "days") and \
                not any(_visibly_no_date(side, dialect) for side in (node.this, node.expression)):
            node.replace(_dates_refused_when_built(node, dest, dialect, target, path))
        elif isinstance(node, exp.SimilarTo):
            _refuse(node, f"{dialect} and {target} read SIMILAR TO's pattern differently (a regular expression in DuckDB, "
                    "% and _ with regular expression operators in Postgres)", "use LIKE, or regexp_matches()/~", dialect, path)
        elif isinstance(node, (exp.Anonymous, exp.Format)) and _name(node) in _OTHER_FUNCTIONS:
            why, hint = _OTHER_FUNCTIONS[_name(node)]
            _refuse(node, f"{_name(node).lower()}() on {target} is {why}", hint, dialect, path)


# what gives a number in every dialect, of any operand it takes (a date's min() is a date, its sum() none)
_NEVER_DATES = (exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sign, exp.Sqrt, exp.Exp, exp.Ln, exp.Log, exp.Pow, exp.Length,
                exp.Mod, exp.Mul, exp.Div, exp.Sum, exp.Count, exp.Extract, exp.DateDiff, *AVERAGES)


def _name(node: exp.Func) -> str:
    return str(node.this).upper() if isinstance(node, exp.Anonymous) else node.sql_name()


def _is_day_of_week(node: exp.Expr) -> bool:
    if isinstance(node, exp.DayOfWeek):
        return True
    return isinstance(node, exp.Extract) and node.this.name.upper() in _DAY_OF_WEEK


def _check_replacement(node: exp.RegexpReplace, source: DialectFacts, dest: DialectFacts, dialect: str, target: str,
                       path: str) -> None:
    modifiers = node.args.get("modifiers")
    flags = modifiers.name if isinstance(modifiers, exp.Literal) else None
    if modifiers is not None and flags is None:
        _refuse(node, "its flags are not a literal", "write the flags as a literal", dialect, path)
    if not dest.regexp_flags and (flags or "g").replace("g", ""):
        _refuse(node, f"{target} takes no flags for a regular expression but 'g'", "write the flag in the pattern: '(?i)...'",
                dialect, path)
    if not dest.regexp_replaces_first and source.regexp_replaces_first and "g" not in (flags or ""):
        _refuse(node, f"{dialect} replaces the first match, {target} every match", "add 'g' if every match is meant",
                dialect, path)
    replacement = node.args.get("replacement")
    if source.regexp_group != dest.regexp_group:
        if not (isinstance(replacement, exp.Literal) and replacement.is_string):
            _refuse(node, f"its replacement is not a literal, and {target} writes a group reference another way",
                    "write the replacement as a literal", dialect, path)
        if "\\" in replacement.this or "$" in replacement.this:
            _refuse(node, f"its replacement holds \\ or $, which {dialect} and {target} read differently "
                    "(a group is \\1 in DuckDB and Postgres, $1 in Spark)", "replace without group references", dialect, path)


def _date_difference(node: exp.Sub, source: DialectFacts) -> exp.Expr:
    """One date minus another as the project dialect gives it: a number of days, or an interval of days."""
    if source.date_difference == "days":
        return exp.DateDiff(this=node.this.copy(), expression=node.expression.copy(), unit=exp.var("DAY"))
    days = exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))
    return exp.paren(exp.Mul(this=exp.paren(node.copy()), expression=days))


def _visibly_no_date(operand: exp.Expr, dialect: str) -> bool:
    """A number or an interval by the SQL alone (a literal, a cast, count(), a function
    of numbers only): never a date."""
    while isinstance(operand, exp.Paren):
        operand = operand.this
    return isinstance(operand, (exp.Interval, *_NEVER_DATES)) or visible_kind(operand, dialect) != "unknown"


def _dates_refused_when_built(node: exp.Sub, dest: DialectFacts, dialect: str, target: str, path: str) -> exp.Expr:
    """`a - b` as written unless both are dates, then an error naming the model's line:
    the target would give days where the project dialect gives an interval. Both
    branches are the subtraction (Postgres types a CASE by its branches, and a date's
    difference is no interval's type) and the refusal is the second test, reached only
    when both are dates: a CASE tests in order."""
    message = (f"{located(node, path)}: a date minus a date is an interval of days in {dialect} and a number of days "
               f"on {target}, so it cannot be built there; write datediff(end, start) for the days")
    both_dates = exp.and_(*(dest.is_date(side) for side in (node.this, node.expression)))
    refused = exp.Is(this=dest.refusal(message, exp.cast(node.this.copy(), "TEXT")), expression=exp.null())
    return exp.Case(ifs=[exp.If(this=exp.not_(both_dates), true=node.copy()), exp.If(this=refused, true=node.copy())])


def _keep_length(node: exp.Left | exp.Right, source: DialectFacts, dialect: str, path: str) -> None:
    """The length as the project dialect reads a negative one: all but that many characters, or none."""
    text, length = node.this, node.expression
    count = integer_literal(length)
    if count is not None and count >= 0:
        return
    if is_volatile(text) or is_volatile(length):
        _refuse(node, "it takes a random length or string, which the rewrite would read twice",
                "compute it in a CTE or subquery first", dialect, path)
    zero = exp.Literal.number(0)
    if source.negative_left == "empty":
        meant: exp.Expr = exp.Greatest(this=length.copy(), expressions=[zero])
    else:
        all_but = exp.Greatest(this=exp.Add(this=exp.Length(this=text.copy()), expression=length.copy()), expressions=[zero])
        meant = exp.Case(ifs=[exp.If(this=exp.LT(this=length.copy(), expression=zero.copy()), true=all_but)],
                         default=length.copy())
    node.set("expression", meant)


def _refuse(node: exp.Expr, why: str, hint: str, dialect: str, path: str) -> NoReturn:
    raise UnsupportedSqlError(f"`{node.sql(dialect)}`: {why}, so it cannot be compiled there", located(node, path), hint)
