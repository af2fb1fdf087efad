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
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

Kind = Literal["double", "exact", "unknown"]  # exact: an integer or a decimal

AVERAGES = (exp.Avg, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
_VOLATILE = (exp.Rand, exp.Randn, exp.Uuid)
_VOLATILE_NAMES = {"random", "gen_random_uuid", "uuid", "nextval", "setseed", "clock_timestamp"}
MATH_OF_NUMERICS = (exp.Sqrt, exp.Exp, exp.Ln, exp.Log, exp.Pow)
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


def typed_as_in_postgres(value: exp.Expr, path: str) -> exp.Expr:
    """An expression DuckDB and Spark type as a double where Postgres types `value` as one.
    Postgres averages integers and numerics to a numeric (a double on DuckDB and
    Spark), which a sum's type tells apart; its `/` gives what a product of the same
    operands gives (DuckDB's `//` and Spark's `/` of decimals give a double); its
    sqrt(), exp(), ln(), log() and power() of a numeric give a numeric (a double
    elsewhere), told by the arguments' types where the SQL shows them."""
    probe = exp.Paren(this=value.copy())  # a parent, so that the value itself can be replaced
    for node in reversed(list(probe.find_all(*AVERAGES, *MATH_OF_NUMERICS, exp.Div, exp.IntDiv))):
        if isinstance(node, AVERAGES):
            node.replace(exp.Sum(this=node.this.copy()))
        elif isinstance(node, MATH_OF_NUMERICS):
            if _math_gives_numeric(node, path):
                node.replace(exp.cast(exp.Null(), exp.DataType.build("DECIMAL(38, 10)")))
        else:
            node.replace(exp.Mul(this=node.this.copy(), expression=node.expression.copy()))
    return probe.this


def _math_gives_numeric(node: exp.Expr, path: str) -> bool:
    """Whether Postgres's sqrt()/exp()/ln()/log()/power() gives a numeric here: of a
    numeric among its arguments and no double (integers alone are read as doubles)."""
    kinds = set()
    for argument in (node.this, node.args.get("expression")):
        if argument is None:
            continue
        while isinstance(argument, (exp.Paren, exp.Neg)):
            argument = argument.this
        if isinstance(argument, (exp.Cast, exp.TryCast)) and argument.to.is_type(*exp.DataType.INTEGER_TYPES):
            kinds.add("integer")
        elif isinstance(argument, (exp.Cast, exp.TryCast)) and argument.to.is_type(*_DOUBLES):
            kinds.add("double")
        elif isinstance(argument, (exp.Cast, exp.TryCast)) and argument.to.is_type(exp.DataType.Type.DECIMAL):
            kinds.add("numeric")
        elif isinstance(argument, exp.Literal) and not argument.is_string:
            kinds.add("integer" if argument.is_int else "numeric")  # Postgres reads 2.5 and 1e3 as numerics
        else:
            raise UnsupportedSqlError(
                f"`{node.sql('postgres')}` gives a numeric of a numeric in postgres and a double elsewhere, and the model "
                "does not show its argument's type, which the rounding around it depends on", located(node, path),
                "cast the argument, e.g. sqrt(x::float8) or sqrt(x::numeric(38, 10))")
    return "numeric" in kinds and "double" not in kinds


def is_volatile(value: exp.Expr) -> bool:
    """Whether each reading of `value` may give another value (a rewrite that reads it twice would differ)."""
    return any(isinstance(n, _VOLATILE) or (isinstance(n, exp.Anonymous) and str(n.this).lower() in _VOLATILE_NAMES)
               for n in value.walk())


def is_visibly_date(node: exp.Expr) -> bool:
    """A DATE by the SQL alone: `current_date`, a date literal or a cast to DATE."""
    return isinstance(node, exp.CurrentDate) or (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE)


def integer_literal(value: exp.Expr | None) -> int | None:
    """An integer literal's value (a negative one too); None for anything else."""
    literal = value.this if isinstance(value, exp.Neg) else value
    if isinstance(literal, exp.Literal) and literal.is_int:
        return -int(literal.this) if isinstance(value, exp.Neg) else int(literal.this)
    return None


def typeof_in(value: exp.Expr, type_names: tuple[str, ...]) -> exp.Expr:
    """Whether the target's typeof() names `value`'s type one of `type_names` (its planner folds it)."""
    return exp.In(this=exp.func("typeof", value), expressions=[exp.Literal.string(n) for n in type_names])


def same_cast(node: exp.Cast, value: exp.Expr) -> exp.Cast:
    """The same cast (a try_cast stays one) of another value: what a rewrite of an operand keeps."""
    cast = node.copy()
    cast.set("this", value)
    return cast
