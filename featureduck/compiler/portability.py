"""Constructs sqlglot transpiles silently but wrongly: rejected per target.

sqlglot passes some DuckDB constructs through to engines that lack them, or
rewrites them with a different meaning (found by executing its output on
Postgres and Spark). A model using one of them
for such a target is a compile error naming the construct and its line,
never SQL that runs with another meaning.

Each rule is data: a test on a node of the tree parsed in the project dialect
and a hint; each engine's traits name the rules it refuses and the rewrites
it takes (featureduck.engines.traits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot import exp

from featureduck.compiler.meaning import keep_meaning
from featureduck.compiler.operand_types import is_visibly_date
from featureduck.compiler.parse import position
from featureduck.engines.traits import EngineTraits, engine_traits, engine_types
from featureduck.errors import SourceLocation, UnsupportedSqlError
from featureduck.project.functions import DeclaredFunction


@dataclass(frozen=True)
class Rule:
    construct: str  # the name engines' traits refuse it by (engines.traits)
    matches: Callable[[exp.Expr], bool]
    hint: str


def _star_with_qualify(node: exp.Expr) -> bool:
    """`SELECT * ... QUALIFY`: the subquery rewrite leaks its `_w` column."""
    return isinstance(node, exp.Select) and node.args.get("qualify") is not None and any(
        isinstance(e, exp.Star) for e in node.expressions
    )


def _huge_int(node: exp.Expr) -> bool:
    return isinstance(node, exp.DataType) and node.this in (exp.DataType.Type.INT128, exp.DataType.Type.UINT128)


RULES = (
    Rule("ASOF JOIN",
         lambda n: isinstance(n, exp.Join) and str(n.args.get("method") or "").upper() == "ASOF",
         "use a feature view's point-in-time join, or a window with LAST_VALUE"),
    Rule("SELECT * with QUALIFY", _star_with_qualify,
         "list the columns instead of * (the rewrite of QUALIFY as a subquery would add a column)"),
    Rule("HUGEINT", _huge_int, "use BIGINT or DECIMAL(38, 0)"),
    Rule("epoch_ms()",
         lambda n: isinstance(n, exp.UnixToTime) and n.args.get("scale") is not None,
         "its meaning depends on the argument's type; use to_timestamp(x / 1000) or epoch(ts) * 1000"),
    Rule("dayofweek()", lambda n: isinstance(n, exp.DayOfWeek),
         "use extract(dow from ts)"),
    Rule("GROUP BY ALL", lambda n: isinstance(n, exp.Group) and bool(n.args.get("all")),
         "list the grouping columns"),
    Rule("arg_max()/arg_min()", lambda n: isinstance(n, (exp.ArgMax, exp.ArgMin)),
         "use a window with row_number(), or first_value() ordered by the key"),
    Rule("STRUCT", lambda n: isinstance(n, exp.Struct),
         "select the fields as separate columns"),
    Rule("* EXCLUDE / * REPLACE",
         lambda n: isinstance(n, exp.Star) and bool(n.args.get("except_") or n.args.get("replace")),
         "list the columns"),
    Rule("time_bucket()", lambda n: isinstance(n, exp.DateBin),
         "use date_trunc(), or arithmetic on epoch seconds"),
    Rule("array_agg(... ORDER BY ...)",
         lambda n: isinstance(n, exp.ArrayAgg) and n.find(exp.Order) is not None,
         "Spark's collect_list does not keep an order; sort the array with array_sort over structs"),
    Rule("extract(epoch from ...)",
         lambda n: isinstance(n, exp.Extract) and n.this.name.upper() == "EPOCH",
         "use unix_timestamp(ts), written as epoch(ts) in DuckDB"),
    Rule("a negative list index", lambda n: isinstance(n, exp.Bracket) and len(n.expressions) == 1 and isinstance(
        n.expressions[0], exp.Neg), "Postgres arrays do not count from the end: index with array_length(l, 1) + 1 - n"),
    Rule("date_diff()", lambda n: isinstance(n, (exp.DateDiff, exp.TimestampDiff)),
         "Spark counts differently; date_diff in days, months, quarters, years, hours, minutes or seconds is rewritten, "
         "other parts (weeks) are not: subtract dates or epochs instead"),
)


# Node types that make a list, so `len()` of one is a list length.
_LISTS = (exp.ArrayAgg, exp.Array, exp.ArrayConcat)


def make_portable(tree: exp.Expr, dialect: str, traits: EngineTraits, path: str) -> None:
    """Rewrite what has one faithful spelling everywhere, then refuse the rest; `tree`
    is parsed in `dialect`, the project's.

    Divisions, roundings and bare DECIMALs keep their meaning (compiler.meaning). DuckDB's `len()`/`length()`
    takes strings and lists; sqlglot reads it as a string length, which Postgres
    and Spark refuse on arrays. Where the argument is visibly a list it becomes a
    list size (ARRAY_LENGTH, SIZE).
    """
    keep_meaning(tree, dialect, traits.dialect, path)
    for node in list(tree.find_all(exp.Length)):
        if isinstance(node.this, _LISTS):
            node.replace(exp.ArraySize(this=node.this))
    for name, rewrite in REWRITES.items():
        if name in traits.rewrites:
            rewrite(tree)
    check_portable(tree, traits, path)


# DuckDB's interval constructors (`to_days(n)`), which sqlglot passes through by name (some typed).
_INTERVAL_UNITS = {f"TO_{unit}S": unit for unit in ("SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR")}


def _interval_constructors_are_products(tree: exp.Expr) -> None:
    """`to_days(n)` is `n * INTERVAL '1' DAY`, which Postgres and Spark both have."""
    for node in list(tree.find_all(exp.Func)):
        anonymous = isinstance(node, exp.Anonymous)
        unit = _INTERVAL_UNITS.get(str(node.this).upper() if anonymous else node.sql_name())
        arguments = node.expressions if anonymous else [node.this]
        if unit and len(arguments) == 1 and isinstance(arguments[0], exp.Expr):
            interval = exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit))
            count = arguments[0].copy()
            count = count if isinstance(count, (exp.Column, exp.Literal)) else exp.paren(count)
            node.replace(exp.paren(exp.Mul(this=count, expression=interval)))


def _date_plus_interval_is_a_timestamp(tree: exp.Expr) -> None:
    """DuckDB (and Postgres) give a TIMESTAMP for `date ± interval`, Spark a
    DATE; where the date is visibly one, the sum is cast to keep DuckDB's type."""
    for node in list(tree.find_all(exp.Add, exp.Sub)):
        date, other = node.this, node.expression
        if isinstance(other, exp.Interval) and is_visibly_date(date) or isinstance(date, exp.Interval) and is_visibly_date(other):
            node.replace(exp.cast(node.copy(), exp.DataType.build("TIMESTAMP", dialect="duckdb")))


def _division_is_double(tree: exp.Expr) -> None:
    """DuckDB's `/` gives a DOUBLE whatever its operands; Spark's gives a
    DECIMAL when both are decimals (`x * 1.0 / n` among them), so a feature
    would change type. The dividend is cast to DOUBLE, as DuckDB computes it
    (Postgres gets the same cast from sqlglot)."""
    for node in list(tree.find_all(exp.Div)):
        if node.args.get("typed"):  # a division by type written for Spark (compiler.rounding), not DuckDB's `/`
            continue
        dividend = node.this
        if not (isinstance(dividend, exp.Cast) and dividend.to.this == exp.DataType.Type.DOUBLE):
            dividend.replace(exp.cast(dividend.copy(), exp.DataType.build("DOUBLE")))


def _subscripted_calls_in_parentheses(tree: exp.Expr) -> None:
    """`string_split(s, '-')[2]`: Postgres subscripts only a parenthesized call, which
    sqlglot does not add."""
    for node in list(tree.find_all(exp.Bracket)):
        if isinstance(node.this, exp.Func):
            node.set("this", exp.paren(node.this.copy()))


def _subscripts_are_element_at(tree: exp.Expr) -> None:
    """DuckDB's lists count from 1 (and from the end when negative); sqlglot shifts a literal
    index for Spark's 0-based `[]` but not an expression, so `l[i]` would read the next
    element. Spark's element_at counts as DuckDB does. String keys (maps, structs) stay."""
    for node in list(tree.find_all(exp.Bracket)):
        indexes = node.expressions
        if len(indexes) != 1 or isinstance(indexes[0], exp.Slice) or (isinstance(indexes[0], exp.Literal) and indexes[0].is_string):
            continue
        node.replace(exp.Anonymous(this="ELEMENT_AT", expressions=[node.this.copy(), _as_written(indexes[0])]))


def _as_written(index: exp.Expr) -> exp.Expr:
    """The index as the SQL wrote it: sqlglot's parser shifts a literal one (to count from
    0, negative ones too), an expression not."""
    literal = index.this if isinstance(index, exp.Neg) else index
    if isinstance(literal, exp.Literal) and literal.is_int:
        return exp.Literal.number(int(index.sql()) + 1 if isinstance(index, exp.Literal) else -int(literal.this) + 1)
    return index.copy()


def _split_is_string_to_array(tree: exp.Expr) -> None:
    """DuckDB's `string_split(s, sep)`, which sqlglot writes as SPLIT, Postgres lacks."""
    for node in list(tree.find_all(exp.Split)):
        node.replace(exp.Anonymous(this="STRING_TO_ARRAY", expressions=[node.this.copy(), node.expression.copy()]))


_CALENDAR_PARTS = {"YEAR": ("YEAR", None), "QUARTER": ("YEAR", ("QUARTER", 4)), "MONTH": ("YEAR", ("MONTH", 12))}
_CLOCK_SECONDS = {"HOUR": 3600, "MINUTE": 60, "SECOND": 1}


def _date_diff_counts_boundaries(tree: exp.Expr) -> None:
    """DuckDB's `date_diff(part, start, end)` counts the part's boundaries crossed; Spark's
    DATEDIFF with a unit counts whole units elapsed. Days, calendar parts and clock parts
    become arithmetic on the parts (BIGINT, as DuckDB's); weeks stay refused."""
    def call(name: str, *args: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=list(args))

    for node in list(tree.find_all(exp.DateDiff)):
        unit = str(node.args.get("unit") or "DAY").upper().strip("'")
        end, start = node.this, node.expression
        if unit == "DAY":
            counted = call("DATEDIFF", exp.cast(end.copy(), "DATE"), exp.cast(start.copy(), "DATE"))
        elif unit in _CALENDAR_PARTS:
            outer, inner = _CALENDAR_PARTS[unit]

            def ordinal(moment: exp.Expr, outer: str = outer, inner: tuple[str, int] | None = inner) -> exp.Expr:
                whole = call(outer, moment.copy())
                return whole if inner is None else exp.Add(this=exp.Mul(this=whole, expression=exp.Literal.number(inner[1])),
                                                           expression=call(inner[0], moment.copy()))

            counted = exp.Sub(this=exp.paren(ordinal(end)), expression=exp.paren(ordinal(start)))
        elif unit in _CLOCK_SECONDS:
            def epoch(moment: exp.Expr, unit: str = unit) -> exp.Expr:
                return call("UNIX_TIMESTAMP", call("DATE_TRUNC", exp.Literal.string(unit), exp.cast(moment.copy(), "TIMESTAMP")))

            counted = exp.Div(this=exp.paren(exp.Sub(this=epoch(end), expression=epoch(start))),
                              expression=exp.Literal.number(_CLOCK_SECONDS[unit]))
        else:
            continue
        node.replace(exp.cast(exp.paren(counted), "BIGINT"))


# What engines' traits take by name, in this order.
REWRITES: dict[str, Callable[[exp.Expr], None]] = {
    "interval products": _interval_constructors_are_products,
    "date plus interval is a timestamp": _date_plus_interval_is_a_timestamp,
    "division is double": _division_is_double,
    "split is string_to_array": _split_is_string_to_array,
    "date_diff counts boundaries": _date_diff_counts_boundaries,
    "subscripts are element_at": _subscripts_are_element_at,
    "subscripted calls in parentheses": _subscripted_calls_in_parentheses,
}


def check_python_functions(tree: exp.Expr, functions: Mapping[str, DeclaredFunction], traits: EngineTraits, path: str) -> None:
    """A call of a project's Python function, on a target that cannot run Python."""
    if traits.python_udfs or not functions:
        return
    runners = " or ".join(t for t in engine_types() if engine_traits(t).python_udfs)
    by_name = {name.lower(): declared for name, declared in functions.items()}
    for node in tree.find_all(exp.Anonymous):
        declared = by_name.get(str(node.this).lower())
        if declared is not None:
            raise UnsupportedSqlError(
                f"{node.this}() is a Python function ({declared.path}:{declared.line}); {traits.type} cannot run Python",
                SourceLocation(path, *position(node)),
                f"build this model on a {runners} target, or write the logic in SQL (a macro)",
            )


def check_portable(tree: exp.Expr, traits: EngineTraits, path: str) -> None:
    """Raise UnsupportedSqlError for the first construct the target would get wrong."""
    rules = [rule for rule in RULES if rule.construct in traits.refuses]
    if not rules:
        return
    for node in tree.walk():
        for rule in rules:
            if rule.matches(node):
                raise UnsupportedSqlError(
                    f"{rule.construct} cannot be compiled for {traits.dialect} without changing its meaning",
                    SourceLocation(path, *position(node)),
                    rule.hint,
                )
