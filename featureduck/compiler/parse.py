"""Parse rendered SQL with sqlglot, turning its errors into located ones."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

import featureduck.compiler.dialects  # noqa: F401 - sqlglot's Postgres generator quotes reserved words
from featureduck.errors import SourceLocation, SqlSyntaxError, UnsupportedSqlError


def parse_model_sql(sql: str, dialect: str, path: str) -> exp.Expr:
    """The single query a model holds; syntax errors name the file and line."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        detail = first.get("description") or str(err).splitlines()[0]
        near = first.get("highlight")
        message = f"SQL syntax error: {detail}" + (f" near '{near}'" if near else "")
        raise SqlSyntaxError(message, SourceLocation(path, first.get("line"), first.get("col"))) from None
    except TokenError as err:
        raise SqlSyntaxError(f"SQL syntax error: {err}", SourceLocation(path)) from None
    if not statements:
        raise SqlSyntaxError("the model is empty", SourceLocation(path, 1), "a model is one SELECT statement")
    if len(statements) > 1:
        raise SqlSyntaxError(f"a model must be one SQL statement, found {len(statements)}", SourceLocation(path))
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper()
        raise SqlSyntaxError(f"a model must be a query (SELECT ...), found {kind}", SourceLocation(path, 1))
    return statement


def generate_sql(tree: exp.Expr, dialect: str, path: str, pretty: bool = True) -> str:
    """SQL text in `dialect`; a construct the dialect cannot express is an error."""
    try:
        return tree.sql(dialect=dialect, copy=False, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as err:
        raise UnsupportedSqlError(f"{dialect} cannot express: {err}", SourceLocation(path)) from None
