"""`view`: a view replaced in place; an old table of that name is dropped with it."""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization


class ViewMaterialization(Materialization):
    name = "view"

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        table = model.relation.to_table()
        adapter.create_schema(model.relation.schema, model.relation.database)
        existing = adapter.relation_kind(table)
        if existing in (None, "view"):
            adapter.create_view(table, model.sql)
        else:
            with adapter.transaction():
                adapter.drop(table, existing)
                adapter.create_view(table, model.sql)
        return BuildOutcome(None, "created view", model.sql)
