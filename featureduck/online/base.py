"""The online store: the latest feature values of each entity, for serving.

A store keeps, per online feature view version, one row per entity: its
entity key (text), the feature timestamp of the values and the values.
`fduck materialize` writes a view in one transaction, so a reader sees the
view's old values or its new ones, never a mix, and a writer killed midway
leaves the previous state. Entity keys are text: a single join key as its
value's text (`42`, `ios`), several as a JSON array (`[42,"ios"]`); the
types the keys had offline are recorded, so a request's keys are coerced to
them before lookup (`"42"` finds the integer key 42).
"""

from __future__ import annotations

import datetime
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from sqlglot import exp

from featureduck.errors import UsageError
from featureduck.project.nodes import Entity, FeatureView, online_table

if TYPE_CHECKING:
    import pyarrow

FEATURE_TS = "__fd_feature_ts"
INTEGER, TEXT = "integer", "text"
_INTEGER_TEXT = re.compile(r"-?[0-9]+")  # ASCII digits only: no fullwidth or Arabic-Indic look-alikes
_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True)
class OnlineView:
    """A feature view version as the online store holds it."""

    key: str  # name@version
    name: str
    version: int
    join_keys: tuple[str, ...]
    features: tuple[str, ...]
    dtypes: tuple[str | None, ...]

    @classmethod
    def of(cls, view: FeatureView, entity: Entity) -> OnlineView:
        return cls(
            view.key, view.name, view.version, tuple(entity.join_keys),
            tuple(f.name for f in view.features), tuple(f.dtype for f in view.features),
        )

    @property
    def table(self) -> str:
        return online_table(self.name, self.version)


@dataclass(frozen=True)
class ViewState:
    """What the store holds of a view: up to which feature time, keyed how."""

    watermark: str | None  # the newest feature timestamp written (ISO text)
    key_types: tuple[str, ...]  # INTEGER or TEXT, per join key
    rows: int
    materialized_at: str


@dataclass(frozen=True)
class OnlineRow:
    feature_ts: str  # ISO text, UTC
    features: str  # a JSON object of the view's features
    version: str | None = None  # which materialization of the view wrote it, where a store says (VERSIONED_ROWS)


def key_type(arrow_type: Any) -> str:
    """How a join key's offline type is matched: integers as integers, the rest as text."""
    import pyarrow

    return INTEGER if pyarrow.types.is_integer(arrow_type) else TEXT


def coerce_key(values: Sequence[Any], key_types: Sequence[str], join_keys: Sequence[str]) -> str:
    """The entity key text for one entity's join-key values; UsageError when a
    value cannot be the key's type (a string of letters for an integer key)."""
    parts: list[Any] = []
    for value, kind, name in zip(values, key_types, join_keys, strict=True):
        if value is None or isinstance(value, (dict, list, float)) or isinstance(value, bool):
            raise UsageError(f"join key '{name}' must be {'an integer' if kind == INTEGER else 'a string or integer'}, "
                             f"got {orjson.dumps(value).decode()}")
        if kind == INTEGER:
            if isinstance(value, str) and not _INTEGER_TEXT.fullmatch(value):
                shown = value if len(value) <= 40 else value[:40] + "..."
                raise UsageError(f"join key '{name}' is an integer, got {shown!r}")
            # a text longer than any 64-bit integer is not parsed (a 5000-digit int() is slow, then refused)
            number = int(value) if len(str(value)) <= 20 else None
            if number is None or number not in _INT64:
                raise UsageError(f"join key '{name}' is outside the 64-bit integer range")
            parts.append(number)
        elif value == "":
            raise UsageError(f"join key '{name}' is empty")
        else:
            parts.append(str(value))
    if len(parts) == 1:
        return str(parts[0])
    return orjson.dumps(parts).decode()


def entity_key_expression(join_keys: list[str]) -> exp.Expr:
    """DuckDB SQL giving the key text `coerce_key` gives for the same values:
    one key's value as text, several as a JSON array."""
    keys = [exp.column(k, quoted=True) for k in join_keys]
    return exp.cast(keys[0] if len(keys) == 1 else exp.func("json_array", *keys), "VARCHAR")


def utc_text(moment: datetime.datetime) -> str:
    """The ISO text watermarks and feature timestamps are kept as (naive UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment.isoformat(sep="T", timespec="microseconds")


def feature_order(values: dict[str, Any], names: Sequence[str]) -> tuple[Any, ...]:
    """The features in declared order, NULL lowest: what breaks a tie of feature
    timestamps, in `latest_rows` and in the stores. Values that do not compare with
    each other (lists, objects) compare as their JSON text."""
    return tuple((0,) if values.get(n) is None else (1, _comparable(values[n])) for n in names)


def _comparable(value: Any) -> Any:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if isinstance(value, (list, dict)) else value


def stamp_text(moment: datetime.datetime) -> str:
    """A naive timestamp as DuckDB casts it to text (`2026-01-01 10:00:00.5`): the
    form stores keep feature timestamps in when DuckDB encodes them."""
    text = moment.isoformat(sep=" ")
    return text.rstrip("0") if moment.microsecond else text


class OnlineStore(ABC):
    """One store per process; `read` may be called from any thread."""

    TYPE: ClassVar[str]
    # rows carry the materialization they were read from, comparable as text (later is greater)
    VERSIONED_ROWS: ClassVar[bool] = False
    # reads cost a round trip to a server: serving caches hot keys in front of it by default
    REMOTE: ClassVar[bool] = False

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        self.settings = settings
        self.project_root = project_root

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def state(self, view: OnlineView) -> ViewState | None:
        """None before the view's first materialization."""

    def encoding(self, view: OnlineView, source: exp.Select) -> exp.Select | None:
        """A DuckDB query over `source` (the latest rows) giving the rows as `write`
        takes them, which a DuckDB offline engine runs itself; None: typed rows."""
        return None

    def encode_rows(self, view: OnlineView, keys: pyarrow.Array, stamps: pyarrow.Array,
                    features: Sequence[tuple[str, pyarrow.Array]]) -> dict[str, Any] | None:
        """`encoding`'s extra columns for rows encoded outside the offline query (pushes):
        from each entity's key text, feature timestamp text (stamp_text) and each
        feature's values as JSON texts (binary), by name in the view's order; None: the
        store takes typed rows."""
        return None

    @abstractmethod
    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        """Upsert the latest row per entity (join keys, FEATURE_TS, features, typed)
        in one transaction; with `full`, the view holds exactly these rows after.
        Otherwise a row replaces the stored one of its entity only when it is stamped
        later, or as late with greater features (`feature_order`): the rule of
        `latest_rows`, so a late, older row never regresses a value, a row written twice
        changes nothing, and writes in any order leave what one full write would.
        Returns how many rows it stored."""

    def writing_now(self) -> AbstractContextManager[bool]:
        """True while a `write` may be made at once, with no wait for another writer,
        a server or a disk flush (so on a server's event loop); False: make it where
        waiting stalls nothing. A store whose writes cross a network never says True."""
        return nullcontext(False)

    @abstractmethod
    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        """The stored row of each entity key, in order; None for unknown keys."""

    def generation(self) -> int | None:
        """A number that moves whenever a materialization commits, read on every
        served request (so cheap), which serving's hot-key cache (online.hot_keys) is
        emptied on; None: the store cannot tell now, and nothing is cached."""
        return None

    async def read_async(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        """`read` on the serving event loop. By default it reads in place: an embedded
        read takes microseconds, less than handing it to a thread. A store that waits
        on a server overrides it, so the loop serves other requests meanwhile."""
        return self.read(view, entity_keys)

    async def close_async(self) -> None:
        """Release what `read_async` opened, on the loop that opened it."""
        return None
