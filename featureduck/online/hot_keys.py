"""An in-process cache of recently served entities, in front of the online store.

Every answer (found or not) is kept per (view version, entity key), least
recently used first out. It is emptied whenever the store's generation
changes — a number every materialization moves (LMDB's last transaction id;
for Postgres a count of the NOTIFYs materializations send) — so requests
after a materialization commits get its values, not the ones from before.

Answers stay as consistent as the store's: a request is answered from the
cache only when every entity it asks for is there, else the whole request is
read from the store, in one snapshot. A read is kept only if the generation
did not move while it ran. Postgres hears of a commit a moment after readers
may see it, so its rows also say which materialization wrote them: the cache
holds one materialization of a view at a time, the newest it has read. A
store that cannot say when it changed (generation None) is read every time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from featureduck.online.base import OnlineRow, OnlineStore, OnlineView

_MISSING: Any = object()


class HotKeys:
    def __init__(self, store: OnlineStore, max_entries: int, counted: Callable[[int, int], None] | None = None) -> None:
        self.store = store
        self.max_entries = max_entries
        self.counted = counted  # (hits, misses) of each lookup, for the metrics
        # values are plain tuples of text, which the garbage collector stops tracking: a
        # cache of 100,000 objects it scanned would stall requests at each full collection
        self._rows: OrderedDict[tuple[str, str], tuple[str, str, str | None] | None] = OrderedDict()
        self._generation: int | None = None
        self._versions: dict[str, str] = {}  # per view key: the materialization cached (versioned stores)

    async def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        generation = self.store.generation() if self.max_entries else None
        if generation is None:
            return await self.store.read_async(view, entity_keys)
        if generation != self._generation:
            self._forget(generation)
        found = [self._rows.get((view.key, key), _MISSING) for key in entity_keys]
        if all(row is not _MISSING for row in found):
            for key in entity_keys:
                self._rows.move_to_end((view.key, key))
            if self.counted:
                self.counted(len(entity_keys), 0)
            return [None if row is None else OnlineRow(*row) for row in found]
        if self.counted:
            hits = sum(1 for row in found if row is not _MISSING)
            self.counted(hits, len(entity_keys) - hits)
        rows = await self.store.read_async(view, entity_keys)
        if self.store.generation() == generation == self._generation and self._current(view, rows):
            for key, row in zip(entity_keys, rows, strict=True):
                self._rows[(view.key, key)] = None if row is None else (row.feature_ts, row.features, row.version)
            while len(self._rows) > self.max_entries:
                self._rows.popitem(last=False)
        return rows

    def _forget(self, generation: int | None) -> None:
        self._rows.clear()
        self._versions.clear()
        self._generation = generation

    def _current(self, view: OnlineView, rows: list[OnlineRow | None]) -> bool:
        """Whether a read may join the cache: from the materialization it holds of the
        view (or a newer one, which then replaces it). Always, for unversioned stores."""
        if not self.store.VERSIONED_ROWS:
            return True
        versions = {row.version for row in rows if row is not None}
        if len(versions) != 1 or None in versions:
            return False  # no row to tell which materialization the read saw
        version = str(versions.pop())
        held = self._versions.get(view.key)
        if held is not None and version < held:
            return False
        if held is not None and version > held:
            self._forget(self._generation)
        self._versions[view.key] = version
        return True
