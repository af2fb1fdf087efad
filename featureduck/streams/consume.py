"""`fduck stream`: stream sources' messages into their landing tables, exactly once,
and their stream feature views into the online store as they arrive.

Per batch of one source: the messages are decoded in an in-process DuckDB
(`streams.decode`); the stream feature views' newest row per entity is
upserted into the online store (newest event time wins there, so writing a
batch twice changes nothing); then one transaction of the target appends the
rows to the landing table, the malformed messages to the dead-letter table,
and moves the recorded offsets (`streams.offsets`). Killed before that commit,
the consumer reads the batch again; after it, never again.
"""

from __future__ import annotations

import functools
import gc
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.online.base import OnlineStore
from featureduck.project.nodes import SourceTable
from featureduck.streams.avro import AvroReader
from featureduck.streams.decode import ERROR, RAW_TABLE, decode_query
from featureduck.streams.kafka import RawBatch, TopicReader
from featureduck.streams.landing import LandingTables, ensure_landing, landing_tables
from featureduck.streams.mirror import apply_changes, last_changes
from featureduck.streams.offsets import (
    ensure_offsets_table,
    forget_offsets,
    read_offsets,
    read_truncated,
    record_offsets,
    record_truncated,
)
from featureduck.streams.postgres_slot import SlotReader
from featureduck.streams.views import StreamView, write_views
from featureduck.utils.clock import utc_now

if TYPE_CHECKING:
    import duckdb
    import pyarrow

BATCH_MESSAGES = 100_000
BATCH_WAIT = 0.05  # seconds a batch waits for its first message: the latency a quiet stream adds
REPORT_EVERY = 1.0
JOIN_WAIT = 0.01  # seconds a decoded batch waits for the loop before the next read one is joined to it


@dataclass
class SourceProgress:
    """What one stream source has done since `fduck stream` started, and where it is."""

    source_id: str
    name: str  # source.table
    relation: str  # the landing table
    landed: int = 0  # rows appended, or changes applied to a mirror
    deleted: int = 0  # of those changes, deletes
    dead_letters: int = 0
    batches: int = 0
    online_rows: int = 0
    positions: dict[int, int] = field(default_factory=dict)  # partition -> next offset
    lag: dict[int, int] = field(default_factory=dict)  # partition -> messages on the broker after it
    started_at: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started_at


class StreamProgress(Protocol):
    """The stream's part of the tasks' reporter (featureduck.tasks.reporting)."""

    def stream_progress(self, sources: list[SourceProgress], final: bool) -> None: ...


Decoder = Callable[["pyarrow.Table"], tuple["pyarrow.Table", "pyarrow.Table", int]]


@dataclass(frozen=True)
class _Decoded:
    """A batch as read (its offsets), its rows and dead letters as decoded, and how many
    rows of its stream views the online store kept."""

    raw: RawBatch
    rows: pyarrow.Table
    dead: pyarrow.Table
    online: int
    parts: int = 1  # the batches read that it joins

    def joined(self, later: _Decoded) -> _Decoded:
        """This batch and the one read after it as one: each partition's messages stay in
        offset order, and the later batch's ends are where the two end."""
        import pyarrow

        def both(first: pyarrow.Table, second: pyarrow.Table) -> pyarrow.Table:
            return pyarrow.concat_tables([first, second], promote_options="default")

        raw = RawBatch(both(self.raw.table, later.raw.table), {**self.raw.ends, **later.raw.ends}, {**self.raw.highs, **later.raw.highs})
        # no dead letter is an empty table of no columns
        dead = later.dead if not self.dead.num_rows else self.dead if not later.dead.num_rows else both(self.dead, later.dead)
        return _Decoded(raw, both(self.rows, later.rows), dead, self.online + later.online, self.parts + later.parts)


def _hand_over(into: queue.Queue[Any], item: object, stopped: threading.Event) -> None:
    while not stopped.is_set():
        try:
            into.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


class _Prefetch:
    """A source's batches in three stages, each in its own thread: one reads the next batch
    (Python, holding the GIL for each message), one decodes the last (DuckDB, outside it)
    and writes its stream views online, while the loop commits the one before. What was
    read or decoded but not committed is read again after a restart: only a commit moves
    the recorded offsets (and a batch written online twice changes nothing there)."""

    def __init__(self, reader: TopicReader, decode: Decoder) -> None:
        self.reader = reader
        self._decode = decode
        self._read: queue.Queue[RawBatch | BaseException] = queue.Queue(maxsize=1)
        self._ready: queue.Queue[_Decoded | BaseException] = queue.Queue(maxsize=1)
        self._stopped = threading.Event()
        self.highs: dict[int, int] = {}  # the broker's high offsets, last known (replaced whole: read from any thread)
        self._read_batches = 0  # counted by the reading thread alone,
        self._taken_batches = 0  # and by the loop alone: the difference is in flight
        self._threads = [threading.Thread(target=self._reading, name=f"read-{reader.topic}", daemon=True),
                         threading.Thread(target=self._decoding, name=f"decode-{reader.topic}", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _reading(self) -> None:
        try:
            while not self._stopped.is_set():
                batch = self.reader.poll(BATCH_MESSAGES, BATCH_WAIT)
                if batch is not None:
                    self._read_batches += 1
                    _hand_over(self._read, batch, self._stopped)
                else:
                    self.highs = self.reader.highs()  # idle: the lag still moves
        except BaseException as err:  # noqa: BLE001 - raised where the batch would have been taken
            _hand_over(self._read, err, self._stopped)

    def _decoding(self) -> None:
        """While the loop is still committing, the batches read meanwhile are decoded and
        joined to the one it takes next (up to BATCH_MESSAGES): a batch waiting for the
        loop would otherwise hold messages back by a whole commit, and the next batch
        read by another (at 10k messages/s on a slow machine, a third of the latency)."""
        try:
            # while the first fetch is in flight: DuckDB plans the decoding and pyarrow loads its kernels
            # (a quarter of a second, once), so the first batch is decoded as fast as the others
            self._decode(_empty_batch())
            held: _Decoded | None = None  # decoded, not taken by the loop yet
            while not self._stopped.is_set():
                if held is not None:
                    try:
                        self._ready.put(held, timeout=JOIN_WAIT)
                        held = None
                        continue
                    except queue.Full:
                        pass
                if held is not None and held.raw.table.num_rows >= BATCH_MESSAGES:
                    continue
                try:
                    item = self._read.get(timeout=0.1) if held is None else self._read.get_nowait()
                except queue.Empty:
                    continue
                if isinstance(item, BaseException):
                    raise item
                decoded = _Decoded(item, *self._decode(item.table))
                held = decoded if held is None else held.joined(decoded)
        except BaseException as err:  # noqa: BLE001 - raised where the batch would have been taken
            _hand_over(self._ready, err, self._stopped)

    def next(self, timeout: float) -> _Decoded | None:
        try:
            item = self._ready.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            raise item
        self._taken_batches += item.parts
        self.highs = {**self.highs, **item.raw.highs}
        return item

    def lag(self, positions: dict[int, int]) -> dict[int, int]:
        """Messages on the broker past each partition's position (0 where not known yet)."""
        highs = self.highs
        return {p: max(highs.get(p, positions.get(p, 0)) - positions.get(p, 0), 0) for p in self.reader.partitions}

    def caught_up(self, positions: dict[int, int]) -> bool:
        """Every partition has been fetched from (its high offset is known): before that,
        no message is no sign of an idle topic. (Not "read up to the high offset": a
        message the broker cannot hand out would then keep an idle stream from stopping.)
        And no batch is read but not yet taken: however long its decoding takes, that is
        no idleness."""
        return self._read_batches == self._taken_batches and all(p in self.highs for p in self.reader.partitions)

    def close(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join()


class _InPlace:
    """A reader polled by the loop itself, between commits: the slot reader, whose next
    read must see what the last commit moved."""

    def __init__(self, reader: SlotReader, decode: Decoder) -> None:
        self.reader = reader
        self._decode = decode
        self.highs: dict[int, int] = {}
        self._asked = 0.0

    def next(self, timeout: float) -> _Decoded | None:
        batch = self.reader.poll(BATCH_MESSAGES, timeout)
        if time.monotonic() - self._asked >= REPORT_EVERY:
            self.highs, self._asked = self.reader.highs(), time.monotonic()
        return None if batch is None else _Decoded(batch, *self._decode(batch.table))

    def lag(self, positions: dict[int, int]) -> dict[int, int]:
        return {p: max(self.highs.get(p, positions.get(p, 0)) - positions.get(p, 0), 0) for p in self.reader.partitions}

    def caught_up(self, positions: dict[int, int]) -> bool:
        """A peek answers synchronously: one that found nothing is idle."""
        return True

    def close(self) -> None:
        pass


class _Source:
    """One stream source table being consumed."""

    def __init__(self, adapter: EngineAdapter, table: SourceTable, dialect: str, views: list[StreamView], group: str,
                 project_root: Path) -> None:
        assert table.stream is not None
        self.table = table
        self.avro = AvroReader(table, project_root) if table.stream.format == "avro" else None
        self.tables: LandingTables = landing_tables(table, dialect)
        self.decode_sql = decode_query(table, dialect).sql(dialect="duckdb")
        self.landing_names = [c.name for c in self.tables.columns]
        self.mirrors = table.stream.mirrors
        self.views = views
        self.reader: TopicReader | SlotReader = SlotReader(table, group) if table.stream.kind == "postgres" else TopicReader(table, group)
        self.prefetch: _Prefetch | _InPlace | None = None
        self.known: dict[int, int] = {}
        self.truncated_at: int | None = None  # a mirror's last truncate's LSN (streams.offsets)
        self.progress = SourceProgress(table.unique_id, f"{table.source_name}.{table.name}", adapter.sql(self.tables.rows))


def consume(
    adapter: EngineAdapter,
    store: OnlineStore | None,
    tables: list[tuple[SourceTable, list[StreamView]]],
    dialect: str,
    group: str,
    reporter: StreamProgress,
    until_idle: float | None,
    project_root: Path,
    reset: bool = False,
    stopping: Callable[[], bool] = lambda: False,
) -> list[SourceProgress]:
    """Consume until `until_idle` seconds pass with no message once every source is caught
    up (None: until `stopping()`)."""
    import duckdb

    freezing = False
    ensure_offsets_table(adapter)
    sources = [_Source(adapter, t, dialect, views, group, project_root) for t, views in tables]
    decoder = duckdb.connect()
    decoder.execute("SET TimeZone = 'UTC'")
    try:
        for source in sources:
            if reset:
                with adapter.transaction():
                    forget_offsets(adapter, source.table.unique_id)
                    for relation in (source.tables.rows, source.tables.dead_letters, source.tables.staging):
                        if adapter.relation_kind(relation) is not None:
                            adapter.execute(exp.delete(relation.copy()))
            ensure_landing(adapter, source.table, source.tables)
            assert source.table.stream is not None
            source.known = read_offsets(adapter, source.table.unique_id, source.table.stream.topic)
            source.truncated_at = read_truncated(adapter, source.table.unique_id) if source.mirrors else None
            source.reader.open(source.known)
            decoding = decoder.cursor()  # a connection of its own: the decoding thread's
            decoding.execute("SET TimeZone = 'UTC'")
            decode = functools.partial(_decode_and_write, decoding, store, source)
            source.prefetch = _InPlace(source.reader, decode) if isinstance(source.reader, SlotReader) else _Prefetch(source.reader, decode)
            source.progress.positions = dict(source.known)
        # every batch is 100,000 message objects: without this, each full collection they set off would also
        # walk every object the project and its libraries hold, a tenth of a second each time (a caller who
        # froze objects already keeps them frozen: only what this froze is unfrozen)
        freezing = gc.get_freeze_count() == 0
        if freezing:
            gc.freeze()
        last_message, last_report = time.monotonic(), 0.0
        while not stopping():
            got = 0
            for source in sources:
                got += _one_batch(adapter, decoder, source)
            now = time.monotonic()
            if got:
                last_message = now
            if now - last_report >= REPORT_EVERY:
                for source in sources:
                    source.progress.lag = source.prefetch.lag(source.progress.positions) if source.prefetch else {}
                reporter.stream_progress([s.progress for s in sources], final=False)
                last_report = now
            # idle: nothing for `until_idle` seconds once every source has been fetched from (the first
            # fetch can take longer than the idle time: stopping before it would land nothing)
            if until_idle is not None and now - last_message >= until_idle and all(
                    s.prefetch is not None and s.prefetch.caught_up(s.progress.positions) for s in sources):
                break
        for source in sources:
            source.progress.lag = source.prefetch.lag(source.progress.positions) if source.prefetch else {}
        reporter.stream_progress([s.progress for s in sources], final=True)
        return [s.progress for s in sources]
    finally:
        if freezing:
            gc.unfreeze()
        for source in sources:
            if source.prefetch is not None:
                source.prefetch.close()
            source.reader.close()
        decoder.close()


def _one_batch(adapter: EngineAdapter, decoder: duckdb.DuckDBPyConnection, source: _Source) -> int:
    assert source.prefetch is not None
    decoded = source.prefetch.next(BATCH_WAIT)
    if decoded is None:
        return 0
    batch, rows, dead = decoded.raw, decoded.rows, decoded.dead
    source.progress.online_rows += decoded.online
    changes = last_changes(decoder, source.table, source.tables, rows, source.truncated_at) if source.mirrors else None
    with adapter.transaction():
        if changes is not None:
            refused = apply_changes(adapter, source.table, source.tables, changes)
            if refused:
                dead = _with_dead_letters(dead, refused)
            if changes.truncated_at is not None:
                record_truncated(adapter, source.table.unique_id, max(changes.truncated_at, source.truncated_at or 0))
        elif rows.num_rows:
            adapter.append_arrow(source.tables.rows, rows.select(source.landing_names))
        if dead.num_rows:
            adapter.append_arrow(source.tables.dead_letters, dead)
        assert source.table.stream is not None
        record_offsets(adapter, source.table.unique_id, source.table.stream.topic, source.known, batch.ends, batch.highs)
    if isinstance(source.reader, SlotReader):
        source.reader.committed(batch.ends)  # only now may the slot let the changes go
    source.known.update(batch.ends)
    if changes is not None and changes.truncated_at is not None:
        source.truncated_at = max(changes.truncated_at, source.truncated_at or 0)
    progress = source.progress
    progress.positions.update(batch.ends)
    # rows, or a mirror's changes of rows: a truncate (the first copy of a Postgres table begins with one) or a
    # change the mirror could not apply is none
    unapplied = dead.num_rows - decoded.dead.num_rows
    progress.landed += rows.num_rows - (changes.truncates if changes is not None else 0) - unapplied
    progress.deleted += changes.deletes if changes is not None else 0
    progress.dead_letters += dead.num_rows
    progress.batches += 1
    return int(batch.table.num_rows)


def _with_dead_letters(dead: pyarrow.Table, more: list[dict[str, Any]]) -> pyarrow.Table:
    """The batch's dead letters and `more` (changes the mirror could not apply), received now."""
    import pyarrow

    now = utc_now().replace(tzinfo=None)
    stamp, text = pyarrow.timestamp("us"), pyarrow.string()
    schema = pyarrow.schema([("_kafka_partition", pyarrow.int32()), ("_kafka_offset", pyarrow.int64()), ("_kafka_timestamp", stamp),
                             ("message_key", text), ("message", text), ("error", text), ("received_at", stamp)])
    added = pyarrow.Table.from_pylist([{**letter, "received_at": now} for letter in more], schema)
    return pyarrow.concat_tables([dead.cast(schema), added]) if dead.num_rows else added


def _empty_batch() -> pyarrow.Table:
    import pyarrow

    return pyarrow.table({
        "partition": pyarrow.array([], pyarrow.int32()), "offset": pyarrow.array([], pyarrow.int64()),
        "timestamp": pyarrow.array([], pyarrow.int64()), "key": pyarrow.array([], pyarrow.binary()),
        "value": pyarrow.array([], pyarrow.binary()), "seq": pyarrow.array([], pyarrow.int64()),
    })


def _decode_and_write(decoder: duckdb.DuckDBPyConnection, store: OnlineStore | None, source: _Source,
                      raw: pyarrow.Table) -> tuple[pyarrow.Table, pyarrow.Table, int]:
    """`_decode`, then the rows' stream views written online, where the batch is decoded:
    a value is served without waiting for the loop to commit the batch before."""
    rows, dead = _decode(decoder, source, raw)
    online = write_views(decoder, store, source.views, rows) if source.views and store is not None and rows.num_rows else 0
    return rows, dead, online


def _decode(decoder: duckdb.DuckDBPyConnection, source: _Source, raw: pyarrow.Table) -> tuple[pyarrow.Table, pyarrow.Table]:
    """The batch's rows (the landing table's columns, and for changes their kind and
    order), and its dead letters."""
    import pyarrow
    import pyarrow.compute

    if source.avro is not None:  # read into JSON first, each message with its writer schema
        values, faults = source.avro.to_json(raw.column("value").to_pylist())
        raw = raw.append_column("decoded", pyarrow.array(values, pyarrow.binary())).append_column(
            "fault", pyarrow.array(faults, pyarrow.string()))
    decoder.register(RAW_TABLE, raw)
    try:
        decoded = decoder.execute(source.decode_sql).to_arrow_table()
    finally:
        decoder.unregister(RAW_TABLE)
    failed = pyarrow.compute.is_valid(decoded.column(ERROR))
    if not pyarrow.compute.any(failed).as_py():
        return decoded, decoded.slice(0, 0).select([])
    rows = decoded.filter(pyarrow.compute.invert(failed))
    bad = decoded.filter(failed)
    now = pyarrow.array([utc_now().replace(tzinfo=None)] * bad.num_rows, pyarrow.timestamp("us"))
    dead = pyarrow.table({
        "_kafka_partition": bad.column("_kafka_partition"), "_kafka_offset": bad.column("_kafka_offset"),
        "_kafka_timestamp": bad.column("_kafka_timestamp"), "message_key": bad.column("message_key"),
        "message": bad.column("message"), "error": bad.column(ERROR), "received_at": now,
    })
    return rows, dead
