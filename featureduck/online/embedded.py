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
encodes them, elsewhere an in-process DuckDB does it over the fetched rows.
Serving returns the JSON as it is.
(SQLite was measured first: 145k rows/s for a million entities, where this
writes over 700k; benchmarks/README.md.)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.errors import DatabaseError
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
from featureduck.utils.clock import utc_now

if TYPE_CHECKING:
    import lmdb
    import pyarrow

DEFAULT_PATH = "target/online_store"
ENCODED_KEY, ENCODED_VALUE = "__fd_key", "__fd_value"
_OPEN: dict[str, list[Any]] = {}  # path -> [environment, stores using it]
_OPEN_LOCK = threading.Lock()
DEFAULT_MAP_SIZE = 1 << 40  # address space, not disk: the file grows with the data (sparse on Linux)
_VIEWS = b"__fduck_views"


class EmbeddedStore(OnlineStore):
    TYPE = "embedded"

    def __init__(self, settings: dict[str, Any], project_root: Path) -> None:
        super().__init__(settings, project_root)
        path = Path(str(settings.get("path") or DEFAULT_PATH))
        self.path = path if path.is_absolute() else project_root / path
        self._env: lmdb.Environment | None = None
        self._tables: dict[str, Any] = {}
        self._lock = threading.Lock()

    def open(self) -> None:
        import lmdb

        self.path.mkdir(parents=True, exist_ok=True)
        key = str(self.path.resolve())
        with _OPEN_LOCK:  # LMDB allows one environment per file and process: stores share it
            shared = _OPEN.get(key)
            if shared is None:
                try:
                    env = lmdb.open(
                        key, map_size=int(self.settings.get("map_size", DEFAULT_MAP_SIZE)), max_dbs=4096,
                        readahead=False, max_readers=1024,
                    )
                except lmdb.Error as err:
                    raise DatabaseError(f"cannot open the online store {self.path}: {err}") from None
                env.reader_check()  # slots of reader processes that were killed
                shared = _OPEN[key] = [env, 0]
            shared[1] += 1
            self._env = shared[0]

    def close(self) -> None:
        if self._env is None:
            return
        key = str(self.path.resolve())
        with _OPEN_LOCK:
            shared = _OPEN[key]
            shared[1] -= 1
            if shared[1] == 0:
                del _OPEN[key]
                self._env.close()
        self._env = None
        self._tables.clear()

    @property
    def env(self) -> lmdb.Environment:
        if self._env is None:
            self.open()
        assert self._env is not None
        return self._env

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
            raw = txn.get(view.key.encode())
        if raw is None:
            return None
        data = orjson.loads(raw)
        return ViewState(data["watermark"], tuple(data["key_types"]), int(data["rows"]), data["materialized_at"])

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

    def encode_rows(self, view: OnlineView, keys: list[str], stamps: list[str], features: list[str]) -> dict[str, Any]:
        """The key and value bytes `encoding` gives, for rows encoded in Python (in the
        order given: a full write needs them sorted by key)."""
        import pyarrow

        return {
            ENCODED_KEY: pyarrow.array([k.encode() for k in keys], pyarrow.binary()),
            ENCODED_VALUE: pyarrow.array([f"{s}|{f}".encode() for s, f in zip(stamps, features, strict=True)], pyarrow.binary()),
        }

    def write(self, view: OnlineView, rows: pyarrow.Table, full: bool) -> int:
        import pyarrow.compute

        if ENCODED_KEY not in rows.column_names:
            rows = self._encode_locally(view, rows)
        keys, values = rows.column(ENCODED_KEY).to_pylist(), rows.column(ENCODED_VALUE).to_pylist()
        newest = pyarrow.compute.max(rows.column(FEATURE_TS)).as_py() if rows.num_rows else None
        watermark = utc_text(newest) if newest is not None else None
        table = self._table(view.table, create=True)
        views = self._table(_VIEWS.decode(), create=True)
        previous = self.state(view)
        # no new rows carry no types: the keys keep the ones they were stored with
        key_types = [key_type(rows.schema.field(k).type) for k in view.join_keys]
        if not rows.num_rows and previous is not None and not full:
            key_types = list(previous.key_types)
        with self.env.begin(write=True) as txn:
            if full or previous is None:
                txn.drop(table, delete=False)
                txn.cursor(table).putmulti(zip(keys, values, strict=True), append=True)
            else:
                for key, value in zip(keys, values, strict=True):
                    stored = txn.get(key, db=table)
                    # keep a stored row stamped later than the incoming one
                    if stored is None or stored.split(b"|", 1)[0] <= value.split(b"|", 1)[0]:
                        txn.put(key, value, db=table)
                if previous.watermark and (watermark is None or previous.watermark > watermark):
                    watermark = previous.watermark
            count = txn.stat(table)["entries"]
            txn.put(view.key.encode(), orjson.dumps({
                "table": view.table, "key_types": key_types, "watermark": watermark, "rows": count,
                "materialized_at": utc_now().isoformat(timespec="seconds"),
            }), db=views)
        return len(keys)

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


def _utf8_bytes(text: exp.Expr) -> exp.Expr:
    """DuckDB's encode(): VARCHAR to BLOB as UTF-8, with no escapes read (unlike a cast)."""
    return exp.Anonymous(this="encode", expressions=[text])
