"""Division keeps its meaning when a model is compiled for another dialect.

The dialects divide in three ways, and sqlglot spells only one of them right
everywhere:

- by the operands' types: Postgres's `/` and DuckDB's `//` give the integer
  quotient (toward zero) of two integers and the fraction of anything else;
- always the fraction: DuckDB's and Spark's `/` (sqlglot casts the dividend
  to a double for Postgres);
- always the integer quotient: Postgres's `div()` and Spark's `DIV`.

Without the operands' types sqlglot writes Postgres's `7 / 2` (3) as DuckDB's
`7 / 2` (3.5), DuckDB's `7.5 // 2` (3.75) as Postgres's `DIV(7.5, 2)` (3) and
Spark's `7.5 DIV 2` (3) as DuckDB's `7.5 // 2`. Each form is written here in the
target's own spelling of it: DuckDB's `//` and Postgres's `/` are by type; Spark
has no such operator, so a division by type for Spark needs operands whose types
the model shows (a literal, a cast, count(*)), and is otherwise an error that
says how to write it, never a quotient of another kind.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.optimizer.annotate_types import annotate_types

from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

_BY_TYPE_OPERATOR = {"duckdb": exp.IntDiv}  # a dialect whose `//` divides by type (its `/` never does)
_FRACTIONS = (*exp.DataType.REAL_TYPES, exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL)


def keep_divisions(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each division means in `target` what it
    meant in `dialect`."""
    if dialect == target:
        return
    by_type_div = Dialect.get_or_raise(dialect).TYPED_DIVISION  # its `/` divides by type
    for node in reversed(list(tree.find_all(exp.Div, exp.IntDiv))):  # the inner first: an outer one copies them
        if isinstance(node, exp.Div):
            if by_type_div and node.args.get("typed"):
                _replace(node, _by_type(node, dialect, target, path), path)
        elif dialect in _BY_TYPE_OPERATOR:
            _replace(node, _by_type(node, dialect, target, path), path)
        else:  # the integer quotient, whatever the operands
            _replace(node, _quotient(node, target), path)


def _by_type(node: exp.Binary, dialect: str, target: str, path: str) -> exp.Expr:
    """The target's division by the operands' types."""
    dividend, divisor = node.this.copy(), node.expression.copy()
    if target in _BY_TYPE_OPERATOR:
        return _BY_TYPE_OPERATOR[target](this=dividend, expression=divisor)
    if Dialect.get_or_raise(target).TYPED_DIVISION:
        return exp.Div(this=dividend, expression=divisor, typed=True)
    kinds = {_kind(dividend, dialect), _kind(divisor, dialect)}
    if kinds == {"integer"}:
        return exp.IntDiv(this=dividend, expression=divisor)
    if "fraction" in kinds:
        return exp.Div(this=dividend, expression=divisor)
    raise UnsupportedSqlError(
        f"`{node.sql(dialect)}` divides by its operands' types in {dialect} (two integers give their integer quotient), which "
        f"{target} has no division for, and the model does not show both types", located(node, path),
        "cast both operands to an integer type for the integer quotient, or one to a decimal or double for the fraction",
    )


def _quotient(node: exp.Binary, target: str) -> exp.Expr:
    """The target's integer quotient, toward zero, of any operands."""
    dividend, divisor = node.this.copy(), node.expression.copy()
    if target in _BY_TYPE_OPERATOR:  # its `//` gives the fraction of fractions: truncated
        return exp.func("trunc", _BY_TYPE_OPERATOR[target](this=dividend, expression=divisor))
    return exp.IntDiv(this=dividend, expression=divisor)


def _kind(operand: exp.Expr, dialect: str) -> str:
    """integer, fraction, or unknown: what the operand's type is, as far as the SQL shows it."""
    typed = annotate_types(operand.copy(), dialect=dialect).type
    if typed is None or typed.is_type(exp.DataType.Type.UNKNOWN):
        return "unknown"
    if typed.is_type(*exp.DataType.INTEGER_TYPES):
        return "integer"
    return "fraction" if typed.is_type(*_FRACTIONS) else "unknown"


def _replace(node: exp.Expr, new: exp.Expr, path: str) -> None:
    if node.parent is None:  # a whole expression (a snapshot's config): nowhere to put its rewrite
        raise UnsupportedSqlError(f"`{node.sql()}`: a division alone cannot be compiled for another dialect", located(node, path),
                                  "wrap it in a select, or write it in the target's dialect")
    node.replace(new)
