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
from featureduck.engines.base import EngineAdapter
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


SCHEMA_CHANGES = ("ignore", "fail", "append_new_columns", "sync_all_columns")


def apply_schema_change(model: CompiledModel, adapter: EngineAdapter, table: exp.Table, incoming: list[tuple[str, str]]) -> list[str]:
    """Meet `on_schema_change` when the new rows' columns differ from the table's; the
    columns to write. ignore: the table's columns the new rows have; fail: an error
    naming the differences; append_new_columns: new columns added (old ones kept,
    NULL in new rows); sync_all_columns: added, and removed ones dropped."""
    mode = str(model.config.get("on_schema_change") or "ignore")
    if mode not in SCHEMA_CHANGES:
        raise CompilationError(f"unknown on_schema_change '{mode}'", SourceLocation(model.path),
                               did_you_mean(mode, SCHEMA_CHANGES) or f"choose one of: {', '.join(SCHEMA_CHANGES)}")
    existing = [name for name, _ in adapter.columns(table)]
    known = {name.lower() for name in existing}
    names = {name.lower() for name, _ in incoming}
    added = [(name, kind) for name, kind in incoming if name.lower() not in known]
    removed = [name for name in existing if name.lower() not in names]
    if not added and not removed:
        return [name for name, _ in incoming]
    if mode == "fail":
        changes = [f"added {', '.join(n for n, _ in added)}"] if added else []
        changes += [f"removed {', '.join(removed)}"] if removed else []
        raise CompilationError(f"the columns of incremental model '{model.name}' changed ({'; '.join(changes)}) "
                               "and its on_schema_change is fail", SourceLocation(model.path),
                               "run with --full-refresh, or set on_schema_change: append_new_columns or sync_all_columns")
    if mode in ("append_new_columns", "sync_all_columns"):
        for name, kind in added:
            adapter.add_column(table, name, kind)
    if mode == "sync_all_columns":
        for name in removed:
            adapter.drop_column(table, name)
    written = [name for name, _ in incoming]
    return written if mode != "ignore" else [name for name in written if name.lower() in known]


class IncrementalMaterialization(Materialization):
    name = "incremental"
    builds_relation = True
    table_like = True

    def validate(self, model: CompiledModel) -> None:
        incremental_strategy(model)

    def advice(self, model: CompiledModel) -> list[tuple[str, str]]:
        if model.config.get("unique_key"):
            return []
        return [("incremental-without-unique-key", (
            f"incremental model '{model.name}' has no unique_key: rows a later run selects again are appended a second time; "
            "set unique_key to the columns that identify a row so they are merged"))]

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        full_refresh = ctx.full_refresh and model.config.get("full_refresh") is not False
        full = full_refresh or adapter.relation_kind(model.relation.to_table()) != "table"
        increments = ctx.source_increments(full)
        if not increments:
            return self._build(model, ctx, full, model.sql if full else ctx.recompile(True, None).sql, [])
        try:  # the incremental sources' new rows, snapshotted: the model reads them, the watermarks move by them
            snapshots = {(i.table.source_name, i.table.name): i.take() for i in increments}
            advance = [statement for increment in increments for statement in increment.advance()]
            return self._build(model, ctx, full, ctx.recompile(not full, snapshots).sql, advance)
        finally:
            for increment in increments:
                increment.discard()

    def _build(self, model: CompiledModel, ctx: BuildContext, full: bool, sql: str, on_commit: list[exp.Expr]) -> BuildOutcome:
        """Build from `sql`, running the `on_commit` statements in the transaction that commits it."""
        adapter = ctx.adapter
        strategy = incremental_strategy(model)
        table = model.relation.to_table()
        if full:
            check = ctx.check
            if on_commit:
                def check_and_record(columns: list[tuple[str, str]]) -> None:
                    if ctx.check is not None:
                        ctx.check(columns)
                    adapter.execute_script(on_commit)
                check = check_and_record
            rows = replace_table(adapter, model.relation, sql, check)
            return BuildOutcome(rows, "created incremental table", sql)
        temp = exp.Table(this=exp.to_identifier(model.relation.identifier + "__fduck_new"))
        adapter.drop(temp, "table")
        adapter.create_table_as(temp, sql, temporary=True)
        try:
            described = adapter.columns(temp)
            if ctx.check is not None:  # the new rows, before they reach the table
                ctx.check(described)
            keys = unique_key_columns(model.config)
            with adapter.transaction():
                columns = apply_schema_change(model, adapter, table, described)
                if strategy == "append":
                    rows = adapter.insert_by_name(table, temp, columns)
                else:
                    rows = adapter.upsert(table, temp, keys, columns, use_merge=strategy == "merge")
                adapter.execute_script(on_commit)
        finally:
            adapter.drop(temp, "table")
        return BuildOutcome(rows, f"{strategy} into incremental table", sql)
