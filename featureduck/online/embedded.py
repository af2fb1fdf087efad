"""The default online store: one SQLite file, no server.

SQLite in WAL mode lets `fduck serve` read while `fduck materialize` writes
from another process: a reader's statement sees the last committed state, and
a view is written in one transaction (a full materialization builds a new
table and swaps it in, inside that transaction), so answers never mix old
and new values of a view. A writer killed midway leaves its transaction
uncommitted; SQLite rolls it back on the next open. `synchronous=NORMAL`
keeps commits safe from a crashed process (not from a power loss, which may
lose the last commit), at a fraction of the fsyncs.

Each entity's features are stored as one JSON object, encoded by DuckDB from
the offline rows in one vectorized pass: serving returns it as it is.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from featureduck.errors import DatabaseError
from featureduck.online.base import FEATURE_TS, OnlineRow, OnlineStore, OnlineView, ViewState, key_type

if TYPE_CHECKING:
    import pyarrow

DEFAULT_PATH = "target/online_store.db"
_VIEWS = "fduck_online_views"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class EmbeddedStore(OnlineStore):
    TYPE = "embedded"

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        super().__init__(settings, project_root)
        path = Path(str(settings.get("path") or DEFAULT_PATH))
        self.path = path if path.is_absolute() else project_root / path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._connection()
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {_VIEWS} (view_key TEXT PRIMARY KEY, table_name TEXT NOT NULL, "
            "key_types TEXT NOT NULL, watermark TEXT, row_count INTEGER NOT NULL, materialized_at TEXT NOT NULL)"
        )

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread; autocommit, transactions opened explicitly."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as err:
                raise DatabaseError(f"cannot open the online store {self.path}: {err}") from None
            connection.execute("PRAGMA busy_timeout = 10000")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def state(self, view: OnlineView) -> ViewState | None:
        row = self._connection().execute(
            f"SELECT watermark, key_types, row_count, materialized_at FROM {_VIEWS} WHERE view_key = ?", [view.key]
        ).fetchone()
        if row is None:
            return None
        return ViewState(row[0], tuple(orjson.loads(row[1])), int(row[2]), str(row[3]))

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        encoded = _encode(view, rows)
        key_types = [key_type(rows.schema.field(k).type) for k in view.join_keys]
        newest = max((row[1] for row in encoded), default=None)
        connection = self._connection()
        table = _quoted(view.table)
        previous = self.state(view)
        connection.execute("BEGIN IMMEDIATE")
        try:
            if full or previous is None:
                fresh = _quoted(view.table + "__new")
                connection.execute(f"DROP TABLE IF EXISTS {fresh}")
                connection.execute(
                    f"CREATE TABLE {fresh} (entity_key TEXT PRIMARY KEY, feature_ts TEXT NOT NULL, features TEXT NOT NULL) WITHOUT ROWID"
                )
                connection.executemany(f"INSERT OR REPLACE INTO {fresh} VALUES (?, ?, ?)", encoded)
                connection.execute(f"DROP TABLE IF EXISTS {table}")
                connection.execute(f"ALTER TABLE {fresh} RENAME TO {table}")
                watermark = newest
            else:
                connection.executemany(
                    f"INSERT INTO {table} AS t VALUES (?, ?, ?) ON CONFLICT (entity_key) DO UPDATE "
                    "SET feature_ts = excluded.feature_ts, features = excluded.features WHERE excluded.feature_ts >= t.feature_ts",
                    encoded,
                )
                watermark = max(filter(None, (previous.watermark, newest)), default=None)
            count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            connection.execute(
                f"INSERT OR REPLACE INTO {_VIEWS} VALUES (?, ?, ?, ?, ?, ?)",
                [view.key, view.table, orjson.dumps(key_types).decode(), watermark, count,
                 datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat(timespec="seconds")],
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return len(encoded)

    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        connection = self._connection()
        table = _quoted(view.table)
        try:
            if len(entity_keys) == 1:
                found = connection.execute(f"SELECT feature_ts, features FROM {table} WHERE entity_key = ?", entity_keys).fetchone()
                return [OnlineRow(found[0], found[1]) if found else None]
            marks = ", ".join("?" * len(entity_keys))
            rows = connection.execute(
                f"SELECT entity_key, feature_ts, features FROM {table} WHERE entity_key IN ({marks})", list(entity_keys)
            ).fetchall()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return [None] * len(entity_keys)  # not materialized yet
            raise DatabaseError(f"online store {self.path}: {err}") from None
        by_key = {key: OnlineRow(ts, features) for key, ts, features in rows}
        return [by_key.get(key) for key in entity_keys]


def _encode(view: OnlineView, rows: pyarrow.Table) -> list[tuple[str, str, str]]:
    """(entity key, feature timestamp, features as JSON) per row, encoded by DuckDB."""
    import duckdb

    keys = [_quoted(k) for k in view.join_keys]
    key = f"CAST({keys[0]} AS VARCHAR)" if len(keys) == 1 else f"CAST(json_array({', '.join(keys)}) AS VARCHAR)"
    features = ", ".join(f"{_quoted(f)} := {_quoted(f)}" for f in view.features)
    with duckdb.connect() as encoder:
        encoder.execute("SET TimeZone = 'UTC'")
        encoder.register("offline_rows", rows)
        return encoder.execute(
            f"SELECT {key}, strftime(CAST({FEATURE_TS} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f'), "
            f"CAST(to_json(struct_pack({features})) AS VARCHAR) FROM offline_rows"
        ).fetchall()
