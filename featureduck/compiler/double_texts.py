"""A double cast to text reads on every target as in the project dialect.

Each engine writes a double's text its own way, and sqlglot writes the cast
unchanged: DuckDB writes the shortest digits that read back to the value, in
plain notation from 1e-4 up to 1e16 with `.0` on a whole number (`2.0`,
`1000000000000000.0`, `1e+16`, `inf`, `nan`); Postgres the same digits, plain up
to 1e15 only and a whole number bare (`2`, `1e+15`, `Infinity`, `NaN`); Spark
Java's text (`2.0`, `1.0E16`). So `cast(amount as varchar)`, as a key or a label,
gave other values on another engine.

- DuckDB's text on Postgres is rewritten from Postgres's (its digits are the same
  shortest ones with `extra_float_digits = 1`, which the Postgres adapter sets),
  chosen by `pg_typeof()` where the SQL does not show the operand's type;
- elsewhere a double's text cannot be written as the project dialect's, and a
  cast of one is refused: at compile time where the SQL shows a double, else by
  the target's `typeof()`, which its planner folds, as an error naming the
  model's line when built (every other cast runs as written).

The test is tests/integration/postgres/test_double_texts_across_dialects.py,
on random doubles of every magnitude against DuckDB's own cast.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.dialect_facts import dialect_facts
from featureduck.compiler.operand_types import same_cast, visible_kind
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError

_TEXT = exp.DataType.build("TEXT")


def keep_double_texts(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each cast of a double to text gives in `target` the text `dialect` gives."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target or source is None or dest is None or source.double_text == dest.double_text:
        return
    for node in reversed(list(tree.find_all(exp.Cast))):  # the inner first (try_cast too): an outer one copies them
        if not node.to.is_type(*exp.DataType.TEXT_TYPES) or _visibly_no_double(node.this, dialect):
            continue
        if source.scientific_literal_is_double and not dest.scientific_literal_is_double:
            _scientific_literals_as_doubles(node.this)  # `2e0` is a double in the project's text, a numeric on the target
        where, text = located(node, path), exp.cast(node.this.copy(), _TEXT)
        refused = (f"{where}: a double cast to text is written another way on {target} than in {dialect} (a whole number, a "
                   "large one, infinity), so it cannot be built there; cast it to a DECIMAL first, e.g. "
                   "cast(cast(x as decimal(18, 4)) as varchar)")
        visibly_double = visible_kind(node.this, dialect) == "double"
        if (source.double_text, dest.double_text) == ("shortest_plain_below_1e16", "shortest_plain_below_1e15") and not (
                visibly_double and not _visibly_double(node.this)):
            big = (f"{where}: a double from 1e16 to 1e22 has other digits in {target}'s text than in {dialect}'s, so its "
                   "text cannot be built there; cast it to a DECIMAL first. The double: ")
            rewritten = same_cast(node, _duckdb_text_from_postgres(text, dest.refusal(big, text)))
            if visibly_double:
                node.replace(rewritten)
                continue
            node.replace(exp.Case(ifs=[exp.If(this=_pg_type_is(node.this, "double precision"), true=rewritten),
                                       exp.If(this=_pg_type_is(node.this, "real"), true=dest.refusal(refused, text))],
                                  default=node.copy()))
            continue
        if visibly_double:  # a real, a scientific literal (a numeric in Postgres), or on a target of another text
            raise UnsupportedSqlError(refused.removeprefix(f"{where}: "), where,
                                      "cast it to a DECIMAL first, e.g. cast(cast(x as decimal(18, 4)) as varchar)")
        node.replace(exp.Case(ifs=[exp.If(this=dest.is_double(node.this), true=dest.refusal(refused, text))], default=node.copy()))


def _visibly_no_double(operand: exp.Expr, dialect: str) -> bool:
    """An integer, a decimal, a string, a boolean, a date by the SQL alone: its text is no double's."""
    while isinstance(operand, exp.Paren):
        operand = operand.this
    if isinstance(operand, (exp.Cast, exp.TryCast)):
        return not operand.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.UNKNOWN)
    if isinstance(operand, exp.Literal):
        return operand.is_string or visible_kind(operand, dialect) == "exact"
    return isinstance(operand, (exp.Count, exp.Boolean, exp.Null, exp.Predicate, exp.Connector, exp.Not, exp.CurrentDate,
                                exp.CurrentTimestamp))


def _scientific_literals_as_doubles(operand: exp.Expr) -> None:
    for literal in list(operand.find_all(exp.Literal)):
        if not literal.is_string and "e" in literal.this.lower() and not (
                isinstance(literal.parent, exp.Cast) and literal.parent.to.is_type(exp.DataType.Type.DOUBLE)):
            literal.replace(exp.cast(literal.copy(), exp.DataType.build("DOUBLE")))


def _visibly_double(operand: exp.Expr) -> bool:
    """A cast to DOUBLE (negated too): a REAL's text, and a scientific literal's (a numeric in Postgres), are refused."""
    while isinstance(operand, (exp.Paren, exp.Neg)):
        operand = operand.this
    return isinstance(operand, (exp.Cast, exp.TryCast)) and operand.to.is_type(exp.DataType.Type.DOUBLE)


def _pg_type_is(value: exp.Expr, name: str) -> exp.Expr:
    return exp.EQ(this=exp.cast(exp.func("pg_typeof", value.copy()), _TEXT), expression=exp.Literal.string(name))


def _duckdb_text_from_postgres(text: exp.Expr, refusal: exp.Expr) -> exp.Expr:
    """Postgres's text of a double made DuckDB's: the same digits; `.0` on a whole number,
    plain notation for e+15 (16 digits before the point), DuckDB's names for the
    infinities and NaN. From 2^54 to about 2^70 Postgres writes a double's exact
    integer digits where DuckDB writes the shortest that read back (measured on
    200,000 random doubles: no other difference), which SQL cannot find: there the
    text is `refusal`, which fails the query."""
    def call(name: str, *args: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=list(args))

    def string(value: str) -> exp.Expr:
        return exp.Literal.string(value)

    sign = exp.Case(ifs=[exp.If(this=exp.EQ(this=call("LEFT", text.copy(), exp.Literal.number(1)), expression=string("-")),
                                true=string("-"))], default=string(""))
    digits = call("REGEXP_REPLACE", call("SPLIT_PART", text.copy(), string("e"), exp.Literal.number(1)), string("[-.]"),
                  string(""), string("g"))
    plain = exp.Case(
        ifs=[exp.If(this=exp.LTE(this=call("LENGTH", digits), expression=exp.Literal.number(16)),
                    true=exp.DPipe(this=exp.DPipe(this=sign, expression=call("RPAD", digits.copy(), exp.Literal.number(16),
                                                                                  string("0"))), expression=string(".0")))],
        default=exp.DPipe(this=exp.DPipe(this=exp.DPipe(this=sign.copy(), expression=call("LEFT", digits.copy(),
                                                                                             exp.Literal.number(16))),
                                         expression=string(".")),
                          expression=call("SUBSTR", digits.copy(), exp.Literal.number(17))))
    named = [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf")]
    return exp.Case(ifs=[
        *(exp.If(this=exp.EQ(this=text.copy(), expression=string(pg)), true=string(duck)) for pg, duck in named),
        exp.If(this=exp.RegexpLike(this=text.copy(), expression=string("e\\+(1[6-9]|2[01])$")),
               true=refusal),
        exp.If(this=exp.RegexpLike(this=text.copy(), expression=string("^-?[0-9]+$")), true=exp.DPipe(this=text.copy(),
                                                                                                         expression=string(".0"))),
        exp.If(this=exp.RegexpLike(this=text.copy(), expression=string("e\\+15$")), true=plain),
    ], default=text.copy())
