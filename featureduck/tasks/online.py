"""The online store's commands: `fduck materialize`, `fduck online migrate`, and the
in-process lookup `fduck serve` answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from featureduck.errors import UsageError
from featureduck.online.base import OnlineStore, OnlineView, utc_text
from featureduck.online.lookup import OnlineIndex
from featureduck.online.materialize import Materialized, Window, materialize, online_views
from featureduck.online.postgres import PostgresStore
from featureduck.online.postgres_migrate import Migrated
from featureduck.online.registry import create_store
from featureduck.streams.push import Pushed, Pusher
from featureduck.tasks.options import MaterializeOptions
from featureduck.tasks.workspace import Workspace

if TYPE_CHECKING:
    from featureduck.tasks.reporting import Reporter


def open_store(workspace: Workspace) -> OnlineStore:
    """The target's online store (`online_store:` in the profile; embedded by default), opened."""
    store = create_store(workspace.target, workspace.config.root)
    store.open()
    return store


def materialize_views(workspace: Workspace, options: MaterializeOptions, reporter: Reporter) -> list[Materialized]:
    """The latest values of the online feature views (all, or those named) into the store."""
    chosen = online_views(workspace.definition, list(options.views) or None)
    compiled = workspace.compile()
    store = open_store(workspace)  # a bad store setting is told before anything else
    try:
        with workspace.session() as session:
            session.read([view.model for view in chosen if view.model], [view.source for view in chosen if view.source])
            window = Window(utc_text(options.start) if options.start else None, utc_text(options.end) if options.end else None)
            return materialize(session.adapter, store, workspace.definition, compiled, chosen, options.full, reporter, window)
    finally:
        store.close()


def migrate(workspace: Workspace, old_table: str) -> list[Migrated]:
    """Move the older single-table layout of a Postgres online store into per-view tables."""
    store = open_store(workspace)
    try:
        if not isinstance(store, PostgresStore):
            raise UsageError(f"`online migrate` moves a Postgres online store; target '{workspace.target.name}' uses the "
                             f"{store.TYPE} store")
        definition = workspace.definition
        views = [OnlineView.of(v, definition.entities[v.entity]) for v in definition.feature_views.values() if v.online]
        return store.migrate_single_table(views, workspace.config.dialect, old_table)
    finally:
        store.close()


def push(workspace: Workspace, view: str, rows: list[dict[str, Any]], to: str) -> Pushed:
    """Rows to a stream feature view: online, and to its landing table with `to` offline."""
    from featureduck.engines.registry import create_adapter

    store = open_store(workspace)
    pusher = Pusher(workspace.definition, store, lambda: create_adapter(workspace.target))
    try:
        return pusher.push(view, rows, to)
    finally:
        pusher.close()
        store.close()


def lookup(workspace: Workspace, view: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The online values of `view` for each entity, given as {join key: value}."""
    store = open_store(workspace)
    try:
        return OnlineIndex(workspace.definition, store).lookup_dicts(view, entities)
    finally:
        store.close()
