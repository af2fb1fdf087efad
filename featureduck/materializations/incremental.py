"""`incremental`: new rows applied to the existing table by append, merge or delete+insert.

The first build, a --full-refresh, or a relation that is not a table builds
the whole table (swapped in). Later runs render the model with
is_incremental() true into a temporary table and apply it in one transaction
where the engine has them (SUPPORTS_TRANSACTIONS); the adapter's `upsert`
decides how keys are replaced (MERGE, delete+insert, or a rebuild on Spark).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledModel
from featureduck.errors import CompilationError, SourceLocation
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization, replace_table
from featureduck.utils.suggest import did_you_mean

STRATEGIES = ("append", "merge", "delete+insert")


def unique_key_columns(config: dict[str, Any]) -> list[str]:
    key = config.get("unique_key")
    if key is None:
        return []
    return [key] if isinstance(key, str) else [str(k) for k in key]


def incremental_strategy(model: CompiledModel) -> str:
    keys = unique_key_columns(model.config)
    strategy = str(model.config.get("incremental_strategy") or ("merge" if keys else "append"))
    if strategy not in STRATEGIES:
        raise CompilationError(
            f"unknown incremental_strategy '{strategy}'",
            SourceLocation(model.path),
            did_you_mean(strategy, STRATEGIES) or f"choose one of: {', '.join(STRATEGIES)}",
        )
    if strategy != "append" and not keys:
        raise CompilationError(f"incremental_strategy '{strategy}' needs a unique_key", SourceLocation(model.path))
    return strategy


class IncrementalMaterialization(Materialization):
    name = "incremental"

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        strategy = incremental_strategy(model)
        table = model.relation.to_table()
        full_refresh = ctx.full_refresh and model.config.get("full_refresh") is not False
        if full_refresh or adapter.relation_kind(table) != "table":
            rows = replace_table(adapter, model.relation, model.sql, ctx.check)
            return BuildOutcome(rows, "created incremental table", model.sql)
        increment = ctx.recompile(True)
        temp = exp.Table(this=exp.to_identifier(model.relation.identifier + "__fduck_new"))
        adapter.drop(temp, "table")
        adapter.create_table_as(temp, increment.sql, temporary=True)
        try:
            described = adapter.columns(temp)
            if ctx.check is not None:  # the new rows, before they reach the table
                ctx.check(described)
            columns = [name for name, _ in described]
            keys = unique_key_columns(model.config)
            with adapter.transaction():
                if strategy == "append":
                    rows = adapter.insert_by_name(table, temp, columns)
                else:
                    rows = adapter.upsert(table, temp, keys, columns, use_merge=strategy == "merge")
        finally:
            adapter.drop(temp, "table")
        return BuildOutcome(rows, f"{strategy} into incremental table", increment.sql)
