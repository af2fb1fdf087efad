"""A cast of a fraction to an integer keeps its meaning on every target.

DuckDB and Postgres round a fraction cast to an integer by its type: a double's
half to even (`cast(2.5::double as int)` is 2), a decimal's away from zero (3);
Spark truncates it (2.7 gives 2), and sqlglot writes the cast unchanged, so
`cast(epoch(ts) / 3600 as int)` put a row in another hour's bucket on Spark.
Each is written here in the target's terms, from the dialects' rows in
compiler.dialect_facts:

- rounded by type, on Spark: `typeof()` picks Spark's rounding of the value's
  type (Spark folds the choice away when it plans the query);
- truncated, on DuckDB and Postgres: the value's exact digits truncated, read
  by a cast to DECIMAL(38, 18) on DuckDB (it holds every integer a cast can
  give, a double's digits, a boolean and a string) and from the value's text on
  Postgres (whose cast of a double to a numeric keeps 15 digits, and which has
  no cast of a boolean to one); a truncation that reads a random value twice is
  refused;
- between DuckDB and Postgres, which round alike, only an average's type
  differs (a double on DuckDB, a numeric of integers on Postgres): the target's
  is made the source's.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from featureduck.compiler.operand_types import (
    AVERAGES,
    MATH_OF_NUMERICS,
    is_volatile,
    same_cast,
    typed_as_in_postgres,
    typeof_in,
    visible_kind,
)
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

_EXACT = exp.DataType.build("DECIMAL(38, 18)")  # 20 digits hold every integer type's range, 18 a double's fraction


def keep_integer_casts(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each cast to an integer type means in
    `target` what it meant in `dialect`."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target or source is None or dest is None:
        return
    for node in reversed(list(tree.find_all(exp.Cast))):  # the inner first (try_cast too): an outer one copies them
        if not node.to.is_type(*exp.DataType.INTEGER_TYPES) or _is_whole(node.this):
            continue
        if source.fraction_to_integer == dest.fraction_to_integer == "by_type":
            rewrite = _averages_as_in(node, source, dest, path)
        elif source.fraction_to_integer == "by_type":
            rewrite = _rounded_by_type(node, dialect, (source, dest), path)
        elif dest.fraction_to_integer == "by_type":
            rewrite = _truncated(node, dialect, dest, path)
        else:
            rewrite = None
        if rewrite is not None:
            node.replace(rewrite)


def _is_whole(operand: exp.Expr) -> bool:
    """An integer, a boolean or a string literal: cast alike everywhere (a string of a fraction fails or is null)."""
    while isinstance(operand, exp.Paren):
        operand = operand.this
    if isinstance(operand, exp.Cast):
        return operand.to.is_type(*exp.DataType.INTEGER_TYPES, exp.DataType.Type.BOOLEAN)
    if isinstance(operand, exp.Literal):
        return operand.is_string or operand.is_int
    return isinstance(operand, (exp.Count, exp.Boolean, exp.Predicate, exp.Connector, exp.Not, exp.Null))


def _averages_as_in(node: exp.Cast, source: DialectFacts, dest: DialectFacts, path: str) -> exp.Expr | None:
    """Rounded by type on both: the operand typed as the source types it."""
    if source.averages == "double" and node.this.find(*AVERAGES):  # the target's average of integers is exact: a double
        return same_cast(node, _averages_doubled(node.this))
    # Postgres's average of integers, its quotient and its sqrt() of a decimal are numerics, rounded half away
    if source.averages == "exact_of_exact" and dest.double_type_names and node.this.find(*AVERAGES, *MATH_OF_NUMERICS, exp.Div, exp.IntDiv):
        is_double = typeof_in(typed_as_in_postgres(node.this, path), dest.double_type_names)
        return exp.If(this=is_double, true=node.copy(), false=same_cast(node, exp.func("round", node.this.copy())))
    return None


def _averages_doubled(value: exp.Expr) -> exp.Expr:
    holder = exp.Paren(this=value.copy())  # a parent, so that the value itself can be replaced
    for average in list(holder.find_all(*AVERAGES)):
        whole: exp.Expr = average
        while isinstance(whole.parent, (exp.Window, exp.Filter)) and whole.arg_key == "this":  # avg(x) filter (...) over (...)
            whole = whole.parent
        whole.replace(exp.cast(whole.copy(), exp.DataType.build("DOUBLE")))
    return holder.this


def _rounded_by_type(node: exp.Cast, dialect: str, facts: tuple[DialectFacts, DialectFacts], path: str) -> exp.Expr:
    """Rounded by type, on a target that truncates: its rounding of each type, picked by typeof()."""
    source, dest = facts
    value = _averages_doubled(node.this) if source.averages == "double" else node.this.copy()
    kind = visible_kind(value, dialect)
    half_even = same_cast(node, dest.half_even(exp.cast(value.copy(), exp.DataType.build("DOUBLE"))))
    half_away = same_cast(node, exp.func("round", exp.cast(value.copy(), _EXACT.copy())))
    if kind == "double":
        return half_even
    if kind == "exact":
        return half_away
    probe = typed_as_in_postgres(value, path) if source.averages == "exact_of_exact" else value.copy()
    # a double's as the source types it (Postgres's average of integers is a numeric), an integer's as the value is typed
    return exp.If(this=typeof_in(probe, dest.double_type_names), true=half_even,
                  false=exp.If(this=typeof_in(value.copy(), dest.whole_type_names), true=same_cast(node, value.copy()), false=half_away))


def _truncated(node: exp.Cast, dialect: str, dest: DialectFacts, path: str) -> exp.Expr:
    """Truncated, on a target that rounds by type: the truncation of the value's digits."""
    if visible_kind(node.this, dialect) != "unknown":
        return same_cast(node, exp.func("trunc", node.this.copy()))
    if dest.exact_digits == "decimal":
        exact = node.copy()  # as `node` casts: a try_cast's bad string is null
        exact.set("to", _EXACT.copy())
        return same_cast(node, exp.func("trunc", exact))
    if is_volatile(node.this):
        raise UnsupportedSqlError(
            f"`{node.sql(dialect)}` truncates a random value; truncating it as {dialect} does on this target reads "
            "the value more than once", located(node, path), "compute the value in a CTE or subquery and cast the column")
    text = exp.cast(node.this.copy(), exp.DataType.build("TEXT"))
    digits = exp.func("trunc", exp.cast(text.copy(), exp.DataType.build("DECIMAL")))
    value = exp.Case(this=text, ifs=[exp.If(this=exp.Literal.string(str(flag).lower()), true=exp.Literal.number(int(flag)))
                                     for flag in (True, False)], default=digits)
    return same_cast(node, value)
