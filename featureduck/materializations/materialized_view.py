"""`materialized_view`: on engines without native ones, a table refreshed each run.

DuckDB has no materialized views (SUPPORTS_MATERIALIZED_VIEWS is False), so
the view degrades to a table rebuilt by each run; the run's state store
records when it was refreshed and from which definition. Engines with native
materialized views branch on the adapter flag here.
"""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization, replace_table


class MaterializedViewMaterialization(Materialization):
    name = "materialized_view"

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        rows = replace_table(adapter, model.relation, model.sql)
        return BuildOutcome(rows, f"refreshed materialized view (a table on {adapter.TYPE})", model.sql)
