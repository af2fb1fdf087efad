"""`fduck lineage MODEL.COLUMN`: the upstream columns a column is derived from, traced
through the compiled SQL of every model down to seeds and sources; no database."""

from __future__ import annotations

from featureduck.compiler.lineage import ColumnLineage, LineageTracer
from featureduck.errors import UsageError
from featureduck.tasks.workspace import Workspace


def column_lineage(workspace: Workspace, column: str) -> ColumnLineage:
    model, _, name = column.partition(".")
    if not model or not name:
        raise UsageError(f"'{column}' is not MODEL.COLUMN", hint="e.g. fduck lineage customers.lifetime_orders")
    workspace.compiled_model(model, "trace")
    return LineageTracer(workspace.compiler, workspace.compile()).trace(model, name)
