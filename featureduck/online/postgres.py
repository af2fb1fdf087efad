"""The Postgres online store: one typed table per feature view version.

The store composes four parts, each in a module of its own: the tables and
their DDL (postgres_tables), writes (postgres_writer), serving's reads
(postgres_reads) and change notification (postgres_notify); the one-time
move from the older single-table layout is postgres_migrate. All of them
talk to the server through one Postgres engine adapter, the store's
connections and errors the engine's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.config.profiles import TargetConfig
from featureduck.engines.postgres import PostgresAdapter
from featureduck.errors import ConnectionFailure, ProfileError
from featureduck.online.base import OnlineRow, OnlineStore, OnlineView, ViewState
from featureduck.online.postgres_migrate import Migrated, migrate_single_table
from featureduck.online.postgres_notify import ChangeListener
from featureduck.online.postgres_reads import StoreReader
from featureduck.online.postgres_tables import StoreTables
from featureduck.online.postgres_writer import StoreWriter, view_state

if TYPE_CHECKING:
    import pyarrow

DEFAULT_SCHEMA = "featureduck_online"
POOL_SIZE = 8  # serving connections per worker (`pool_size:` in the store's settings)


class PostgresStore(OnlineStore):
    TYPE = "postgres"
    VERSIONED_ROWS = True
    REMOTE = True

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        super().__init__(settings, project_root)
        schema = str(settings.get("schema") or DEFAULT_SCHEMA)
        pool_size = settings.get("pool_size", POOL_SIZE)
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 1:
            raise ProfileError(f"online_store pool_size must be a positive integer, got {pool_size!r}")
        connection = {k: v for k, v in settings.items() if k not in ("type", "schema", "pool_size")}
        self.adapter = PostgresAdapter(TargetConfig("online_store", "postgres", {**connection, "schema": schema}), pool_size)
        self.tables = StoreTables(schema)
        # serving: writes NOTIFY this channel; a LISTENing task counts them
        self.channel = f"featureduck_online_{schema}"[:63]
        self.writer = StoreWriter(self.adapter, self.tables, self.channel)
        self.reader = StoreReader(self.adapter, self.tables, pool_size)
        self.listener = ChangeListener(self.adapter.conninfo, self.channel)

    @property
    def schema(self) -> str:
        return self.tables.schema

    def open(self) -> None:
        try:
            self.adapter.open()
        except ConnectionFailure as err:
            raise ConnectionFailure(f"cannot connect to the Postgres online store: {err.message}") from None
        self.adapter.execute(self.tables.create_schema())
        self.adapter.execute(self.tables.create_views_table())

    def close(self) -> None:
        self.writer.close()
        self.adapter.close()

    def state(self, view: OnlineView) -> ViewState | None:
        return view_state(self.adapter, self.tables, view)

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        return self.writer.write(view, rows, full)

    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        return self.reader.read(view, entity_keys)

    async def read_async(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        return await self.reader.read_async(view, entity_keys)

    def generation(self) -> int | None:
        return self.listener.generation()

    async def close_async(self) -> None:
        self.listener.stop()
        await self.reader.close_async()

    def migrate_single_table(self, views: list[OnlineView], project_dialect: str, old_table: str) -> list[Migrated]:
        """`fduck online migrate` (online.postgres_migrate)."""
        return migrate_single_table(self.adapter, self.tables, self.channel, views, project_dialect, old_table)
