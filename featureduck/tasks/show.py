"""`fduck show`: the first rows of a model's query, or of an inline query, as dbt's
`show` gives them: the compiled SQL run with a limit, nothing built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from featureduck.errors import UsageError
from featureduck.tasks.options import ShowOptions
from featureduck.tasks.workspace import Workspace


@dataclass
class Preview:
    """What a query gives first: its column names and up to `limit` rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def show(workspace: Workspace, options: ShowOptions) -> Preview:
    from sqlglot import exp

    compiled = workspace.compile()
    if options.model is None and options.inline is None:
        raise UsageError("show needs a model or --inline SQL", hint="fduck show orders, or fduck show --inline \"select ...\"")
    model = workspace.compiled_model(options.model, "show") if options.model is not None else None
    with workspace.session() as session:  # compiled here, the query renders as at run time (`execute` true)
        if model is None:
            model = workspace.compiler.compile_query("inline_query", "<--inline>", str(options.inline), compiled)
        elif model.renders_at_run:
            model = workspace.compiler.recompile(model.name, compiled, False)
        session.read(model.refs, model.sources)
        inner: exp.Expr = exp.maybe_parse(model.sql, dialect=workspace.target.dialect)
        query = exp.select("*").from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("preview"))))
        table = session.adapter.fetch(query.limit(options.limit), "arrow")
    return Preview(list(table.column_names), [tuple(row.values()) for row in table.to_pylist()])
