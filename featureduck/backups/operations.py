"""Taking and restoring snapshots of the relations featureduck builds.

A backup writes each table-like relation (table, incremental, a materialized
view where the engine keeps it as a table, and seeds) to Parquet through the
export writer, which streams on every engine. A relation whose fingerprint
(runner.fingerprints) equals the one the previous snapshot recorded for it
is not read again: its object is reused. Views and ephemeral models hold no
rows and are rebuilt by `fduck run`.

A restore first verifies the checksum of every object it will read and
refuses a damaged snapshot before touching anything; then each relation is
replaced whole (the engine's atomic swap), and the state store learns what
it was built from, so the next `fduck run` rebuilds it only if its inputs
moved on since.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from sqlglot import exp

from featureduck.backups.snapshots import BackupStore, RelationEntry, Snapshot, file_checksum
from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.exports.files import FileOptions, write_query
from featureduck.materializations.registry import restores_from_rows
from featureduck.project.ids import NodeKind
from featureduck.sources.seeds import load_data

@dataclass(frozen=True)
class Managed:
    """A relation featureduck built, as a backup finds it."""

    unique_id: str
    name: str
    kind: NodeKind  # model | seed
    materialized: str
    table: exp.Table
    fingerprint: str | None
    sql_checksum: str | None


@dataclass(frozen=True)
class Restored:
    name: str
    relation: str
    rows: int | None  # None: not restored (`note` says why)
    note: str = ""


def take(adapter: EngineAdapter, store: BackupStore, managed: list[Managed], project: str, target: str,
         now: datetime.datetime) -> Snapshot:
    previous = store.latest()
    snapshot = Snapshot(store.new_id(now), now.isoformat(), project, target, adapter.TYPE)
    for item in managed:
        relation = item.table.sql(adapter.DIALECT)
        old = previous.relations.get(item.name) if previous else None
        if (old is not None and item.fingerprint is not None and old.fingerprint == item.fingerprint
                and store.object_path(old.object).exists()):
            snapshot.relations[item.name] = replace(old, relation=relation)
            continue
        staged = store.root / f".{item.name}.{uuid.uuid4().hex}.parquet"
        store.root.mkdir(parents=True, exist_ok=True)
        try:
            rows = write_query(adapter, exp.select("*").from_(item.table.copy()), staged, FileOptions("parquet", "zstd"))
            columns = _parquet_columns(staged)
            checksum, size, new = store.add_object(staged)
        finally:
            staged.unlink(missing_ok=True)
        snapshot.copied += new
        snapshot.relations[item.name] = RelationEntry(
            item.name, item.kind, item.materialized, relation, item.table.name, columns, rows, checksum, size,
            item.fingerprint, item.sql_checksum,
        )
    store.save(snapshot)
    return snapshot


def verify(store: BackupStore, snapshot: Snapshot, names: list[str]) -> None:
    """Every object the restore reads is there and unaltered, or nothing is restored."""
    for name in names:
        entry = snapshot.relations[name]
        path = store.object_path(entry.object)
        if not path.exists():
            raise UsageError(f"snapshot {snapshot.id} is damaged: the rows of '{name}' ({path}) are missing; nothing was restored")
        if file_checksum(path) != entry.object:
            raise UsageError(f"snapshot {snapshot.id} is damaged: the rows of '{name}' ({path}) do not match their checksum; "
                             "nothing was restored")


def restore(adapter: EngineAdapter, store: BackupStore, snapshot: Snapshot, placements: dict[str, exp.Table]) -> list[Restored]:
    """Replace each relation in `placements` (snapshot name -> where it goes) with its rows."""
    done = []
    for name, table in placements.items():
        entry = snapshot.relations[name]
        relation = table.sql(adapter.DIALECT)
        if not restores_from_rows(entry.materialized, adapter):
            kind = entry.materialized.replace("_", " ")
            done.append(Restored(name, relation, None, f"a {adapter.TYPE} {kind}: `fduck run` rebuilds it"))
            continue
        rows = load_data(adapter, table, store.object_path(entry.object))
        done.append(Restored(name, relation, rows))
    return done


def _parquet_columns(path: Path) -> list[tuple[str, str]]:
    import duckdb

    with duckdb.connect() as reader:
        described = reader.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return [(str(row[0]), str(row[1])) for row in described]
