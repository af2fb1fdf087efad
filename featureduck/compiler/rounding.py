"""round() keeps its meaning when a model is compiled for another dialect.

The dialects round a value halfway between two integers differently, and sqlglot
writes `round()` unchanged:

- Postgres rounds a double half to even (`round(2.5)` is 2) and a numeric half
  away from zero (3); it has no round of a double to some digits;
- DuckDB and Spark round half away from zero, whatever the type;
- to some digits, DuckDB rounds a double's product with the power of ten
  (`round(1.005, 2)` is 1.0: 100.49999999999999 rounded), Spark the decimal the
  double prints as (1.01).

Each is written here in the target's own terms, from the dialects' rows in
compiler.dialect_facts. Where the SQL does not show the operand's type
(compiler.operand_types), the rewrite holds for every type: the correction tests
the value (exact in floating point, both operands being within a factor of two)
or `typeof()` of an expression typed as Postgres types the value. A correction
that repeats the value would draw a random value anew each time, so rounding one
is refused; so is Spark's rounding of a double to digits on DuckDB, which has no
round of the decimal a double prints as.
DuckDB's product that overflows (a double above 1e306 rounded to digits) is kept
as it is by DuckDB and infinite on Spark: the one case not carried over.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from featureduck.compiler.operand_types import Kind, integer_literal, is_volatile, typed_as_in_postgres, typeof_in, visible_kind
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError


def keep_rounding(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each round() means in `target` what it
    meant in `dialect`."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target or source is None or dest is None:
        return
    for node in reversed(list(tree.find_all(exp.Round))):  # the inner first: an outer one copies them
        kind = visible_kind(node.this, dialect)
        if kind == "exact":  # an integer's or a decimal's half is rounded away from zero everywhere
            continue
        digits = node.args.get("decimals")
        places = _places(digits)
        if places == 0 and (digits is None or source.double_digits != "none"):  # Postgres's round(x, 0) is a numeric's
            rewrite = _halves(node, kind, source, dest, path)
        else:
            rewrite = _digits(node, places, (dialect, source), (target, dest), path)
        if rewrite is not None:
            node.replace(rewrite)


def _halves(node: exp.Round, kind: Kind, source: DialectFacts, dest: DialectFacts, path: str) -> exp.Expr | None:
    """round(x): a double's half the source's way."""
    if source.double_halves == dest.double_halves:
        return None
    if source.double_halves == "even":
        if kind == "double":
            return dest.half_even(node.this.copy())
        if not dest.double_type_names:
            raise UnsupportedSqlError(f"`{node.sql()}` rounds by its value's type, which the model does not show and the target "
                                      "cannot tell", located(node, path), "cast the value to a double or to a decimal")
        return _half_even_if_double(node, dest, path)
    return _half_away(node, path)


def _digits(node: exp.Round, places: int | None, source: tuple[str, DialectFacts], dest: tuple[str, DialectFacts],
            path: str) -> exp.Expr | None:
    """round(x, n): a double's digits the source's way (a dialect without one has no meaning to keep)."""
    (dialect, source_facts), (target, dest_facts) = source, dest
    ways = (source_facts.double_digits, dest_facts.double_digits)
    if ways == ("product", "printed"):
        return _product(node, places, dialect, target, path)
    if ways == ("printed", "product"):
        raise UnsupportedSqlError(
            f"`{node.sql(dialect)}` rounds a double as {dialect} does (the decimal it prints as, so 1.005 gives 1.01), "
            f"which {target}'s round does not (it rounds the product with the power of ten: 1.0)", located(node, path),
            "cast the value to a decimal of the digits it needs first, e.g. round(cast(x as decimal(38, 6)), 2)")
    return None


def _half_even_if_double(node: exp.Round, dest: DialectFacts, path: str) -> exp.Expr:
    """Postgres's round by type: half to even of a double, half away of anything else."""
    value = node.this
    is_double = typeof_in(typed_as_in_postgres(value, path), dest.double_type_names)
    if dest.half_even_keeps_type:  # either spelling gives the type round gives, and typeof() never runs the value
        return exp.If(this=is_double, true=dest.half_even(value.copy()), false=exp.func("round", value.copy()))
    # the target rounded a half away: back by one where that made an odd integer of a double's half
    _refuse_volatile(node, path)
    rounded = exp.func("round", value.copy())
    away_from_half = exp.EQ(this=exp.Sub(this=exp.func("abs", rounded.copy()), expression=exp.func("abs", value.copy())),
                            expression=exp.Literal.number(0.5))
    odd = exp.NEQ(this=exp.Mod(this=rounded.copy(), expression=exp.Literal.number(2)), expression=exp.Literal.number(0))
    back = exp.cast(exp.and_(is_double, away_from_half, odd), exp.DataType.build("INT"))
    return exp.Sub(this=rounded, expression=exp.Mul(this=exp.func("sign", value.copy()), expression=back))


def _half_away(node: exp.Round, path: str) -> exp.Expr:
    """Half away from zero of any type where round takes a double's half to even: its
    round, one further where that rounded a half (the value then half more than the
    integer's size)."""
    _refuse_volatile(node, path)
    value = node.this
    rounded = exp.func("round", value.copy())
    at_half = exp.EQ(this=exp.Sub(this=exp.func("abs", value.copy()), expression=exp.func("abs", rounded.copy())),
                     expression=exp.Literal.number(0.5))
    further = exp.Mul(this=exp.func("sign", value.copy()), expression=exp.cast(at_half, exp.DataType.build("INT")))
    return exp.paren(exp.Add(this=rounded, expression=further))


def _product(node: exp.Round, places: int | None, dialect: str, target: str, path: str) -> exp.Expr:
    """DuckDB's round to digits on Spark: of a double, the product with the power of ten
    rounded (Spark's round of an integral-valued double is exact), then divided back;
    of a decimal the same digits, exactly. The power is a decimal, so an integer's
    product cannot overflow and a double's stays a double."""
    if places is None:
        raise UnsupportedSqlError(
            f"`{node.sql(dialect)}` rounds to a number of digits the SQL does not show; {dialect} rounds a double's product "
            f"with the power of ten, which {target}'s round does not", located(node, path),
            "round to a literal number of digits, or cast the value to a decimal")
    power = exp.cast(exp.Literal.number(10 ** abs(places)), exp.DataType.build(f"DECIMAL({abs(places) + 1}, 0)"))
    value = node.this.copy()
    scaled: exp.Expr
    # the divisions are by type: a decimal's quotient stays a decimal (the rewrite of DuckDB's `/` as a double's skips them)
    if places > 0:
        scaled = exp.Div(this=exp.func("round", exp.Mul(this=value, expression=power)), expression=power.copy(), typed=True)
    else:
        scaled = exp.Mul(this=exp.func("round", exp.Div(this=value, expression=power, typed=True)), expression=power.copy())
    return exp.func("round", scaled, exp.Literal.number(places))


def _places(digits: exp.Expr | None) -> int | None:
    """The number of digits rounded to, when the SQL writes it (none: 0)."""
    return 0 if digits is None else integer_literal(digits)


def _refuse_volatile(node: exp.Round, path: str) -> None:
    if is_volatile(node.this):
        raise UnsupportedSqlError(
            f"`{node.sql()}` rounds a random value; rounding it the way the project's dialect does on this target "
            "reads the value more than once", located(node, path),
            "compute the value in a CTE or subquery and round the column")
