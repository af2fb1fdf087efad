"""The default online store: an LMDB environment in a folder, no server.

LMDB is a copy-on-write B+tree with MVCC: readers in any process never
block and never wait for the writer, and see the state of the last commit
when their read transaction began. A view is written in one write
transaction (a full materialization empties the view's table and refills
it inside it), so `fduck serve` answers every request, a batch included,
from one committed state of a view, old or new, never a mix; a writer
killed midway leaves nothing of its transaction (the pages it wrote were
never referenced by a committed root). Reads are a memory-mapped lookup.

Rows are encoded by DuckDB in one vectorized pass (`encoding`): key text,
and `<feature_ts>|<features as JSON>` as the value, sorted by key so a full
write appends to the tree; on a DuckDB target the offline query itself
encodes them, elsewhere an in-process DuckDB does it over the fetched rows;
pushes are encoded to the same bytes by Arrow (streams.push_columns). Serving
returns the JSON as it is. An incremental write reads the stored rows of its
entities and compares each with its own (`_put_newer`); a row stamped after the
view's watermark, newer than any stored, is put unread (`_after`).
(SQLite was measured first: 145k rows/s for a million entities, where this
writes over 700k; benchmarks/README.md.)
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.errors import DatabaseError, ProfileError
from featureduck.online.base import (
    FEATURE_TS,
    OnlineRow,
    OnlineStore,
    OnlineView,
    ViewState,
    entity_key_expression,
    feature_order,
    key_type,
    utc_text,
)
from featureduck.online.map_mode import MapMode
from featureduck.online.writer_lock import WriterLock
from featureduck.utils.clock import utc_now

if TYPE_CHECKING:
    import lmdb
    import pyarrow

DEFAULT_PATH = "target/online_store"
ENCODED_KEY, ENCODED_VALUE = "__fd_key", "__fd_value"
_OPEN_LOCK = threading.Lock()
DEFAULT_MAP_SIZE = 1 << 40  # address space, not disk: the file grows with the data (sparse on Linux)
_VIEWS = b"__fduck_views"
FLUSH_SECONDS = 1.0


@dataclass
class _Shared:
    """What the stores of one process opened on one folder share (LMDB allows one
    environment per file and process)."""

    env: lmdb.Environment
    flusher: _Flusher | None  # with `sync: false`
    writer: WriterLock
    mode: MapMode
    users: int = 0


_OPEN: dict[str, _Shared] = {}  # by the folder's resolved path


class EmbeddedStore(OnlineStore):
    TYPE = "embedded"

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        super().__init__(settings, project_root)
        path = Path(str(settings.get("path") or DEFAULT_PATH))
        self.path = path if path.is_absolute() else project_root / path
        sync = settings.get("sync", True)
        if not isinstance(sync, bool):
            raise ProfileError(f"online_store sync must be true or false, not {sync!r}")
        # false: commits are not flushed one by one (a push's few rows would pay a disk flush each)
        # but every FLUSH_SECONDS: a process killed loses nothing, a machine that crashes the last flush's
        # writes, and the store may then need a rebuild (`fduck materialize --full`)
        self.sync = sync
        self.writemap, self.map_size = _mapping(settings)
        self._shared: _Shared | None = None
        self._tables: dict[str, Any] = {}
        self._lock = threading.Lock()

    def open(self) -> None:
        self._opened()

    def _opened(self) -> _Shared:
        """The shared environment, opened on first use."""
        if self._shared is not None:
            return self._shared
        import lmdb

        self.path.mkdir(parents=True, exist_ok=True)
        key = str(self.path.resolve())
        with _OPEN_LOCK:
            shared = _OPEN.get(key)
            if shared is None:
                mode = MapMode(self.path, self.writemap)
                try:
                    env = lmdb.open(
                        key, map_size=self.map_size, max_dbs=4096, readahead=False, max_readers=1024,
                        sync=self.sync, writemap=self.writemap,
                    )
                except lmdb.Error as err:
                    mode.close()
                    raise DatabaseError(f"cannot open the online store {self.path}: {err}") from None
                env.reader_check()  # slots of reader processes that were killed
                shared = _OPEN[key] = _Shared(env, None if self.sync else _Flusher(env), WriterLock(self.path), mode)
            shared.users += 1
            self._shared = shared
        return shared

    def close(self) -> None:
        shared = self._shared
        if shared is None:
            return
        with _OPEN_LOCK:
            shared.users -= 1
            if shared.users == 0:
                del _OPEN[str(self.path.resolve())]
                if shared.flusher is not None:
                    shared.flusher.stop()
                shared.env.close()
                shared.writer.close()
                shared.mode.close()
        self._shared = None
        self._tables.clear()

    @property
    def env(self) -> lmdb.Environment:
        return self._opened().env

    def writing_now(self) -> AbstractContextManager[bool]:
        """With `sync: false` a write costs CPU alone, and no other featureduck writer
        is in one when the writer lock is free: then it may run where waiting would
        stall others (a server's event loop). A commit flushed to disk is never made
        there."""
        return nullcontext(False) if self.sync else self._opened().writer.held(wait=False)

    def generation(self) -> int:
        """LMDB's last committed transaction id, read from the shared meta page (~1 µs):
        it moves with every write, from this process or another."""
        return int(self.env.info()["last_txnid"])

    def _table(self, name: str, create: bool) -> Any:
        """The named database of a view (or the views' metadata); None if absent and not `create`."""
        import lmdb

        table = self._tables.get(name)
        if table is None:
            with self._lock:
                try:
                    table = self.env.open_db(name.encode(), create=create)
                except lmdb.NotFoundError:  # not materialized yet
                    return None
                self._tables[name] = table
        return table

    def state(self, view: OnlineView) -> ViewState | None:
        views = self._table(_VIEWS.decode(), create=True)
        with self.env.begin(db=views) as txn:
            return _view_state(txn.get(view.key.encode()))

    def encoding(self, view: OnlineView, source: exp.Select) -> exp.Select:
        """`source`'s rows with the key and value bytes this store keeps, sorted by key
        (so a full write appends): `<feature_ts>|<features as JSON>`, encoded by DuckDB."""
        keys = [exp.column(k, quoted=True) for k in view.join_keys]
        struct = exp.func("struct_pack", *[
            exp.PropertyEQ(this=exp.to_identifier(f, quoted=True), expression=exp.column(f, quoted=True)) for f in view.features
        ])
        value = exp.DPipe(
            this=exp.DPipe(this=exp.cast(exp.cast(exp.column(FEATURE_TS), "TIMESTAMP"), "VARCHAR"), expression=exp.Literal.string("|")),
            expression=exp.cast(exp.func("to_json", struct), "VARCHAR"),
        )
        return (
            exp.select(
                *[k.copy() for k in keys], exp.column(FEATURE_TS),
                exp.alias_(_utf8_bytes(entity_key_expression(list(view.join_keys))), ENCODED_KEY),
                exp.alias_(_utf8_bytes(value), ENCODED_VALUE),
            )
            .from_(source.subquery("latest"))
            .order_by(exp.column(ENCODED_KEY))
        )

    def encode_rows(self, view: OnlineView, keys: pyarrow.Array, stamps: pyarrow.Array,
                    features: Sequence[tuple[str, pyarrow.Array]]) -> dict[str, Any]:
        """The key and value bytes `encoding` gives, for rows encoded outside it (in the
        order given: a full write needs them sorted by key)."""
        import pyarrow
        import pyarrow.compute as pc

        binary = pyarrow.binary()
        # `<stamp>|{"name":<json>,...}`, as orjson.dumps writes the features' dict, in one Arrow call
        parts: list[Any] = [pc.cast(stamps, binary)]
        for position, (name, texts) in enumerate(features):
            parts += [pyarrow.scalar((b"|{" if position == 0 else b",") + orjson.dumps(name) + b":", binary), texts]
        parts.append(pyarrow.scalar(b"}" if features else b"|{}", binary))
        return {ENCODED_KEY: pc.cast(keys, binary), ENCODED_VALUE: pc.binary_join_element_wise(*parts, pyarrow.scalar(b"", binary))}

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        import pyarrow.compute

        if ENCODED_KEY not in rows.column_names:
            rows = self._encode_locally(view, rows)
        keys, values = rows.column(ENCODED_KEY).to_pylist(), rows.column(ENCODED_VALUE).to_pylist()
        newest = pyarrow.compute.max(rows.column(FEATURE_TS)).as_py() if rows.num_rows else None
        watermark = utc_text(newest) if newest is not None else None
        table = self._table(view.table, create=True)
        views = self._table(_VIEWS.decode(), create=True)
        key_types = [key_type(rows.schema.field(k).type) for k in view.join_keys]
        with self._opened().writer.held(wait=True), _room(self), self.env.begin(write=True) as txn:
            previous = _view_state(txn.get(view.key.encode(), db=views))
            if not rows.num_rows and previous is not None and not full:
                key_types = list(previous.key_types)  # no new rows carry no types: the keys keep the stored ones
            if full or previous is None:
                txn.drop(table, delete=False)
                _, written = txn.cursor(table).putmulti(zip(keys, values, strict=True), append=True)
                if written != len(keys):  # appending takes keys in order, one each: never drop a row unseen
                    raise DatabaseError(f"online store {self.path}: {len(keys) - written} of the rows of {view.key} were "
                                        "not in key order or repeated a key")
            else:
                if len(set(keys)) != len(keys):  # each is compared with the stored row alone: one row per entity
                    raise DatabaseError(f"online store {self.path}: the rows of {view.key} repeated an entity")
                cursor = txn.cursor(table)
                fresh = _after(rows.column(FEATURE_TS), previous.watermark)
                if fresh is None:
                    written = _put_newer(cursor, keys, values, view.features)
                else:
                    stale = [not f for f in fresh]
                    written = _put_newer(cursor, list(compress(keys, stale)), list(compress(values, stale)), view.features)
                    written += cursor.putmulti(zip(compress(keys, fresh), compress(values, fresh), strict=True))[1]
                if previous.watermark and (watermark is None or previous.watermark > watermark):
                    watermark = previous.watermark
            count = txn.stat(table)["entries"]
            txn.put(view.key.encode(), orjson.dumps({
                "table": view.table, "key_types": key_types, "watermark": watermark, "rows": count,
                "materialized_at": utc_now().isoformat(timespec="seconds"),
            }), db=views)
        return written

    def _encode_locally(self, view: OnlineView, rows: pyarrow.Table) -> pyarrow.Table:
        """For offline engines other than DuckDB: the same encoding, by an in-process DuckDB."""
        import duckdb

        with duckdb.connect() as encoder:
            encoder.execute("SET TimeZone = 'UTC'")
            encoder.register("offline_rows", rows)
            query = self.encoding(view, exp.select("*").from_("offline_rows"))
            return encoder.execute(query.sql(dialect="duckdb")).to_arrow_table()

    def read(self, view: OnlineView, entity_keys: Sequence[str]) -> list[OnlineRow | None]:
        table = self._table(view.table, create=False)
        if table is None:
            return [None] * len(entity_keys)  # not materialized yet
        longest = self.env.max_key_size()  # a longer key cannot have been stored
        with self.env.begin(db=table) as txn:  # one snapshot for the whole batch
            found = [txn.get(encoded) if len(encoded := key.encode()) <= longest else None for key in entity_keys]
        rows: list[OnlineRow | None] = []
        for value in found:
            if value is None:
                rows.append(None)
            else:
                stamp, features = value.split(b"|", 1)
                rows.append(OnlineRow(stamp.decode(), features.decode()))
        return rows


class _Flusher:
    """Flushes an environment opened with `sync: false` every FLUSH_SECONDS, and once more when stopped."""

    def __init__(self, env: lmdb.Environment) -> None:
        self.env = env
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="online-store-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(FLUSH_SECONDS):
            self.env.sync(True)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self.env.sync(True)


def _mapping(settings: dict[str, Any]) -> tuple[bool, int]:
    """`writemap` and `map_size`, checked. With writemap LMDB changes its pages in the
    map itself, not in copies it then writes out: an unflushed commit costs about half
    (benchmarks/README.md), but the data file is sized to the whole map when opened
    (sparse where the file system allows), so the size must be one the user chose."""
    writemap, map_size = settings.get("writemap", False), settings.get("map_size", DEFAULT_MAP_SIZE)
    if not isinstance(writemap, bool):
        raise ProfileError(f"online_store writemap must be true or false, not {writemap!r}")
    if isinstance(map_size, bool) or not isinstance(map_size, int) or map_size <= 0:
        raise ProfileError(f"online_store map_size must be a positive number of bytes, not {map_size!r}")
    if writemap and "map_size" not in settings:
        raise ProfileError("online_store writemap: true needs a map_size: the store's data file is made that large "
                           "when opened, and the default is 1 TiB", hint="map_size: 17179869184 (16 GiB), the most the store may hold")
    return writemap, map_size


@contextmanager
def _room(store: EmbeddedStore) -> Iterator[None]:
    """A write that finds the map full is an error that says so (LMDB's own names no
    setting); the transaction is aborted, the store as it was."""
    import lmdb

    try:
        yield
    except lmdb.MapFullError:
        raise DatabaseError(f"the online store {store.path} is full: it holds at most map_size {store.map_size} bytes",
                            hint="raise map_size in the profile's online_store") from None


def _view_state(raw: bytes | None) -> ViewState | None:
    if raw is None:
        return None
    data = orjson.loads(raw)
    return ViewState(data["watermark"], tuple(data["key_types"]), int(data["rows"]), data["materialized_at"])


def _after(stamps: pyarrow.ChunkedArray, watermark: str | None) -> list[bool] | None:
    """Which rows are stamped after the view's watermark: every write moves it to its
    newest stamp at least, so no stored row is stamped as late, and such a row replaces
    the stored one unread (a live stream's rows, mostly). None when no row is, or none
    can be told to be (no watermark yet, or stamps that are no timestamps)."""
    import pyarrow
    import pyarrow.compute as pc

    if watermark is None or not pyarrow.types.is_timestamp(stamps.type):
        return None
    moment = datetime.datetime.fromisoformat(watermark)
    if stamps.type.tz is not None:
        moment = moment.replace(tzinfo=datetime.UTC)
    later = pc.fill_null(pc.greater(stamps, pyarrow.scalar(moment, stamps.type)), False).to_pylist()
    return later if any(later) else None


def _put_newer(cursor: lmdb.Cursor, keys: list[bytes], values: list[bytes], features: tuple[str, ...]) -> int:
    """Each row (one per key) put where it replaces the stored one by `write`'s rule:
    stamped later (the stamps' text is DuckDB's, whose order is the time order), or as
    late with greater features; how many did. Key by key, the stored row read and the
    new one put while the cursor's pages are at hand: for 1,600 random keys of 100,000,
    1.5 ms against 2.4 for one getmulti then one putmulti. (Comparing column-wise in
    Arrow took 340 against 410 us for those rows, but needs every stored row read
    first: the two calls again.) The stamps are compared here, not in a call per key,
    which cost a sixth more."""
    get, put = cursor.get, cursor.put
    written = 0
    for key, value in zip(keys, values, strict=True):
        held: bytes | None = get(key)  # type: ignore[assignment]  # bytes: opened without buffers
        if held is not None:
            stamp, _, incoming = value.partition(b"|")
            held_stamp, _, stored = held.partition(b"|")
            if stamp < held_stamp or (stamp == held_stamp and not _greater_features(incoming, stored, features)):
                continue
        put(key, value)
        written += 1
    return written


def _greater_features(incoming: bytes, stored: bytes, features: tuple[str, ...]) -> bool:
    """The tie rule of two rows stamped alike: the greater features, NULL lowest."""
    if incoming == stored:
        return False
    return feature_order(orjson.loads(incoming), features) > feature_order(orjson.loads(stored), features)


def _utf8_bytes(text: exp.Expr) -> exp.Expr:
    """DuckDB's encode(): VARCHAR to BLOB as UTF-8, with no escapes read (unlike a cast)."""
    return exp.Anonymous(this="encode", expressions=[text])
