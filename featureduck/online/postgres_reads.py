"""Serving's reads of the Postgres online store: a view's rows by key, the features
as one JSON object the server builds, synchronously or on a pool of async
connections."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.engines.postgres import PostgresAdapter
from featureduck.errors import DatabaseError
from featureduck.online.base import OnlineRow, OnlineView
from featureduck.online.postgres_tables import StoreTables, in_parameter

if TYPE_CHECKING:
    import psycopg_pool


def lookup_query(tables: StoreTables, view: OnlineView) -> exp.Select:
    """The view's rows whose key is in the one parameter (an array), each with the time
    its view was materialized, read in the same snapshot (an InitPlan, run once)."""
    features = exp.func("json_build_object", *[e for f in view.features for e in (exp.Literal.string(f), exp.column(f, quoted=True))])
    utc = exp.AtTimeZone(this=exp.column("materialized_at"), zone=exp.Literal.string("UTC"))
    materialized = exp.select(exp.func("to_char", utc, exp.Literal.string('YYYY-MM-DD"T"HH24:MI:SS.US'))).from_(tables.views).where(
        exp.column("view_key").eq(exp.Literal.string(view.key)))
    return exp.select(
        exp.column("entity_key"), exp.cast(exp.column("feature_ts"), "text"), exp.cast(features, "text"), materialized.subquery(),
    ).from_(tables.table(view.table)).where(in_parameter(exp.column("entity_key")))


class StoreReader:
    def __init__(self, adapter: PostgresAdapter, tables: StoreTables, pool_size: int) -> None:
        self.adapter = adapter
        self.tables = tables
        self.pool_size = pool_size  # async connections per serving worker
        self._queries: dict[str, str] = {}
        self._pool: asyncio.Future[psycopg_pool.AsyncConnectionPool[Any]] | None = None

    def _query(self, view: OnlineView) -> str:
        text = self._queries.get(view.key)
        if text is None:
            text = self._queries[view.key] = lookup_query(self.tables, view).sql("postgres")
        return text

    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        import psycopg

        try:
            rows = self.adapter.connection().execute(self._query(view), [list(entity_keys)]).fetchall()
        except psycopg.errors.UndefinedTable:
            return [None] * len(entity_keys)  # not materialized yet
        except psycopg.Error as err:
            raise DatabaseError(f"online store {self.tables.schema}.{view.table}: {str(err).strip()}") from None
        return _in_order(entity_keys, rows)

    async def read_async(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        """On a pool of async connections, so one worker keeps `pool_size` lookups in
        flight instead of blocking its loop on each round trip."""
        import psycopg
        import psycopg_pool

        if self._pool is None:  # no await before it is set: one pool per loop
            self._pool = asyncio.ensure_future(self._open_pool())
        try:
            pool = await self._pool
            async with pool.connection() as connection:
                cursor = await connection.execute(self._query(view), [list(entity_keys)])
                rows = await cursor.fetchall()
        except psycopg.errors.UndefinedTable:
            return [None] * len(entity_keys)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as err:
            raise DatabaseError(f"online store {self.tables.schema}.{view.table}: {str(err).strip()}") from None
        return _in_order(entity_keys, rows)

    async def _open_pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        import psycopg_pool

        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            self.adapter.conninfo(), min_size=1, max_size=self.pool_size, open=False, timeout=10, kwargs={"autocommit": True},
        )
        await pool.open()
        return pool

    async def close_async(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await (await pool).close()


def _in_order(entity_keys: Sequence[str], rows: list[tuple[Any, ...]]) -> list[OnlineRow | None]:
    # Postgres writes JSON as `{"a" : 1, "b" : 2}`: compacted, an answer reads as the embedded store's does
    by_key = {key: OnlineRow(stamp, orjson.dumps(orjson.loads(features)).decode(), version) for key, stamp, features, version in rows}
    return [by_key.get(key) for key in entity_keys]
