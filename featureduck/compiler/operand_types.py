"""What an operand's type is, as far as the SQL shows it in every dialect.

sqlglot's type annotation follows DuckDB's rules (an average is a DOUBLE, `2.5` a
DOUBLE), while Postgres averages integers to a numeric and reads `2.5` as one; a
rewrite whose meaning depends on the type trusts only what no dialect reads
differently: a cast, a literal, count().
"""

from __future__ import annotations

from typing import Literal

from sqlglot import exp

from featureduck.compiler.dialect_facts import dialect_facts

Kind = Literal["double", "exact", "unknown"]  # exact: an integer or a decimal

_DOUBLES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
_EXACT = (*exp.DataType.INTEGER_TYPES, exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL)


def visible_kind(operand: exp.Expr, dialect: str) -> Kind:
    """double, exact, or unknown: the operand's type where every dialect reads it alike."""
    while isinstance(operand, (exp.Paren, exp.Neg)):
        operand = operand.this
    if isinstance(operand, (exp.Cast, exp.TryCast)):
        return "double" if operand.to.is_type(*_DOUBLES) else "exact" if operand.to.is_type(*_EXACT) else "unknown"
    if isinstance(operand, exp.Count):
        return "exact"
    if isinstance(operand, exp.Literal) and not operand.is_string:
        facts = dialect_facts(dialect)
        if "e" in operand.this.lower():
            return "double" if facts is not None and facts.scientific_literal_is_double else "exact" if facts else "unknown"
        return "exact"
    return "unknown"
