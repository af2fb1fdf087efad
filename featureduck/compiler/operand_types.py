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

AVERAGES = (exp.Avg, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
_VOLATILE = (exp.Rand, exp.Randn, exp.Uuid)
_VOLATILE_NAMES = {"random", "gen_random_uuid", "uuid", "nextval", "setseed", "clock_timestamp"}
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


def typed_as_in_postgres(value: exp.Expr) -> exp.Expr:
    """An expression DuckDB and Spark type as a double where Postgres types `value` as one.
    Postgres averages integers and numerics to a numeric (a double on DuckDB and
    Spark), which a sum's type tells apart; its `/` gives what a product of the same
    operands gives (DuckDB's `//` and Spark's `/` of decimals give a double)."""
    probe = exp.Paren(this=value.copy())  # a parent, so that the value itself can be replaced
    for node in reversed(list(probe.find_all(*AVERAGES, exp.Div, exp.IntDiv))):
        if isinstance(node, AVERAGES):
            node.replace(exp.Sum(this=node.this.copy()))
        else:
            node.replace(exp.Mul(this=node.this.copy(), expression=node.expression.copy()))
    return probe.this


def is_volatile(value: exp.Expr) -> bool:
    """Whether each reading of `value` may give another value (a rewrite that reads it twice would differ)."""
    return any(isinstance(n, _VOLATILE) or (isinstance(n, exp.Anonymous) and str(n.this).lower() in _VOLATILE_NAMES)
               for n in value.walk())
