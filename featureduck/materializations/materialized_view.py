"""`materialized_view`: native where the engine has them, else a refreshed table.

With SUPPORTS_MATERIALIZED_VIEWS (Postgres) the view is created once and
refreshed on later runs (CONCURRENTLY when it has a unique_key, which gets a
unique index), and recreated when its compiled definition changes. Elsewhere
(DuckDB) it degrades to a table rebuilt by each run; the state store records
each refresh either way.
"""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.engines.base import EngineAdapter
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization, replace_table
from featureduck.materializations.incremental import unique_key_columns
from featureduck.utils.hashing import sha256_text


class MaterializedViewMaterialization(Materialization):
    name = "materialized_view"
    builds_relation = True
    table_like = True

    def restores_from_rows(self, adapter: EngineAdapter) -> bool:
        return not adapter.SUPPORTS_MATERIALIZED_VIEWS  # a native one is defined by its query: `fduck run` rebuilds it

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        if not adapter.SUPPORTS_MATERIALIZED_VIEWS:
            rows = replace_table(adapter, model.relation, model.sql, ctx.check)
            return BuildOutcome(rows, f"refreshed materialized view (a table on {adapter.TYPE})", model.sql)
        table = model.relation.to_table()
        adapter.create_schema(model.relation.schema, model.relation.database)
        keys = unique_key_columns(model.config)
        unchanged = ctx.previous_checksum == sha256_text(model.sql)
        if unchanged and not ctx.full_refresh and adapter.relation_kind(table) == "materialized_view":
            adapter.refresh_materialized_view(table, concurrently=bool(keys))
            return BuildOutcome(None, "refreshed materialized view", model.sql)
        rows = adapter.create_materialized_view(table, model.sql, keys, ctx.check)
        return BuildOutcome(rows, "created materialized view", model.sql)
