"""`view`: a view replaced in place; a table of that name is replaced by the view."""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization


class ViewMaterialization(Materialization):
    name = "view"
    builds_relation = True
    table_like = False

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        adapter.create_schema(model.relation.schema, model.relation.database)
        adapter.replace_view(model.relation.to_table(), model.sql, ctx.check)
        return BuildOutcome(None, "created view", model.sql)
