"""The Postgres online store: one typed table per feature view version.

`<schema>.online_<view>` (versions after the first `online_<view>_v<n>`)
holds `entity_key` (the primary key), one native column per feature,
`feature_ts` and `updated_at`; `fduck_online_views` holds each view's
watermark and key types. Columns follow the view: a new feature is added, a
retyped one altered, a removed one dropped.

Rows are written by DuckDB's postgres extension (a binary COPY from the
Arrow rows), so no Python loop touches a row. A full materialization loads a
new table, then builds its key and swaps it in (a rename) inside one
transaction; an incremental one loads a staging table and upserts from it
in one statement, keeping a stored row stamped later than the incoming one.
Readers see the old or the new state of a view, never a mix; a writer killed
midway leaves a loaded table no reader uses, dropped by the next run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.engines.postgres import conninfo
from featureduck.errors import ConnectionFailure, DatabaseError, ProfileError
from featureduck.online.base import (
    FEATURE_TS,
    OnlineRow,
    OnlineStore,
    OnlineView,
    ViewState,
    entity_key_expression,
    key_type,
    utc_text,
)

if TYPE_CHECKING:
    import duckdb
    import psycopg
    import psycopg_pool
    import pyarrow

DEFAULT_SCHEMA = "featureduck_online"
_VIEWS = "fduck_online_views"
POOL_SIZE = 8  # serving connections per worker (`pool_size:` in the store's settings)


def postgres_type(arrow_type: Any) -> str:
    """The native column type for an Arrow type (lists and structs as jsonb)."""
    import pyarrow

    if pyarrow.types.is_boolean(arrow_type):
        return "boolean"
    if pyarrow.types.is_integer(arrow_type):
        return "bigint" if arrow_type.bit_width > 32 or pyarrow.types.is_unsigned_integer(arrow_type) else "integer"
    if pyarrow.types.is_floating(arrow_type):
        return "double precision" if arrow_type.bit_width == 64 else "real"
    if pyarrow.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    if pyarrow.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    if pyarrow.types.is_date(arrow_type):
        return "date"
    if pyarrow.types.is_binary(arrow_type) or pyarrow.types.is_large_binary(arrow_type):
        return "bytea"
    if pyarrow.types.is_string(arrow_type) or pyarrow.types.is_large_string(arrow_type):
        return "text"
    return "jsonb"


@dataclass(frozen=True)
class Migrated:
    view: str  # name@version
    old_rows: int  # rows of the view in the single table
    present: int  # of those entity keys, how many the view's table holds now


class PostgresStore(OnlineStore):
    TYPE = "postgres"
    VERSIONED_ROWS = True
    REMOTE = True

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        super().__init__(settings, project_root)
        self.schema = str(settings.get("schema") or DEFAULT_SCHEMA)
        self.pool_size = settings.get("pool_size", POOL_SIZE)
        if not isinstance(self.pool_size, int) or isinstance(self.pool_size, bool) or self.pool_size < 1:
            raise ProfileError(f"online_store pool_size must be a positive integer, got {self.pool_size!r}")
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._duckdb: duckdb.DuckDBPyConnection | None = None
        self._pool: asyncio.Future[psycopg_pool.AsyncConnectionPool[Any]] | None = None  # serving reads
        self._reads: dict[str, str] = {}
        self._lock = threading.Lock()
        # serving: materializations NOTIFY this channel; a LISTENing task counts them
        self.channel = f"featureduck_online_{self.schema}"[:63]
        self._listener: asyncio.Task[None] | None = None
        self._changes: int | None = None  # None while not listening

    def conninfo(self) -> str:
        return conninfo(self.settings)

    def _ident(self, name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql("postgres")

    def _table(self, name: str) -> str:
        return f"{self._ident(self.schema)}.{self._ident(name)}"

    def open(self) -> None:
        connection = self._connection()
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {self._ident(self.schema)}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table(_VIEWS)} (view_key text PRIMARY KEY, table_name text NOT NULL, "
            "key_types jsonb NOT NULL, watermark text, row_count bigint NOT NULL, materialized_at timestamptz NOT NULL)"
        )

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
            if self._duckdb is not None:
                self._duckdb.close()
                self._duckdb = None
        self._local = threading.local()

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg

        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10)
            except psycopg.Error as err:
                raise ConnectionFailure(f"cannot connect to the Postgres online store: {str(err).strip()}") from None
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def state(self, view: OnlineView) -> ViewState | None:
        row = self._connection().execute(
            f"SELECT watermark, key_types, row_count, materialized_at FROM {self._table(_VIEWS)} WHERE view_key = %s", [view.key]
        ).fetchone()
        if row is None:
            return None
        return ViewState(row[0], tuple(row[1]), int(row[2]), row[3].replace(tzinfo=None).isoformat(timespec="seconds"))

    def columns(self, table: str) -> dict[str, str]:
        rows = self._connection().execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [self._table(table)]
        ).fetchall()
        return {str(name): str(kind) for name, kind in rows}

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        import psycopg
        import pyarrow.compute

        wanted = {f: postgres_type(rows.schema.field(f).type) for f in view.features}
        key_types = [key_type(rows.schema.field(k).type) for k in view.join_keys]
        newest = pyarrow.compute.max(rows.column(FEATURE_TS)).as_py() if rows.num_rows else None
        watermark = utc_text(newest) if newest is not None else None
        previous = None if full else self.state(view)
        existing = self.columns(view.table)
        replace = previous is None or not existing
        connection = self._connection()
        # loaded first, outside the transaction: DuckDB writes through its own connection
        loaded = view.table + ("__fduck_new" if replace else "__fduck_stage")
        try:
            connection.execute(f"DROP TABLE IF EXISTS {self._table(loaded)}")
            unlogged = "" if replace else "UNLOGGED "
            connection.execute(f"CREATE {unlogged}TABLE {self._table(loaded)} {self._definition(wanted)}")
            self._bulk_load(view, rows, loaded)
            with connection.transaction():
                if replace:
                    connection.execute("SET LOCAL maintenance_work_mem = '512MB'")  # the key's index is built in memory
                    connection.execute(f"DROP TABLE IF EXISTS {self._table(view.table)}")
                    connection.execute(f"ALTER TABLE {self._table(loaded)} RENAME TO {self._ident(view.table)}")
                    self._add_primary_key(view.table)
                else:
                    self._align(view.table, existing, wanted)
                    self._upsert(view, loaded)
                    if previous is not None and previous.watermark and (watermark is None or previous.watermark > watermark):
                        watermark = previous.watermark
                # a full load holds one row per entity: no need to count them
                count = (rows.num_rows,) if replace else connection.execute(f"SELECT count(*) FROM {self._table(view.table)}").fetchone()
                connection.execute("SELECT pg_notify(%s, %s)", [self.channel, view.key])  # delivered on commit
                connection.execute(
                    f"INSERT INTO {self._table(_VIEWS)} VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (view_key) DO UPDATE SET "
                    "table_name = EXCLUDED.table_name, key_types = EXCLUDED.key_types, watermark = EXCLUDED.watermark, "
                    "row_count = EXCLUDED.row_count, materialized_at = EXCLUDED.materialized_at",
                    [view.key, view.table, orjson.dumps(key_types).decode(), watermark, count[0] if count else 0],
                )
        except psycopg.Error as err:
            raise DatabaseError(f"online store {self.schema}.{view.table}: {str(err).strip()}") from None
        return rows.num_rows

    def _definition(self, wanted: dict[str, str]) -> str:
        # the key in the "C" collation: bytewise comparisons build its index several times faster
        features = "".join(f", {self._ident(name)} {kind}" for name, kind in wanted.items())
        key = 'entity_key text COLLATE "C" NOT NULL'
        return f"({key}{features}, feature_ts timestamp NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"

    def _writer(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection that writes into the store, made once per store: loading
        the postgres extension and attaching cost more than a small view's rows."""
        import duckdb

        from featureduck.engines.extensions import load_extension

        with self._lock:
            if self._duckdb is None:
                writer = duckdb.connect()
                load_extension(writer, "postgres")
                writer.execute("SET TimeZone = 'UTC'")
                try:
                    writer.execute(f"ATTACH {exp.Literal.string(self.conninfo()).sql('duckdb')} AS online_store (TYPE postgres)")
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

        query = exp.select(
            exp.alias_(entity_key_expression(list(view.join_keys)), "entity_key"),
            *[exp.column(f, quoted=True) for f in view.features],
            exp.alias_(exp.cast(exp.column(FEATURE_TS), "TIMESTAMP"), "feature_ts"),
        ).from_("offline_rows")
        columns = ", ".join(exp.to_identifier(n, quoted=True).sql("duckdb") for n in ["entity_key", *view.features, "feature_ts"])
        target = ".".join(exp.to_identifier(n, quoted=True).sql("duckdb") for n in ("online_store", self.schema, table))
        with self._writer().cursor() as cursor:  # a cursor is its own connection to the same attached store
            cursor.register("offline_rows", rows)
            try:
                cursor.execute("CALL pg_clear_cache()")  # the table was made after the store was attached
                cursor.execute(f"INSERT INTO {target} ({columns}) {query.sql(dialect='duckdb')}")
            except duckdb.Error as err:
                raise DatabaseError(f"loading the online store {self.schema}.{table}: {str(err).strip()}") from None

    def _add_primary_key(self, table: str) -> None:
        self._connection().execute(
            f"ALTER TABLE {self._table(table)} ADD CONSTRAINT {self._ident(table + '_pkey')} PRIMARY KEY (entity_key)"
        )

    def _align(self, table: str, existing: dict[str, str], wanted: dict[str, str]) -> None:
        """The table's feature columns made the view's: added, retyped, dropped."""
        connection = self._connection()
        fixed = {"entity_key", "feature_ts", "updated_at"}
        for name, kind in wanted.items():
            if name not in existing:
                connection.execute(f"ALTER TABLE {self._table(table)} ADD COLUMN {self._ident(name)} {kind}")
            elif existing[name] != kind:
                column = self._ident(name)
                connection.execute(f"ALTER TABLE {self._table(table)} ALTER COLUMN {column} TYPE {kind} USING {column}::text::{kind}")
        for name in existing:
            if name not in wanted and name not in fixed:
                connection.execute(f"ALTER TABLE {self._table(table)} DROP COLUMN {self._ident(name)}")

    def _upsert(self, view: OnlineView, stage: str) -> None:
        """One statement from the loaded rows; a stored row stamped later than the incoming one stays."""
        names = ["entity_key", *view.features, "feature_ts"]
        columns = ", ".join(self._ident(n) for n in names)
        updates = ", ".join(f"{self._ident(n)} = EXCLUDED.{self._ident(n)}" for n in names[1:])
        connection = self._connection()
        connection.execute(
            f"INSERT INTO {self._table(view.table)} AS t ({columns}) SELECT {columns} FROM {self._table(stage)} "
            f"ON CONFLICT (entity_key) DO UPDATE SET {updates}, updated_at = now() WHERE t.feature_ts <= EXCLUDED.feature_ts"
        )
        connection.execute(f"DROP TABLE {self._table(stage)}")

    def migrate_single_table(self, views: list[OnlineView], project_dialect: str, old_table: str) -> list[Migrated]:
        """Copy the older one-table layout, `online_features(feature_view, entity_key,
        features jsonb)`, into per-view tables, in one transaction.

        A row's `feature_view` is a view's name (its version 1) or `name@version`.
        Columns of a table that does not exist yet take the view's declared dtypes
        (jsonb where none is declared). Rows already in a view's table win (ON
        CONFLICT DO NOTHING), so running it twice changes nothing; the old table is
        left in place for the user to drop.
        """
        import psycopg

        connection = self._connection()
        source = old_table if "." in old_table else f"{self._ident(self.schema)}.{self._ident(old_table)}"
        done = []
        try:
            with connection.transaction():
                for view in views:
                    names = [view.key] + ([view.name] if view.version == 1 else [])
                    old = connection.execute(f"SELECT count(*) FROM {source} WHERE feature_view = ANY(%s)", [names]).fetchone()
                    if not old or not old[0]:
                        continue
                    existing = self.columns(view.table)
                    if not existing:
                        wanted = {f: _declared_type(d, project_dialect) for f, d in zip(view.features, view.dtypes, strict=True)}
                        connection.execute(f"CREATE TABLE {self._table(view.table)} {self._definition(wanted)}")
                        self._add_primary_key(view.table)
                        existing = self.columns(view.table)
                    values = [
                        f"features -> {exp.Literal.string(f).sql('postgres')}" if existing.get(f) == "jsonb"
                        else f"(features ->> {exp.Literal.string(f).sql('postgres')})::{existing.get(f, 'text')}"
                        for f in view.features
                    ]
                    columns = ", ".join(self._ident(n) for n in ["entity_key", *view.features, "feature_ts"])
                    connection.execute(
                        f"INSERT INTO {self._table(view.table)} ({columns}) SELECT entity_key, {', '.join(values)}, "
                        "coalesce((features ->> 'feature_ts')::timestamp, '-infinity') "
                        f"FROM {source} WHERE feature_view = ANY(%s) ON CONFLICT (entity_key) DO NOTHING", [names],
                    )
                    connection.execute(
                        f"INSERT INTO {self._table(_VIEWS)} SELECT %s, %s, %s, NULL, count(*), now() FROM {self._table(view.table)} "
                        "ON CONFLICT (view_key) DO NOTHING",
                        [view.key, view.table, orjson.dumps(["text"] * len(view.join_keys)).decode()],
                    )
                    connection.execute("SELECT pg_notify(%s, %s)", [self.channel, view.key])
                    present = connection.execute(
                        f"SELECT count(*) FROM {source} AS o JOIN {self._table(view.table)} AS n USING (entity_key) "
                        "WHERE o.feature_view = ANY(%s)", [names],
                    ).fetchone()
                    done.append(Migrated(view.key, int(old[0]), int(present[0]) if present else 0))
        except psycopg.Error as err:
            raise DatabaseError(f"migrating {source}: {str(err).strip()}") from None
        return done

    def _read_sql(self, view: OnlineView) -> str:
        """The lookup of a view's rows by key, the features as one JSON object: the
        server builds the text the response splices in. Each row carries the time its
        view was materialized, read in the same snapshot (an InitPlan, run once)."""
        sql = self._reads.get(view.key)
        if sql is None:
            pairs = ", ".join(f"{exp.Literal.string(f).sql('postgres')}, {self._ident(f)}" for f in view.features)
            version = (f"(SELECT to_char(materialized_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM {self._table(_VIEWS)} "
                       f"WHERE view_key = {exp.Literal.string(view.key).sql('postgres')})")
            sql = self._reads[view.key] = (
                f"SELECT entity_key, feature_ts::text, json_build_object({pairs})::text, {version} FROM {self._table(view.table)} "
                "WHERE entity_key = ANY(%s)"
            )
        return sql

    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        import psycopg

        try:
            rows = self._connection().execute(self._read_sql(view), [list(entity_keys)]).fetchall()
        except psycopg.errors.UndefinedTable:
            return [None] * len(entity_keys)  # not materialized yet
        except psycopg.Error as err:
            raise DatabaseError(f"online store {self.schema}.{view.table}: {str(err).strip()}") from None
        return _in_order(entity_keys, rows)

    async def read_async(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        """Reads on a pool of async connections, so one worker keeps POOL_SIZE lookups
        in flight instead of blocking its loop on each round trip."""
        import psycopg
        import psycopg_pool

        if self._pool is None:  # no await before it is set: one pool per loop
            self._pool = asyncio.ensure_future(self._open_pool())
        try:
            pool = await self._pool
            async with pool.connection() as connection:
                cursor = await connection.execute(self._read_sql(view), [list(entity_keys)])
                rows = await cursor.fetchall()
        except psycopg.errors.UndefinedTable:
            return [None] * len(entity_keys)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as err:
            raise DatabaseError(f"online store {self.schema}.{view.table}: {str(err).strip()}") from None
        return _in_order(entity_keys, rows)

    def generation(self) -> int | None:
        """How many materializations were notified since this process began listening;
        None until LISTEN is in place (started here, on the serving loop) or once it broke."""
        if self._listener is None:
            try:
                self._listener = asyncio.get_running_loop().create_task(self._listen())
            except RuntimeError:  # no loop: a synchronous read, nothing to cache for
                return None
        return self._changes

    async def _listen(self) -> None:
        import psycopg

        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self.conninfo(), autocommit=True, connect_timeout=10)
                async with connection:
                    await connection.execute(f"LISTEN {self._ident(self.channel)}")
                    # whatever committed while no one listened: a new generation
                    changes = self._changes = (self._changes or 0) + 1
                    async for _ in connection.notifies():
                        changes = self._changes = changes + 1
            except psycopg.Error:
                self._changes = None
                await asyncio.sleep(1)

    async def _open_pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        import psycopg_pool

        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            self.conninfo(), min_size=1, max_size=self.pool_size, open=False, timeout=10, kwargs={"autocommit": True},
        )
        await pool.open()
        return pool

    async def close_async(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener, self._changes = None, None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await (await pool).close()


def _in_order(entity_keys: Sequence[str], rows: list[tuple[Any, ...]]) -> list[OnlineRow | None]:
    by_key = {key: OnlineRow(stamp, features, version) for key, stamp, features, version in rows}
    return [by_key.get(key) for key in entity_keys]


def _declared_type(dtype: str | None, dialect: str) -> str:
    if dtype is None:
        return "jsonb"
    return exp.DataType.build(dtype, dialect=dialect).sql("postgres")

