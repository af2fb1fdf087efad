"""Entity lookups against the online store, shared by `fduck serve` and the Python API.

Resolves a view name (`name` means its newest online version, `name@2` one
version), turns each requested entity (a bare key for single-key entities,
an object of join keys, or a JSON array for several keys) into the store's
key text coerced to the keys' offline types, and reads the rows. Everything
per view that does not change between requests is computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from featureduck.errors import UsageError
from featureduck.online.base import TEXT, OnlineRow, OnlineStore, OnlineView, coerce_key
from featureduck.project.loader import ProjectDefinition
from featureduck.utils.suggest import did_you_mean


class UnknownView(UsageError):
    """The request names no online feature view (HTTP 404)."""


@dataclass
class ViewEntry:
    view: OnlineView
    key_types: tuple[str, ...] | None  # from the store; None until materialized


class OnlineIndex:
    def __init__(self, definition: ProjectDefinition, store: OnlineStore) -> None:
        self.store = store
        self.entries: dict[str, ViewEntry] = {}
        newest: dict[str, ViewEntry] = {}
        for view in definition.feature_views.values():
            if not view.online:
                continue
            entry = ViewEntry(OnlineView.of(view, definition.entities[view.entity]), None)
            self.entries[view.key] = entry
            if view.name not in newest or view.version > newest[view.name].view.version:
                newest[view.name] = entry
        self.entries.update(newest)

    def views(self) -> list[OnlineView]:
        return sorted({e.view.key: e.view for e in self.entries.values()}.values(), key=lambda v: v.key)

    def entry(self, name: str) -> ViewEntry:
        entry = self.entries.get(name)
        if entry is None:
            names = sorted({e.view.name for e in self.entries.values()})
            raise UnknownView(f"unknown feature view '{name}'", hint=did_you_mean(name.split("@")[0], names))
        return entry

    def key_types(self, entry: ViewEntry) -> tuple[str, ...]:
        if entry.key_types is None:
            state = self.store.state(entry.view)
            if state is None:  # not materialized yet: nothing to coerce to, and nothing to find
                return tuple(TEXT for _ in entry.view.join_keys)
            entry.key_types = state.key_types
        return entry.key_types

    def entity_key(self, entry: ViewEntry, entity: Any) -> str:
        """The store's key text for one requested entity."""
        keys = entry.view.join_keys
        if isinstance(entity, dict):
            missing = [k for k in keys if k not in entity]
            if missing:
                raise UsageError(f"entity {orjson.dumps(entity).decode()} lacks join key {', '.join(missing)}")
            values: Sequence[Any] = [entity[k] for k in keys]
        elif isinstance(entity, list):
            if len(keys) == 1:  # an array is the form of a composite key only
                raise UsageError(f"view '{entry.view.name}' is keyed by {keys[0]} alone: give the key or an object, not an array")
            values = entity
        else:
            values = [entity]
        if len(values) != len(keys):
            raise UsageError(f"view '{entry.view.name}' is keyed by {', '.join(keys)}: give an object of them")
        return coerce_key(values, self.key_types(entry), keys)

    def lookup(self, name: str, entities: Sequence[Any]) -> tuple[ViewEntry, list[str], list[OnlineRow | None]]:
        entry = self.entry(name)
        keys = [self.entity_key(entry, e) for e in entities]
        return entry, keys, self.store.read(entry.view, keys)

    def lookup_dicts(self, name: str, entities: Sequence[Any]) -> list[dict[str, Any]]:
        entry, _, rows = self.lookup(name, entities)
        return [
            {
                "entity": entity,
                "features": orjson.loads(row.features) if row else None,
                "feature_ts": row.feature_ts if row else None,
            }
            for entity, row in zip(entities, rows, strict=True)
        ]
