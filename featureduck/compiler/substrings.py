"""substring() keeps its meaning when a model is compiled for another dialect.

The dialects read a start below 1 and a negative length differently, and sqlglot
writes `substring()` unchanged:

- DuckDB counts a negative start from the end (`substring('hello', -3)` is
  'llo') and takes a negative length's characters before the start
  (`substring('hello', 3, -2)` is 'he');
- Spark counts a negative start from the end too, reads a start of 0 as 1
  (`substring('hello', 0, 2)` is 'he', DuckDB's and Postgres's 'h') and gives
  '' for a negative length;
- Postgres takes the positions as given (`substring('hello' from -3)` is
  'hello') and refuses a negative length.

Each reads the characters at positions [low, high) of the string; the rewrite
computes those from the project dialect's rule (compiler.dialect_facts) and
writes a start of at least 1 and a length of at least 0, which every dialect
reads alike. A start of 1 or more with no length or a length of 0 or more, as
literals, is left as written. The string and the positions may be read more
than once, so a random one is refused.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from featureduck.compiler.operand_types import integer_literal, is_volatile
from featureduck.compiler.parse import located
from featureduck.errors import UnsupportedSqlError


def keep_substrings(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each substring() means in `target` what
    it meant in `dialect`."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target or source is None or dest is None:
        return
    if (source.substring_start, source.substring_negative_length) == (dest.substring_start, dest.substring_negative_length):
        return
    for node in reversed(list(tree.find_all(exp.Substring))):  # the inner first: an outer one copies them
        start, length = node.args.get("start"), node.args.get("length")
        if start is None or _read_alike(start, length):
            continue
        if any(is_volatile(part) for part in (node.this, start, length) if part is not None):
            raise UnsupportedSqlError(
                f"`{node.sql(dialect)}` takes a substring of a random value or at random positions; writing it as {dialect} "
                "means it on this target reads them more than once", located(node, path),
                "compute the value in a CTE or subquery and take the substring of the column")
        node.replace(_positions(node.this, start, length, source))


def _read_alike(start: exp.Expr, length: exp.Expr | None) -> bool:
    """A start of 1 or more and no length or one of 0 or more, all literals: read alike everywhere."""
    first, count = integer_literal(start), integer_literal(length)
    return first is not None and first >= 1 and (length is None or (count is not None and count >= 0))


def _positions(text: exp.Expr, start: exp.Expr, length: exp.Expr | None, source: DialectFacts) -> exp.Expr:
    """The substring of positions [low, high) as `source` reads `start` and `length`, written
    with a start of at least 1 and a length of at least 0."""
    first = _first_position(text, start, source)
    if length is None:
        return exp.Substring(this=text.copy(), start=_at_least(first, 1))
    count = integer_literal(length)
    if source.substring_negative_length == "before_start":
        if count is not None:
            low, high = (_plus(first, length), first.copy()) if count < 0 else (first, _plus(first, length))
        else:
            negative = exp.LT(this=length.copy(), expression=exp.Literal.number(0))
            low = exp.Case(ifs=[exp.If(this=negative, true=_plus(first, length))], default=first.copy())
            high = exp.Case(ifs=[exp.If(this=negative.copy(), true=first.copy())], default=_plus(first, length))
    else:  # a negative length takes nothing
        low, high = first, _plus(first, length if count is not None and count >= 0 else _at_least(length, 0))
    begin = _at_least(low, 1)
    return exp.Substring(this=text.copy(), start=begin, length=_at_least(_arithmetic(exp.Sub, high, begin), 0))


def _first_position(text: exp.Expr, start: exp.Expr, source: DialectFacts) -> exp.Expr:
    """The position `source` starts at: a negative start from the end, 0 as 1 where it says so."""
    first = integer_literal(start)
    from_end = _plus(exp.Length(this=text.copy()), _number(first + 1) if first is not None else _plus(start, exp.Literal.number(1)))
    if first is not None:
        if first < 0 and source.substring_start != "as_given":
            return from_end
        if first == 0 and source.substring_start == "from_end_zero_first":
            return exp.Literal.number(1)
        return start.copy()
    cases = []
    if source.substring_start != "as_given":
        cases.append(exp.If(this=exp.LT(this=start.copy(), expression=exp.Literal.number(0)), true=from_end))
    if source.substring_start == "from_end_zero_first":
        cases.append(exp.If(this=exp.EQ(this=start.copy(), expression=exp.Literal.number(0)), true=exp.Literal.number(1)))
    return exp.Case(ifs=cases, default=start.copy()) if cases else start.copy()


def _plus(value: exp.Expr, other: exp.Expr) -> exp.Expr:
    return _arithmetic(exp.Add, value, other)


def _arithmetic(kind: type[exp.Add] | type[exp.Sub], value: exp.Expr, other: exp.Expr) -> exp.Expr:
    """value + other (or -), folded when both are integer literals."""
    left, right = integer_literal(value), integer_literal(other)
    if left is not None and right is not None:
        return _number(left + right if kind is exp.Add else left - right)
    if right is not None and right < 0:  # written as a subtraction, not `+ -2`
        kind, other = (exp.Sub if kind is exp.Add else exp.Add), exp.Literal.number(-right)
    return kind(this=_grouped(value), expression=_grouped(other))


def _grouped(value: exp.Expr) -> exp.Expr:
    """In parentheses unless a column or a literal: written inside another operation."""
    return value.copy() if isinstance(value, (exp.Column, exp.Literal, exp.Neg, exp.Length)) else exp.Paren(this=value.copy())


def _number(value: int) -> exp.Expr:
    return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else exp.Literal.number(value)


def _at_least(value: exp.Expr, floor: int) -> exp.Expr:
    """`value`, or `floor` where it is below; NULL stays NULL (GREATEST would skip it)."""
    bound = exp.Literal.number(floor)
    literal = integer_literal(value)
    if literal is not None:
        return exp.Literal.number(max(literal, floor))
    return exp.Case(ifs=[exp.If(this=exp.LT(this=value.copy(), expression=bound), true=bound.copy())], default=value.copy())
