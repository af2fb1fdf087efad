"""Online stores by name; the profile's `online_store: {type: ...}` picks one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from featureduck.config.profiles import TargetConfig
from featureduck.errors import ProfileError, SourceLocation
from featureduck.online.base import OnlineStore
from featureduck.online.embedded import EmbeddedStore
from featureduck.online.postgres import PostgresStore
from featureduck.utils.suggest import did_you_mean

STORES: dict[str, type[OnlineStore]] = {EmbeddedStore.TYPE: EmbeddedStore, PostgresStore.TYPE: PostgresStore}
_CONNECTION_KEYS = ("dsn", "host", "port", "user", "password", "dbname", "database", "sslmode")


def _where(target: TargetConfig) -> SourceLocation | None:
    return SourceLocation(str(target.profiles_file)) if target.profiles_file else None


def online_settings(target: TargetConfig) -> dict[str, Any]:
    """The target's `online_store:` block; the embedded store when there is none."""
    settings = target.settings.get("online_store") or {"type": EmbeddedStore.TYPE}
    if not isinstance(settings, dict):
        raise ProfileError(f"online_store of target '{target.name}' must be a mapping such as {{type: embedded}}", _where(target))
    return dict(settings)


def create_store(target: TargetConfig, project_root: Path) -> OnlineStore:
    settings = online_settings(target)
    kind = str(settings.get("type", EmbeddedStore.TYPE))
    store = STORES.get(kind)
    if store is None:
        raise ProfileError(
            f"unknown online_store type '{kind}' in target '{target.name}'", _where(target),
            hint=did_you_mean(kind, list(STORES)) or f"choose one of: {', '.join(STORES)}",
        )
    if kind == target.type and not any(k in settings for k in _CONNECTION_KEYS):
        # a store on the target's own kind of server, with no connection of its own: the target's database
        settings = {**{k: v for k, v in target.settings.items() if k in _CONNECTION_KEYS}, **settings}
    try:
        return store(settings, project_root)
    except ProfileError as err:
        raise ProfileError(f"target '{target.name}': {err.message}", err.location or _where(target), err.hint) from None
