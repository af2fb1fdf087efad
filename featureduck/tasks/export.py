"""`fduck export`: a model's relation, or a query's rows, read as `run` reads them and
written to a file."""

from __future__ import annotations

from sqlglot import exp

from featureduck.exports.files import write_query
from featureduck.tasks.options import ExportOptions
from featureduck.tasks.workspace import Workspace


def export(workspace: Workspace, options: ExportOptions) -> int:
    """A model's relation, or a query's rows, to a file; the row count."""
    compiled = workspace.compile()
    if options.model is not None:
        select: exp.Query = exp.select("*").from_(workspace.compiled_model(options.model, "export").relation.to_table())
        refs, sources = [options.model], []
    else:
        query = workspace.compiler.compile_query("export_query", "<--query>", str(options.query), compiled)
        select = exp.maybe_parse(query.sql, dialect=workspace.target.dialect)  # type: ignore[assignment]
        refs, sources = query.refs, [(k[0], k[1]) for k in query.sources]
    with workspace.session() as session:
        session.read(refs, sources)
        return write_query(session.adapter, select, options.out, options.file)
