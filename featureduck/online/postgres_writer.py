"""Writing a view's rows into the Postgres online store.

Rows are written by DuckDB's postgres extension (a binary COPY from the
Arrow rows), so no Python loop touches a row. A full materialization loads a
new table, then builds its key and swaps it in (a rename) inside one
transaction; an incremental one loads a staging table and upserts from it
in one statement. Readers see the old or the new state of a view, never a
mix; a writer killed midway leaves a loaded table no reader uses, dropped by
the next write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import orjson
from sqlglot import exp

from featureduck.engines.postgres import PostgresAdapter
from featureduck.errors import ConnectionFailure, DatabaseError
from featureduck.online.base import FEATURE_TS, OnlineView, ViewState, entity_key_expression, key_type, utc_text
from featureduck.online.postgres_tables import StoreTables, postgres_type

if TYPE_CHECKING:
    import duckdb
    import pyarrow


def view_state(adapter: PostgresAdapter, tables: StoreTables, view: OnlineView) -> ViewState | None:
    """The view's watermark, key types, row count and when it was materialized; None before its first write."""
    query = exp.select("watermark", "key_types", "row_count", "materialized_at").from_(tables.views).where(
        exp.column("view_key").eq(exp.Literal.string(view.key)))
    rows = adapter.execute(query)
    if not rows:
        return None
    watermark, key_types, count, materialized_at = rows[0]
    return ViewState(watermark, tuple(key_types), int(count), materialized_at.replace(tzinfo=None).isoformat(timespec="seconds"))


class StoreWriter:
    """Loads and swaps in (or upserts) a view's rows; holds the DuckDB connection that
    writes into the store, made once: loading the postgres extension and attaching
    cost more than a small view's rows."""

    def __init__(self, adapter: PostgresAdapter, tables: StoreTables, channel: str) -> None:
        self.adapter = adapter
        self.tables = tables
        self.channel = channel  # NOTIFYed with the view's key when its new values commit
        self._duckdb: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._duckdb is not None:
                self._duckdb.close()
                self._duckdb = None

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        try:
            with self._writing(view):
                return self._write(view, rows, full)
        except DatabaseError as err:
            raise DatabaseError(f"online store {self.tables.schema}.{view.table}: {err.message}") from None

    @contextmanager
    def _writing(self, view: OnlineView) -> Iterator[None]:
        """The view's writers one at a time, in every process (an advisory lock of this
        thread's session, which the server drops with a killed writer's connection): two
        at once would share the staging table's name, and a first write of each would
        replace the other's rows."""
        key = exp.func("hashtextextended", exp.Literal.string(f"featureduck online {self.tables.schema}.{view.table}"), exp.convert(0))
        self.adapter.execute(exp.select(exp.func("pg_advisory_lock", key)))
        try:
            yield
        finally:
            self.adapter.execute(exp.select(exp.func("pg_advisory_unlock", key.copy())))

    def _write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        import pyarrow.compute

        adapter, tables = self.adapter, self.tables
        wanted = {f: postgres_type(rows.schema.field(f).type) for f in view.features}
        key_types = [key_type(rows.schema.field(k).type) for k in view.join_keys]
        newest = pyarrow.compute.max(rows.column(FEATURE_TS)).as_py() if rows.num_rows else None
        watermark = utc_text(newest) if newest is not None else None
        previous = None if full else view_state(adapter, tables, view)
        existing = adapter.existing_columns(tables.table(view.table))
        replace = previous is None or not existing
        # loaded first, outside the transaction: DuckDB writes through its own connection
        loaded = view.table + ("__fduck_new" if replace else "__fduck_stage")
        adapter.execute(tables.drop(loaded))
        adapter.execute(tables.create_feature_table(loaded, wanted, unlogged=not replace))
        self._bulk_load(view, rows, loaded)
        with adapter.transaction():
            if replace:
                adapter.execute("SET LOCAL maintenance_work_mem = '512MB'")  # the key's index is built in memory
                adapter.execute(tables.drop(view.table))
                adapter.execute(tables.rename(loaded, view.table))
                adapter.execute(tables.add_primary_key(view.table))
                count = written = rows.num_rows  # a full load holds one row per entity
            else:
                for statement in tables.align(view.table, existing, wanted):
                    adapter.execute(statement)
                upserted = adapter.execute(tables.upsert(view, loaded, wanted))
                written = int(upserted[0][0]) if upserted else rows.num_rows
                adapter.execute(tables.drop(loaded))
                if previous is not None and previous.watermark and (watermark is None or previous.watermark > watermark):
                    watermark = previous.watermark
                count = int(adapter.execute(exp.select(exp.func("count", exp.Star())).from_(tables.table(view.table)))[0][0])
            adapter.execute(tables.notify(self.channel, view))  # delivered on commit
            adapter.execute(tables.record_view(view, orjson.dumps(key_types).decode(), watermark, count))
        return written

    def _writer(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        from featureduck.engines.extensions import load_extension

        with self._lock:
            if self._duckdb is None:
                writer = duckdb.connect()
                load_extension(writer, "postgres")
                writer.execute("SET TimeZone = 'UTC'")
                try:
                    writer.execute(f"ATTACH {exp.Literal.string(self.adapter.conninfo()).sql('duckdb')} AS online_store (TYPE postgres)")
                except duckdb.Error as err:
                    writer.close()
                    raise ConnectionFailure(f"cannot connect to the Postgres online store: {str(err).strip()}") from None
                self._duckdb = writer
            return self._duckdb

    def _bulk_load(self, view: OnlineView, rows: pyarrow.Table, table: str) -> None:
        """DuckDB's postgres extension writes the rows with a binary COPY, no Python per row.

        (Splitting a load over two COPY streams was measured: no faster on 2 cores.)
        """
        import duckdb

        names = ["entity_key", *view.features, "feature_ts"]
        query = exp.select(
            exp.alias_(entity_key_expression(list(view.join_keys)), "entity_key"),
            *[exp.column(f, quoted=True) for f in view.features],
            exp.alias_(exp.cast(exp.column(FEATURE_TS), "TIMESTAMP"), "feature_ts"),
        ).from_("offline_rows")
        target = exp.Table(this=exp.to_identifier(table, quoted=True), db=exp.to_identifier(self.tables.schema, quoted=True),
                           catalog=exp.to_identifier("online_store"))
        insert = exp.Insert(this=exp.Schema(this=target, expressions=[exp.to_identifier(n, quoted=True) for n in names]), expression=query)
        with self._writer().cursor() as cursor:  # a cursor is its own connection to the same attached store
            cursor.register("offline_rows", rows)
            try:
                cursor.execute("CALL pg_clear_cache()")  # the table was made after the store was attached
                cursor.execute(insert.sql(dialect="duckdb"))
            except duckdb.Error as err:
                raise DatabaseError(f"loading the online store {self.tables.schema}.{table}: {str(err).strip()}") from None
