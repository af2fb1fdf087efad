"""Pushing rows to a stream feature view (`POST /push/{view}`, `Project.push`), as
Feast's push source: validated against the stream source's declared column types,
the newest per entity written online by the stream's own rule (`streams.views`),
and with `to: online_and_offline` (or `offline`) appended to the source's landing
table in one transaction of the target.

A request is checked whole before anything is written: one bad row refuses the
request, naming the row and the column. A request is validated in Python (its
hundred rows cost less than starting a DuckDB query, or than an Arrow call per
column); the group of requests written together is encoded column-wise in Arrow
(`push_columns`), where per-row Python would cost more than the rows' writes.
"""

from __future__ import annotations

import datetime
import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import msgspec
import orjson
from sqlglot import exp

from featureduck.compiler.dtypes import decimal_digits
from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.online.base import FEATURE_TS, OnlineStore, OnlineView, feature_order, stamp_text
from featureduck.online.lookup import UnknownView
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import KAFKA_COLUMNS, MESSAGE_TIMESTAMP, FeatureView, SourceTable
from featureduck.streams.landing import ensure_landing, landing_tables
from featureduck.streams.push_columns import json_texts, newest_per_entity, quoted_texts, stamp_texts
from featureduck.utils.clock import utc_now
from featureduck.utils.suggest import did_you_mean

if TYPE_CHECKING:
    import pyarrow

PUSH_TARGETS = ("online", "offline", "online_and_offline")
# what msgspec decodes where `convert` checks the value itself: an integer only in the 64-bit
# range (orjson reads a longer one as a float, and the two ways must keep one value). A float
# is msgspec's own: it refuses one out of range, as orjson does (no infinity in JSON)
_NUMBER_OR_TEXT = Annotated[int, msgspec.Meta(ge=-(2 ** 63), le=2 ** 63 - 1)] | float | str | bool
_FROM_ISO = datetime.datetime.fromisoformat
_INTEGER_BITS = {
    exp.DataType.Type.TINYINT: 8, exp.DataType.Type.SMALLINT: 16, exp.DataType.Type.INT: 32, exp.DataType.Type.BIGINT: 64,
}


@dataclass(frozen=True)
class Pushed:
    view: str  # name@version
    rows: int  # rows in the request
    online: int  # rows offered online, the newest of their entity in the push (the store keeps a stored row stamped later)
    offline: int  # rows appended to the landing table


Columns = dict[str, list[Any]]  # a push's rows, column by column: what is validated, compared and written


@dataclass(frozen=True)
class _Column:
    name: str
    type: exp.DataType
    check: Callable[[Any], Any]  # one JSON value to the Python value kept, or ValueError naming the fault
    convert: Callable[[Sequence[Any]], list[Any]]  # a column's values (None kept), or ValueError: `check` then names which
    arrow: Any  # its pyarrow type
    decoded: Any  # the type msgspec decodes a value to (`PushView.decode`)
    settle: Callable[[Sequence[Any]], list[Any]] | None  # msgspec's values to the kept ones, or ValueError; None: as they are


class PushView:
    """What a push to one stream view needs, computed once per view."""

    def __init__(self, view: FeatureView, definition: ProjectDefinition, store: OnlineStore) -> None:
        import pyarrow.types

        assert view.source is not None
        self.view = view
        self.source: SourceTable = definition.sources[view.source]
        self.online = OnlineView.of(view, definition.entities[view.entity])
        dialect = definition.config.dialect
        landing_only = dict(KAFKA_COLUMNS)
        declared = {c.name: exp.DataType.build(str(c.data_type), dialect=dialect) for c in self.source.columns.values()
                    if c.name not in landing_only}
        self.columns = {name: _column(name, kind) for name, kind in declared.items()}
        self.keys = [self.columns[k] for k in self.online.join_keys]
        stamp = view.timestamp_field if view.timestamp_field != MESSAGE_TIMESTAMP else None
        if stamp is None:  # stamped by the message's time: a push gives the event time in that column
            self.columns[MESSAGE_TIMESTAMP] = _column(MESSAGE_TIMESTAMP, exp.DataType.build("TIMESTAMP"))
        self.stamp = self.columns[view.timestamp_field]
        self.decimals = any(c.type.is_type(exp.DataType.Type.DECIMAL) for c in self.columns.values())  # Pusher.exact_numbers
        self.features = [self.columns[f] for f in self.online.features]
        self._required = {*self.online.join_keys, view.timestamp_field}
        # JSON-encoded as they are (timestamps, dates and decimals are written as DuckDB's to_json writes them)
        self._plain = {f.name for f in self.features if not any(test(f.arrow) for test in (
            pyarrow.types.is_timestamp, pyarrow.types.is_date, pyarrow.types.is_decimal))}
        # numbers and booleans: JSON texts without commas (push_columns.json_texts)
        self._scalar = {f.name for f in self.features if any(test(f.arrow) for test in (
            pyarrow.types.is_integer, pyarrow.types.is_floating, pyarrow.types.is_boolean))}
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(self._body_type())
        self._fields = attrgetter(*(f"c{i}" for i in range(len(self.columns))))

    def _body_type(self) -> type:
        """The plain push body as msgspec structs: `{"rows": [...], "to": ...}` and nothing
        else, each row of the declared columns only, its join keys and timestamp given."""
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for i, column in enumerate(self.columns.values()):
            name = f"c{i}"  # the column's own name may be no Python name: renamed
            fields.append((name, column.decoded) if column.name in self._required else (name, column.decoded | None, None))
        names = {f"c{i}": name for i, name in enumerate(self.columns)}
        row: Any = msgspec.defstruct("PushRow", fields, rename=names, forbid_unknown_fields=True)
        return msgspec.defstruct("PushBody", [("rows", list[row]), ("to", str, "online")], forbid_unknown_fields=True)

    def decode(self, body: bytes) -> tuple[Columns, str] | None:
        """A plain push body's columns and its `to`, decoded and checked in one pass by
        msgspec; None for anything else (Feast's columns, any fault, a form only `validate`
        takes), which goes the general way (orjson, then `validate`): what that way refuses
        or keeps is what a push gets, the first bad row named by it."""
        try:
            rows = (decoded := self._decoder.decode(body)).rows
        except msgspec.DecodeError:  # ValidationError included
            return None
        if not rows:
            return None
        columns: Columns = {}
        for column, values in zip(self.columns.values(), zip(*map(self._fields, rows), strict=True), strict=True):
            if column.settle is None:
                columns[column.name] = list(values)
                continue
            try:
                columns[column.name] = column.settle(values)
            except ValueError:
                return None
        return columns, decoded.to

    def validate(self, rows: list[Any]) -> Columns:
        """The rows' values as kept, column by column; UsageError naming the first bad row and column."""
        if not isinstance(rows, list) or not rows:
            raise UsageError("expected a non-empty list of rows (objects of column: value)")
        given = self._values(rows)
        columns: Columns = {}
        for name, column in self.columns.items():
            values = given.get(name) or [None] * len(rows)
            if name in self._required and None in values:
                self._first_fault(rows)
            try:
                columns[name] = column.convert(values)
            except ValueError:
                self._first_fault(rows)
        return columns

    def _values(self, rows: list[Any]) -> dict[str, Sequence[Any]]:
        """Each given column's values; rows all of one shape (the usual push) are read at once."""
        allowed, first = self.columns.keys(), rows[0]
        if type(first) is dict and first.keys() <= allowed and all(type(row) is dict and row.keys() == first.keys() for row in rows):
            names = list(first)
            if len(names) < 2:
                return {name: [row[name] for row in rows] for name in names}
            return dict(zip(names, zip(*map(itemgetter(*names), rows), strict=True), strict=True))
        if not all(type(row) is dict and row.keys() <= allowed for row in rows):
            self._first_fault(rows)
        return {name: [row.get(name) for row in rows] for name in self.columns}

    def _first_fault(self, rows: list[Any]) -> NoReturn:
        """The error of the first bad value, row by row (only a refused push pays for it)."""
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise UsageError(f"row {index}: expected an object of column: value")
            unknown = [name for name in row if name not in self.columns]
            if unknown:
                raise UsageError(f"row {index}: '{unknown[0]}' is not a column of {self.source.source_name}.{self.source.name}",
                                 hint=did_you_mean(unknown[0], list(self.columns)))
            for name, column in self.columns.items():
                value = row.get(name)
                if value is None:
                    if name in self._required:
                        raise UsageError(f"row {index}: '{name}' is missing or null",
                                         hint="a pushed row needs its join keys and its timestamp")
                    continue
                try:
                    column.check(value)
                except ValueError as err:
                    raise UsageError(f"row {index}: '{name}' {err}") from None
        raise UsageError("the rows do not fit their columns")  # not reached: a column refused a value

    def online_rows(self, store: OnlineStore, columns: Columns) -> tuple[pyarrow.Table, list[int]]:
        """The newest row per entity among these, as the store writes them (it keeps a
        stored row stamped later: OnlineStore.write), and their indexes: the newest rows found
        in one pass, their columns encoded in Arrow for the whole group (push_columns)."""
        import pyarrow

        keys = self._key_texts(columns)
        chosen = newest_per_entity(keys, columns[self.stamp.name], lambda index, other: self._greater(columns, index, other))

        # only the chosen rows are encoded (itemgetter picks them in C; of one index it gives the value alone)
        picked: Callable[[Sequence[Any]], Sequence[Any]] = itemgetter(*chosen) if len(chosen) > 1 else lambda values: (values[chosen[0]],)

        data: dict[str, Any] = {k.name: pyarrow.array(picked(columns[k.name]), k.arrow) for k in self.keys}
        data[FEATURE_TS] = pyarrow.array(picked(columns[self.stamp.name]), pyarrow.timestamp("us"))
        features = [(f.name, self._json_texts(f, picked(columns[f.name]))) for f in self.features]
        encoded = store.encode_rows(self.online, pyarrow.array(picked(keys), pyarrow.string()), stamp_texts(data[FEATURE_TS]), features)
        if encoded is None:  # the store takes typed rows
            for feature in self.features:
                data[feature.name] = pyarrow.array(picked(columns[feature.name]), feature.arrow)
        return pyarrow.table({**data, **(encoded or {})}), chosen

    def _key_texts(self, columns: Columns) -> list[str]:
        """Each row's entity key text (online.base.coerce_key's form for typed values)."""
        if len(self.keys) > 1:
            values = zip(*(columns[k.name] for k in self.keys), strict=True)
            return [orjson.dumps(list(key)).decode() for key in values]
        return list(map(str, columns[self.keys[0].name]))

    def _json_texts(self, feature: _Column, values: Sequence[Any]) -> pyarrow.Array:
        """The feature's values as JSON, as DuckDB's to_json writes them (`_jsonable`)."""
        import pyarrow

        if pyarrow.types.is_timestamp(feature.arrow):
            return quoted_texts(stamp_texts(pyarrow.array(values, feature.arrow)))
        if feature.name not in self._plain:
            return json_texts(values, scalar=False, jsonable=_jsonable)
        return json_texts(values, scalar=feature.name in self._scalar)

    def _greater(self, columns: Columns, index: int, other: int) -> bool:
        """The tie rule between two rows of one event time: the greater features, NULL lowest."""
        names = self.online.features
        mine = feature_order({n: _jsonable(columns[n][index]) for n in names}, names)
        return mine > feature_order({n: _jsonable(columns[n][other]) for n in names}, names)

    def landing_rows(self, columns: Columns) -> pyarrow.Table:
        """The rows as the landing table holds them: no partition or offset, stamped now."""
        import pyarrow

        count = len(columns[self.stamp.name])
        data = {c.name: pyarrow.array(columns[c.name], c.arrow) for c in self.columns.values() if c.name != MESSAGE_TIMESTAMP}
        data["_kafka_partition"] = pyarrow.nulls(count, pyarrow.int32())
        data["_kafka_offset"] = pyarrow.nulls(count, pyarrow.int64())
        stamped = columns.get(MESSAGE_TIMESTAMP) or [utc_now().replace(tzinfo=None)] * count
        data["_kafka_timestamp"] = pyarrow.array(stamped, pyarrow.timestamp("us"))
        return pyarrow.table(data)


def _joined(parts: list[Columns]) -> Columns:
    if len(parts) == 1:
        return parts[0]
    return {name: list(chain.from_iterable(part[name] for part in parts)) for name in parts[0]}


@dataclass
class Ticket:
    """One push waiting for its group's commit."""

    view: PushView
    columns: Columns
    to: str
    result: Pushed | None = None
    error: BaseException | None = None
    count: int = field(init=False)

    def __post_init__(self) -> None:
        self.count = len(self.columns[self.view.stamp.name])


class Pusher:
    """Pushes for every stream view of a project. `write_group` writes many pushes in
    one store write per view and one target transaction per source (a commit costs a
    disk flush, which a push of a hundred rows would otherwise pay alone): serving
    hands it every push that arrived meanwhile. The target is connected on the first
    offline push and kept, unless a connection locks other processes out of it (a
    DuckDB file): then it is connected for each offline write, and waits for another
    process's brief hold (engines.duckdb.LOCK_WAIT)."""

    def __init__(self, definition: ProjectDefinition, store: OnlineStore, open_target: Callable[[], EngineAdapter] | None) -> None:
        self.definition = definition
        self.store = store
        self.open_target = open_target
        self._views: dict[str, PushView] = {}
        self._adapter: EngineAdapter | None = None
        self._landing_ready: set[str] = set()
        self._writing = threading.Lock()  # write_group's callers, one at a time

    def prepare(self) -> None:
        """Every stream view's PushView built, and Arrow's conversion of Python values
        loaded, before a server's first push: its first call imports pandas where it is
        installed (measured: a first push took 0.3 s, the next under 1 ms, and in a
        server of two workers the second one's first push came in the timed run)."""
        import pyarrow

        streams = self._stream_views()
        for key in streams:
            self.view(key)
        if streams:  # a server without stream views never converts, and pandas costs each worker its memory
            pyarrow.array([0], pyarrow.int64())

    def _stream_views(self) -> dict[str, FeatureView]:
        """The views pushes go to, by name@version: stream views over a stream source."""
        return {v.key: v for v in self.definition.feature_views.values() if v.stream and v.source is not None}

    def view(self, name: str) -> PushView:
        found = self._views.get(name)
        if found is None:
            streams = self._stream_views()
            newest = {}
            for view in sorted(streams.values(), key=lambda v: v.version):
                newest[view.name] = view
            chosen = streams.get(name) or newest.get(name)
            if chosen is None:
                raise UnknownView(f"no stream feature view '{name}'", hint=did_you_mean(name.split("@")[0], sorted(newest)) or
                                 "rows are pushed to views marked `stream: true` over a stream source")
            found = self._views[name] = PushView(chosen, self.definition, self.store)
        return found

    def ticket(self, name: str, rows: list[Any], to: str = "online") -> Ticket:
        """A push validated, ready for `write_group`; UsageError for what cannot be pushed."""
        _check_target(to)  # told before the view or the rows are looked at
        view = self.view(name)
        return self.admit(view, view.validate(rows), to)

    def exact_numbers(self, name: str) -> bool:
        """The view has DECIMAL columns: a push read as general JSON reads its numbers as
        Decimals (json's parse_float), since a float would round a long one."""
        try:
            return self.view(name).decimals
        except UnknownView:
            return False

    def decode(self, name: str, body: bytes) -> tuple[PushView, Columns, str] | None:
        """A plain push body to an existing view, decoded and checked (`PushView.decode`),
        for `admit`; None when it is not one: serving then reads it as JSON for `ticket`,
        which names what is wrong."""
        try:
            view = self.view(name)
        except UnknownView:
            return None
        decoded = view.decode(body)
        return None if decoded is None else (view, *decoded)

    def admit(self, view: PushView, columns: Columns, to: str) -> Ticket:
        """A push's checked columns as a ticket, if this pusher writes where it goes."""
        _check_target(to)
        if to != "online" and self.open_target is None:
            raise UsageError("this server pushes online only", hint="push with to: online")
        return Ticket(view, columns, to)

    def push(self, name: str, rows: list[Any], to: str = "online") -> Pushed:
        """Validate and write one push (serving groups its pushes itself: serving.app.PushQueue)."""
        ticket = self.ticket(name, rows, to)
        with self._writing:
            self.write_group([ticket])
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def write_now(self, group: list[Ticket]) -> bool:
        """`write_group` made at once if it waits for nothing (OnlineStore.writing_now;
        online only: a landing table is behind a target's own locks); False, and
        nothing written, otherwise."""
        if any(t.to != "online" for t in group) or not self._writing.acquire(blocking=False):
            return False
        try:
            with self.store.writing_now() as now:
                if now:
                    self.write_group(group)
                return now
        finally:
            self._writing.release()

    def write_group(self, group: list[Ticket]) -> None:
        """Every push of `group` written, each ticket given its result or error; one
        caller at a time. Online first (written twice, it changes nothing), then offline: a push retried
        after a failed offline append lands there once."""
        online: dict[int, int] = {}
        offline: dict[int, int] = {}
        for tickets in _by(group, lambda t: t.view.view.key, lambda t: t.to != "offline"):
            view = tickets[0].view
            try:
                table, won = view.online_rows(self.store, _joined([t.columns for t in tickets]))
                self.store.write(view.online, table, full=False)
                won.sort()
                end = 0
                for t in tickets:  # each push's rows are a range of the joined ones
                    start, end = end, end + t.count
                    online[id(t)] = bisect_left(won, end) - bisect_left(won, start)
            except Exception as err:  # noqa: BLE001 - every push of the group is told
                for t in tickets:
                    t.error = err
        for tickets in _by(group, lambda t: t.view.source.unique_id, lambda t: t.to != "online" and t.error is None):
            view = tickets[0].view
            try:
                self._append(view, view.landing_rows(_joined([t.columns for t in tickets])))
                for t in tickets:
                    offline[id(t)] = t.count
            except Exception as err:  # noqa: BLE001
                for t in tickets:
                    t.error = err
        for t in group:
            if t.error is None:
                t.result = Pushed(t.view.view.key, t.count, online.get(id(t), 0), offline.get(id(t), 0))

    def _append(self, view: PushView, rows: pyarrow.Table) -> int:
        assert self.open_target is not None
        if self._adapter is None:
            self._adapter = self.open_target()
        adapter = self._adapter
        tables = landing_tables(view.source, self.definition.config.dialect)
        try:
            if view.source.unique_id not in self._landing_ready:
                ensure_landing(adapter, view.source, tables)
                self._landing_ready.add(view.source.unique_id)
            with adapter.transaction():
                return adapter.append_arrow(tables.rows, rows)
        finally:
            if adapter.traits.locks_out_processes:  # kept open, it would keep `fduck run` and the other workers out
                adapter.close()
                self._adapter = None

    def close(self) -> None:
        with self._writing:
            if self._adapter is not None:
                self._adapter.close()
                self._adapter = None


def _check_target(to: str) -> None:
    if to not in PUSH_TARGETS:
        raise UsageError(f"'to' is {to!r}: push to one of " + ", ".join(PUSH_TARGETS))


def _by(tickets: list[Ticket], key: Callable[[Ticket], str], wanted: Callable[[Ticket], bool]) -> list[list[Ticket]]:
    groups: dict[str, list[Ticket]] = {}
    for ticket in tickets:
        if wanted(ticket):
            groups.setdefault(key(ticket), []).append(ticket)
    return list(groups.values())


def _column(name: str, kind: exp.DataType) -> _Column:
    import pyarrow

    types = exp.DataType.Type
    if kind.is_type(*exp.DataType.INTEGER_TYPES):
        bits = _INTEGER_BITS.get(kind.this, 64)
        bounded = Annotated[int, msgspec.Meta(ge=-(2 ** (bits - 1)), le=2 ** (bits - 1) - 1)]
        return _Column(name, kind, lambda v: _integer(v, bits), lambda vs: _integers(vs, bits), getattr(pyarrow, f"int{bits}")(),
                       bounded, None)
    if kind.is_type(types.DECIMAL):  # the declared precision and scale, as the stream's cast gives it
        precision, scale = decimal_digits(kind)

        def decimal(value: Any) -> Decimal:
            return _decimal(value, precision, scale)

        # msgspec reads a JSON number into a Decimal digit for digit (a float would round it)
        return _Column(name, kind, decimal, _each(decimal), pyarrow.decimal128(precision, scale), Decimal, _each(decimal))
    if kind.is_type(types.FLOAT):
        return _Column(name, kind, _number, _numbers, pyarrow.float32(), float, None)
    if kind.is_type(*exp.DataType.REAL_TYPES):
        return _Column(name, kind, _number, _numbers, pyarrow.float64(), float, None)
    if kind.is_type(*exp.DataType.TEXT_TYPES):
        return _Column(name, kind, _text, _of_type(str), pyarrow.string(), str, None)
    if kind.is_type(types.BOOLEAN):
        return _Column(name, kind, _boolean, _of_type(bool), pyarrow.bool_(), bool, None)
    if kind.is_type(types.TIMESTAMP, types.TIMESTAMPNTZ, types.TIMESTAMPTZ, types.DATETIME):
        return _Column(name, kind, _timestamp, _timestamps, pyarrow.timestamp("us"), str, _timestamps)
    if kind.is_type(types.DATE):
        return _Column(name, kind, _date, _each(_date), pyarrow.date32(), str, _each(_date))

    def refuse(value: Any) -> Any:
        raise ValueError(f"is of type {kind.sql('duckdb')}, which cannot be pushed yet")

    return _Column(name, kind, refuse, _each(refuse), pyarrow.string(), _NUMBER_OR_TEXT, _each(refuse))


def _each(check: Callable[[Any], Any]) -> Callable[[Sequence[Any]], list[Any]]:
    return lambda values: [None if v is None else check(v) for v in values]


def _of_type(kind: type) -> Callable[[Sequence[Any]], list[Any]]:
    def convert(values: Sequence[Any]) -> list[Any]:
        if not all(type(v) is kind for v in values if v is not None):
            raise ValueError(kind.__name__)
        return list(values)

    return convert


def _integers(values: Sequence[Any], bits: int) -> list[Any]:
    present = [v for v in values if v is not None]
    if not all(type(v) is int for v in present) or (present and (min(present) < -(2 ** (bits - 1)) or max(present) >= 2 ** (bits - 1))):
        raise ValueError("integer")
    return list(values)


def _numbers(values: Sequence[Any]) -> list[Any]:
    converted = [None if v is None else float(v) if type(v) in (int, float) else _number(v) for v in values]
    if not all(math.isfinite(v) for v in converted if v is not None):
        raise ValueError("number")
    return converted


def _integer(value: Any, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, got {_shown(value)}")
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError(f"is outside the {bits}-bit integer range")
    return value


def _number(value: Any) -> float:
    if isinstance(value, Decimal) and value.is_finite():  # a number read digit for digit (`Pusher.exact_numbers`)
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"must be a number, got {_shown(value)}")
    return float(value)


def _decimal(value: Any, precision: int, scale: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"must be a number, got {_shown(value)}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"must be a number, got {_shown(value)}") from None
    if not number.is_finite():
        raise ValueError(f"must be a finite number, got {_shown(value)}")
    quantized = number.quantize(Decimal(1).scaleb(-scale))
    if quantized != number or len(quantized.as_tuple().digits) > precision:
        raise ValueError(f"{_shown(value)} does not fit DECIMAL({precision}, {scale})")
    return quantized


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {_shown(value)}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_shown(value)}")
    return value


def _timestamp(value: Any) -> datetime.datetime:
    """ISO text as Python reads it (an offset or Z is turned into UTC), as the stream reads event times."""
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO timestamp text, got {_shown(value)}")
    try:
        moment = _FROM_ISO(value)
    except ValueError:
        raise ValueError(f"must be an ISO timestamp text, got {_shown(value)}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def _timestamps(values: Sequence[Any]) -> list[Any]:
    """`_timestamp` of each value, None kept: a column of texts all read at once."""
    try:
        moments = list(map(_FROM_ISO, values))
    except (AttributeError, TypeError, ValueError):  # a null, no text, or no timestamp: each on its own
        return [None if value is None else _timestamp(value) for value in values]
    if any(moment.tzinfo is not None for moment in moments):
        return [_timestamp(value) for value in values]
    return moments


def _date(value: Any) -> datetime.date:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO date text, got {_shown(value)}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an ISO date text, got {_shown(value)}") from None


def _shown(value: Any) -> str:
    # a Decimal, or an integer past 64 bits (both read from a push to a view with DECIMAL columns), as written
    text = str(value) if isinstance(value, (Decimal, int)) and not isinstance(value, bool) else orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:40] + "..."


def _jsonable(value: Any) -> Any:
    """A feature's value as DuckDB's to_json writes it (timestamps and dates as text)."""
    if isinstance(value, datetime.datetime):
        return stamp_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
