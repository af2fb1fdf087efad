"""A DECIMAL written without its precision keeps the size its dialect gives it.

Each dialect sizes a bare DECIMAL its own way: DuckDB as DECIMAL(18, 3), Spark as
DECIMAL(10, 0), and Postgres's `numeric` keeps every digit of its value. sqlglot
writes the bare type for every target, so `CAST(x AS DECIMAL)` of 12.3456 would be
12.346 on DuckDB, 12 on Spark and 12.3456 on Postgres. DuckDB's parser already
writes its size out; Spark's is written from its row (compiler.dialect_facts), and
Postgres's `numeric` has no
fixed size to write: for another target it must be given one, unless the value is
an integer (its quotient from `div()` among them), which DECIMAL(38, 0) holds, or
a literal, whose digits give the size.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.dialect_facts import dialect_facts
from featureduck.compiler.operand_types import visible_kind
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

_WHOLE = (38, 0)


def keep_decimal_sizes(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Write out the size each bare DECIMAL of `tree` (parsed in `dialect`) has there."""
    source = dialect_facts(dialect)
    if dialect == target or source is None:
        return
    for node in list(tree.find_all(exp.DataType)):
        if not node.is_type(exp.DataType.Type.DECIMAL) or node.expressions:
            continue
        if source.bare_decimal is not None:
            _sized(node, source.bare_decimal)
            continue
        cast = node.parent
        operand = cast.this if isinstance(cast, (exp.Cast, exp.TryCast)) else None
        if operand is not None and (isinstance(operand, exp.IntDiv) or _is_integer(operand, dialect)):
            _sized(node, _WHOLE)
        elif isinstance(operand, exp.Literal) and not operand.is_string and "e" not in operand.this.lower():
            _sized(node, _literal_size(operand.this))
        else:
            shown = f"{operand.sql(dialect)}::numeric" if operand is not None else "numeric"
            raise UnsupportedSqlError(
                f"`{shown}` is a numeric without a precision, which keeps every digit in {dialect}; "
                f"a {target} DECIMAL has a fixed number of digits and would round the value", located(node, path),
                "give the precision and scale the values need, e.g. numeric(38, 6)")


def _is_integer(operand: exp.Expr, dialect: str) -> bool:
    if isinstance(operand, (exp.Cast, exp.TryCast)):
        return operand.to.is_type(*exp.DataType.INTEGER_TYPES)
    return visible_kind(operand, dialect) == "exact" and isinstance(operand, (exp.Literal, exp.Count)) and (
        not isinstance(operand, exp.Literal) or operand.is_int)


def _literal_size(number: str) -> tuple[int, int]:
    """The precision and scale a decimal literal's digits take."""
    whole, _, fraction = number.lstrip("+-").partition(".")
    return max(len(whole.lstrip("0")) + len(fraction), 1), len(fraction)


def _sized(node: exp.DataType, size: tuple[int, int]) -> None:
    node.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(n)) for n in size])
