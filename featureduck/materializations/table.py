"""`table`: rebuilt in full every run, swapped in atomically."""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization, replace_table


class TableMaterialization(Materialization):
    name = "table"
    builds_relation = True
    table_like = True

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        rows = replace_table(ctx.adapter, model.relation, model.sql, ctx.check)
        return BuildOutcome(rows, "created table", model.sql)
