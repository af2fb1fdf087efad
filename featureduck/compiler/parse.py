"""Parse rendered SQL with sqlglot, turning its errors into located ones."""

from __future__ import annotations

import re
from collections import defaultdict

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError
from sqlglot.time import format_time
from sqlglot.tokens import Token, TokenType

import featureduck.compiler.dialects  # noqa: F401 - sqlglot's Postgres generator quotes reserved words
from featureduck.errors import SourceLocation, SqlSyntaxError, UnsupportedSqlError

# sqlglot's names for the parts of a query, as SQL spells them
_CLAUSES = {
    "Where": "WHERE", "Order": "ORDER BY", "Group": "GROUP BY", "Having": "HAVING", "Limit": "LIMIT", "Offset": "OFFSET",
    "Qualify": "QUALIFY", "Join": "JOIN", "From": "FROM", "Select": "SELECT", "Alias": "an alias", "Cast": "CAST",
    "Between": "BETWEEN", "In": "IN", "Case": "CASE", "If": "WHEN", "Window": "OVER", "With": "WITH", "CTE": "a CTE",
    "Union": "UNION", "Intersect": "INTERSECT", "Except": "EXCEPT", "Interval": "INTERVAL", "Like": "LIKE",
}
# The functions sqlglot reads with a format (formatting a time, parsing one), and the meta key
# of a format's text as the model wrote it.
FORMATTED = (exp.TimeToStr, exp.UnixToStr, exp.StrToTime, exp.StrToDate, exp.TsOrDsToDate, exp.StrToUnix)
AS_WRITTEN = "format_as_written"
_MISSING = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]+\.(\w+)'>")
_TOKEN = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+, start: \d+, end: \d+, comments: \[.*?\]>")


def _in_sql_terms(detail: str) -> str:
    """sqlglot's parser messages, without its class and token names."""
    missing = _MISSING.search(detail)
    if missing:
        name = missing.group(1)
        return f"{_CLAUSES.get(name, name.upper())} is incomplete: something is missing after it"
    return _TOKEN.sub(lambda m: "the end of the query" if m.group(1) == "SENTINEL" else f"'{m.group(2)}'", detail)


def parse_model_sql(sql: str, dialect: str, path: str) -> exp.Expr:
    """The single query a model holds; syntax errors name the file and line."""
    engine = Dialect.get_or_raise(dialect)
    try:
        tokens = engine.tokenize(sql)
    except TokenError as err:
        raise SqlSyntaxError(f"SQL syntax error: {err}", SourceLocation(path)) from None
    # sqlglot's parser skips an empty item of a list (`a,, b`), which every engine refuses
    for before, token in zip(tokens, tokens[1:], strict=False):
        if token.token_type == TokenType.COMMA and before.token_type in (TokenType.COMMA, TokenType.L_PAREN):
            raise SqlSyntaxError(f"SQL syntax error: an empty item in a list ('{before.text},')",
                                 SourceLocation(path, token.line, token.col), "remove the extra comma")
    try:
        statements = [s for s in engine.parser().parse(tokens, sql) if s is not None]
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        detail = _in_sql_terms(first.get("description") or str(err).splitlines()[0])
        near = first.get("highlight")
        message = f"SQL syntax error: {detail}" + (f" near '{near}'" if near else "")
        raise SqlSyntaxError(message, SourceLocation(path, first.get("line"), first.get("col"))) from None
    if not statements:
        raise SqlSyntaxError("the model is empty", SourceLocation(path, 1), "a model is one SELECT statement")
    if len(statements) > 1:
        raise SqlSyntaxError(f"a model must be one SQL statement, found {len(statements)}", SourceLocation(path))
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper()
        raise SqlSyntaxError(f"a model must be a query (SELECT ...), found {kind}", SourceLocation(path, 1))
    _keep_formats_as_written(statement, tokens, engine)
    return statement


def _keep_formats_as_written(statement: exp.Expr, tokens: list[Token], engine: Dialect) -> None:
    """sqlglot turns a format literal into its codes, reading letters in quoted text as patterns too
    (Spark's `'Z'` becomes `'%z'`); the text as written is kept in the literal's meta where the
    model's strings name it unambiguously (compiler.time_formats reads it)."""
    formatted = list(statement.find_all(*FORMATTED))
    if not formatted:
        return
    written: defaultdict[str | None, set[str]] = defaultdict(set)
    for token in tokens:
        if token.token_type == TokenType.STRING:
            written[format_time(token.text, engine.TIME_MAPPING, engine.TIME_TRIE)].add(token.text)
    for node in formatted:
        format_literal = node.args.get("format")
        if isinstance(format_literal, exp.Literal) and format_literal.is_string and len(written[format_literal.this]) == 1:
            format_literal.meta[AS_WRITTEN] = next(iter(written[format_literal.this]))


def generate_sql(tree: exp.Expr, dialect: str, path: str, pretty: bool = True) -> str:
    """SQL text in `dialect`; a construct the dialect cannot express is an error."""
    try:
        return tree.sql(dialect=dialect, copy=False, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as err:
        raise UnsupportedSqlError(f"{dialect} cannot express: {err}", SourceLocation(path)) from None


def position(node: exp.Expr) -> tuple[int | None, int | None]:
    """Line and column of the first located part of the node, else of its
    nearest ancestor that has one (the parser locates tokens, not clauses)."""
    current: exp.Expr | None = node
    while current is not None:
        for part in current.walk():
            meta = part._meta  # reading .meta would create an empty dict on every node
            if meta and meta.get("line"):
                return meta["line"], meta.get("col")
        current = current.parent
    return None, None


def located(node: exp.Expr, path: str) -> SourceLocation:
    """Where `node` is in the model file at `path`."""
    return SourceLocation(path, *position(node))
