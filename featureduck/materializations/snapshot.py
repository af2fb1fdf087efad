"""`snapshot`: dbt's type-2 history of a query's rows (`fduck snapshot`, `fduck build`).

Each build reads the present history and the snapshot query and writes the
next history in one query (materializations/snapshot_sql.py), swapped in as
any table is, so a failed or killed snapshot leaves the previous history.
A snapshot is never skipped by the run cache: its rows depend on when it runs.
"""

from __future__ import annotations

from typing import Any

from featureduck.compiler.compile import CompiledModel
from featureduck.engines.base import temp_name
from featureduck.errors import BuildError, CompilationError, SourceLocation
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization, replace_table
from featureduck.materializations.snapshot_sql import (
    META_COLUMNS,
    HistoryShape,
    SnapshotSpec,
    duplicate_keys,
    first_history,
    next_history,
)

SNAPSHOT_STRATEGIES = ("timestamp", "check")
HARD_DELETES = ("ignore", "invalidate", "new_record")


class SnapshotMaterialization(Materialization):
    name = "snapshot"
    builds_relation = True
    table_like = True
    cacheable = False

    def validate(self, model: CompiledModel) -> None:
        _configs(model)

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        import sqlglot

        adapter = ctx.adapter
        spec = _spec(model, adapter.DIALECT)
        query = sqlglot.parse_one(model.sql, read=adapter.DIALECT)
        assert isinstance(query, sqlglot.exp.Query)
        duplicate = adapter.execute(adapter.sql(duplicate_keys(spec, query)))
        if duplicate:
            *key, count = duplicate[0]
            what = "is null" if any(k is None for k in key) else f"is held by {count} rows"
            raise BuildError(f"snapshot '{model.name}': unique_key {', '.join(map(repr, key))} {what}; a snapshot keeps "
                             "one history per key, so the query must give each key once", SourceLocation(model.path),
                             "make the unique_key unique in the snapshot query (dbt would add a version per duplicate)")
        table = model.relation.to_table()
        kind = adapter.relation_kind(table)
        if kind is None and adapter.relation_kind(temp_name(table)) == "table":
            raise BuildError(f"snapshot '{model.name}': there is no history table but a newer one is at "
                             f"{adapter.sql(temp_name(table))}: a snapshot was stopped while swapping it in",
                             SourceLocation(model.path), "rename that table to the snapshot's name, then snapshot again")
        if kind is None:
            history = first_history(spec, query)
        elif kind != "table":
            relation = model.relation.sql(adapter.DIALECT)
            raise BuildError(f"snapshot '{model.name}': {relation} is a {kind}, not a history table",
                             SourceLocation(model.path), "drop it, or give the snapshot another name or schema")
        else:
            history = next_history(spec, query, table, _shape(model, spec, adapter.columns(table), adapter.query_columns(model.sql)))
        sql = adapter.sql(history)
        rows = replace_table(adapter, model.relation, sql, ctx.check)
        return BuildOutcome(rows, "snapshotted", sql)


def _shape(model: CompiledModel, spec: SnapshotSpec, history: list[tuple[str, str]], source: list[tuple[str, str]]) -> HistoryShape:
    history_names = [name for name, _ in history]
    missing = [spec.names[m] for m in META_COLUMNS if m != "dbt_is_deleted" and spec.names[m] not in history_names]
    if missing:
        raise BuildError(f"snapshot '{model.name}': its table {model.relation.sql(spec.dialect)} lacks {', '.join(missing)}",
                         SourceLocation(model.path), "the table is not this snapshot's history: rename the snapshot or drop the table")
    source_names = [name for name, _ in source]
    changed: list[str] | None = None
    if spec.strategy == "check":
        compared = source_names if spec.check_cols is None else [_source_column(model, name, source_names) for name in spec.check_cols]
        changed = None if any(name not in history_names for name in compared) else compared
    return HistoryShape(source_names, history_names, changed)


def _source_column(model: CompiledModel, name: str, source: list[str]) -> str:
    for column in source:
        if column.lower() == name.lower():
            return column
    raise BuildError(f"snapshot '{model.name}': check_cols names '{name}', which its query does not give",
                     SourceLocation(model.path), f"its columns: {', '.join(source)}")


def _spec(model: CompiledModel, dialect: str) -> SnapshotSpec:
    import sqlglot

    configs = _configs(model)

    def parsed(key: str) -> list[sqlglot.exp.Expr]:
        return [sqlglot.parse_one(text, read=dialect) for text in model.config_sql.get(key, [])]

    updated_at = parsed("updated_at")
    current = parsed("dbt_valid_to_current")
    check_cols = configs.get("check_cols")
    return SnapshotSpec(
        dialect=dialect, strategy=configs["strategy"], unique_key=parsed("unique_key"),
        updated_at=updated_at[0] if updated_at else None,
        check_cols=None if check_cols in (None, "all") else [str(c) for c in check_cols],
        hard_deletes=configs["hard_deletes"], valid_to_current=current[0] if current else None,
        names={**{m: m for m in META_COLUMNS}, **configs["names"]},
    )


def _configs(model: CompiledModel) -> dict[str, Any]:
    """The snapshot's configs checked as dbt checks them: an error names the config."""
    config = model.config

    def fail(message: str, hint: str | None = None) -> CompilationError:
        return CompilationError(f"snapshot '{model.name}': {message}", SourceLocation(model.path), hint)

    strategy = config.get("strategy")
    if strategy is None:
        raise fail("it has no strategy", "set strategy='timestamp' (with updated_at) or strategy='check' (with check_cols)")
    if strategy not in SNAPSHOT_STRATEGIES:
        raise fail(f"strategy '{strategy}' is not supported by featureduck (custom snapshot strategy macros are not run)",
                   f"choose one of: {', '.join(SNAPSHOT_STRATEGIES)}")
    if not config.get("unique_key"):
        raise fail("it has no unique_key", "set unique_key to the column (or list of columns) identifying a row")
    if strategy == "timestamp" and not config.get("updated_at"):
        raise fail("the timestamp strategy needs updated_at", "set updated_at to the column holding when a row last changed")
    check_cols = config.get("check_cols")
    if strategy == "check" and not (check_cols == "all" or (isinstance(check_cols, list) and check_cols)):
        raise fail(f"the check strategy needs check_cols: 'all' or a list of columns, not {check_cols!r}")
    if config.get("invalidate_hard_deletes") is not None and config.get("hard_deletes") is not None:
        raise fail("it sets both invalidate_hard_deletes and hard_deletes", "keep hard_deletes (invalidate_hard_deletes is its old name)")
    hard_deletes = "invalidate" if config.get("invalidate_hard_deletes") else str(config.get("hard_deletes") or "ignore")
    if hard_deletes not in HARD_DELETES:
        raise fail(f"hard_deletes '{hard_deletes}' is not one of {', '.join(HARD_DELETES)}")
    names = config.get("snapshot_meta_column_names") or {}
    unknown = [key for key in names if key not in META_COLUMNS]
    if not isinstance(names, dict) or unknown:
        raise fail(f"snapshot_meta_column_names may rename {', '.join(META_COLUMNS)}, not {', '.join(unknown) or names!r}")
    return {"strategy": strategy, "check_cols": check_cols, "hard_deletes": hard_deletes, "names": {k: str(v) for k, v in names.items()}}
