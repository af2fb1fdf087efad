"""Embedded DuckDB: the default engine. duckdb is imported only when connecting.

One connection per adapter; every thread works on its own cursor, since a
DuckDB connection must not be shared between threads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.engines.base import EngineAdapter, RelationKind
from featureduck.errors import ConnectionFailure, DatabaseError

if TYPE_CHECKING:
    import duckdb

# Settings of a duckdb profile that are featureduck's, not DuckDB configuration.
_PROFILE_KEYS = frozenset({"path", "threads", "schema", "database", "extensions", "settings"})


class DuckDBAdapter(EngineAdapter):
    TYPE = "duckdb"
    DIALECT = "duckdb"
    SUPPORTS_MATERIALIZED_VIEWS = False
    SUPPORTS_MERGE = True
    SUPPORTS_TRANSACTIONS = True

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        return str(self.target.settings.get("path", ":memory:"))

    def open(self) -> None:
        import duckdb

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {str(k): v for k, v in dict(self.target.settings.get("settings") or {}).items()}
        try:
            self._connection = duckdb.connect(self.path, config=config)
        except duckdb.IOException as err:
            raise ConnectionFailure(_lock_message(self.path, str(err))) from None
        except duckdb.Error as err:
            raise ConnectionFailure(f"cannot open DuckDB database {self.path}: {err}") from None

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def version(self) -> str:
        import duckdb

        return str(duckdb.__version__)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            if self._connection is None:
                self.open()
            assert self._connection is not None
            cursor = self._connection.cursor()
            with self._lock:
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import duckdb

        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            return self._cursor().execute(text, params).fetchall()
        except duckdb.Error as err:
            raise DatabaseError(str(err).strip()) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        cursor = self._cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            self.forget_catalog()
            raise
        cursor.execute("COMMIT")

    def list_relations(self, database: str, schema: str) -> dict[str, RelationKind]:
        rows = self.execute(
            "SELECT lower(table_name), table_type FROM information_schema.tables WHERE table_schema = ?"
            + (" AND table_catalog = ?" if database else " AND table_catalog = current_database()"),
            [schema, *([database] if database else [])],
        )
        return {name: "view" if kind == "VIEW" else "table" for name, kind in rows}

    def replace_table(self, table: exp.Table, query_sql: str) -> int | None:
        """DuckDB's DDL is transactional: CREATE OR REPLACE inside a transaction
        swaps the new table in atomically, and a failed build rolls back to the
        previous one. It saves the temporary table's drop and rename per model."""
        existing = self.relation_kind(table)
        with self.transaction():
            if existing not in (None, "table"):
                self.drop(table, existing)
            return self.create_table_as(table, query_sql, replace=True)

    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        if not table.db:  # temporary tables are created unqualified
            rows = self.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = 'temp' AND table_name = ? ORDER BY column_index",
                [table.name],
            )
        else:
            rows = self.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?"
                + (" AND table_catalog = ?" if table.catalog else "")
                + " ORDER BY ordinal_position",
                [table.db, table.name, *([table.catalog] if table.catalog else [])],
            )
        return [(str(n), str(t)) for n, t in rows]


def _lock_message(path: str, error: str) -> str:
    """DuckDB says 'Could not set lock on file ... (PID n)'; say it plainly."""
    if "lock" in error.lower():
        pid = re.search(r"PID (\d+)", error)
        holder = f" (held by process {pid.group(1)})" if pid else ""
        return f"the DuckDB database {path} is locked by another process{holder}; close it and retry"
    return f"cannot open DuckDB database {path}: {error}"
