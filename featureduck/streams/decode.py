"""Messages into typed rows, in one vectorized DuckDB pass.

Each message's value is read as UTF-8 JSON once, its row object found (the
message itself for `json`; a Debezium envelope's `after`, or `before` for a
delete; a wal2json change's columns), every column's field extracted with one
`json_extract_string` call and cast to its declared type, and the first thing
wrong with a message named in `__fd_error`: not UTF-8, not JSON, not an object,
not a change, a key column missing, a field that is not of its column's type
(an integer column refuses 1.5, which DuckDB's cast would round). Rows with an
error go to the dead-letter table, the rest to the landing table (or, for
changes, to the mirror), so a malformed message never stops the stream and
never lands half-read. A Debezium tombstone (a null value after a delete) is
no change: it is skipped.

An update may leave out a value it did not change: Postgres's logical decoding
sends no unchanged TOAST value (a large text, bytes or JSON value stored out
of line), so wal2json's change lacks the column and Debezium writes its
placeholder (`__debezium_unavailable_value`, or the table's
`unavailable_value_placeholder` option; in a create too, which with a delete
is how it tells an update of the key). Such a column is named in UNCHANGED,
its value NULL, and the mirror keeps the value it holds (streams.mirror):
taken as NULL, every update of another column would erase it without a word.
A wal2json update that changes the key names the old one (WAS): the mirror
deletes that row.

Debezium encodes values by their logical type, which a message with the JSON
converter's schema names for each field: a DECIMAL is the base64 of its
unscaled value's bytes at the schema's scale, a timestamp a count of
milliseconds, microseconds or nanoseconds. Each is read by what its schema
says; without a schema by the table's options, and a DECIMAL sent as text
that no option explains is refused, since base64 and digits can look alike.

A change's row image (Debezium's `after`, wal2json's insert) has every column
of the table, a null one as null: a declared column it lacks is not the
table's, and the change is refused rather than landed with NULL there.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlglot import exp

from featureduck.compiler.dtypes import decimal_digits
from featureduck.project.nodes import SourceTable

ERROR = "__fd_error"
OP, ORDER = "__fd_op", "__fd_order"  # a change's kind (c, u, r, d, t) and its place in the batch
UNCHANGED = "__fd_unchanged"  # an update's columns whose value it does not carry (VARCHAR[]), else NULL
WAS = "__fd_was_"  # + a key column: its value before an update (a Postgres slot's changes), NULL when not given
DEBEZIUM_PLACEHOLDER = "__debezium_unavailable_value"  # Debezium's default `unavailable.value.placeholder`
RAW_TABLE = "__fd_raw_messages"
_TEXT, _JSON, _ROW, _FIELDS, _CAST = "__fd_text", "__fd_json", "__fd_row", "__fd_fields", "__fd_cast_"
_ENVELOPE, _HAS_ROW, _ABSENT, _WAS = "__fd_envelope", "__fd_has_row", "__fd_absent", "__fd_was"
_ROW_KEYS, _LACKED = "__fd_row_keys", "__fd_lacked"
_SCHEMA, _SEMANTIC, _SCALE, _HEX = "__fd_schema", "__fd_semantic", "__fd_scale", "__fd_hex_"
_PARTS, _NAMED, _NAMES, _VALUES, _POSITIONS = "__fd_parts", "__fd_named", "__fd_names", "__fd_values", "__fd_positions"
_WAL2JSON_PARTS = ("action", "row", "columns", "identity", "timestamp")
_SHOWN = 80  # characters of a bad value quoted in its error
DEAD_LETTER_COLUMNS = (
    ("_kafka_partition", "INTEGER"), ("_kafka_offset", "BIGINT"), ("_kafka_timestamp", "TIMESTAMP"),
    ("message_key", "VARCHAR"), ("message", "VARCHAR"), ("error", "VARCHAR"), ("received_at", "TIMESTAMP"),
)
_OPS = ("c", "u", "r", "d", "t")
_WAL2JSON_OPS = {"I": "c", "U": "u", "D": "d", "T": "t", "R": "r"}  # R: a row of the first copy (streams.postgres_slot)
# a numeric offset: a sign and a digit after the time of day's first colon (`10:00:00.5+02`, `10:0 -5:30`), which
# DuckDB's TIMESTAMP cast would ignore (a date's own dashes come before it)
_OFFSET = r":.*[+-]\d"
# a time of day as Postgres reads one: perhaps after a date, perhaps with an offset (Z, +02, -05:30); DuckDB's TIME cast
# takes any text that starts so (`10:00 abc`, a bare date as midnight) and drops an offset
_TIME = r"\s*(\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{1,2}(:?\d{2}){0,2})?\s*"
_ZONED_TIME = r"\d(Z|[+-]\d{1,2}(:?\d{2}){0,2})\s*$"
_DATED = r"^\s*\d{4}-"
_ISO_DURATION = (r"\s*P(?:([+-]?\d+)Y)?(?:([+-]?\d+)M)?(?:([+-]?\d+)W)?(?:([+-]?\d+)D)?"
                 r"(?:T(?:([+-]?\d+)H)?(?:([+-]?\d+)M)?(?:([+-]?\d+(?:\.\d+)?)S)?)?\s*")
_ARROW_HOURS = 2**63 // 3_600_000_000_000  # an interval's hours that fit its nanoseconds in 64 bits
_MINUTES_THEN_ZONE = r"^(\s*(\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2})(\s*[Z+-])"
# element types an array's cast from text would read wrong (an offset dropped, base64's characters as bytes): each
# element is read as a field of its type is
_READ_ALONE = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.TIME, exp.DataType.Type.VARBINARY,
               exp.DataType.Type.BINARY)
_TIME_UNITS = {"microseconds": 1, "milliseconds": 1000}
# Kafka Connect's and Debezium's logical types of a number, by the schema's `name`: microseconds in one count of
# each (a day for a date); a nanosecond count is divided
_COUNTED = {
    "io.debezium.time.Timestamp": 1000, "org.apache.kafka.connect.data.Timestamp": 1000, "io.debezium.time.MicroTimestamp": 1,
    "io.debezium.time.Time": 1000, "org.apache.kafka.connect.data.Time": 1000, "io.debezium.time.MicroTime": 1,
    "io.debezium.time.Date": 86_400_000_000, "org.apache.kafka.connect.data.Date": 86_400_000_000,
}
_NANOS = ("io.debezium.time.NanoTimestamp", "io.debezium.time.NanoTime")
_DECIMAL, _VARIABLE_DECIMAL = "org.apache.kafka.connect.data.Decimal", "io.debezium.data.VariableScaleDecimal"


@dataclass(frozen=True)
class Column:
    name: str
    type: exp.DataType  # as declared, parsed in the project's dialect


def declared_columns(table: SourceTable, dialect: str) -> list[Column]:
    return [Column(c.name, exp.DataType.build(str(c.data_type), dialect=dialect)) for c in table.columns.values()]


def landing_columns(table: SourceTable, dialect: str) -> list[Column]:
    """The landing table's columns: the declared ones, then where each message (or a
    mirrored row's last change) came from."""
    assert table.stream is not None
    return [*declared_columns(table, dialect), *(Column(n, exp.DataType.build(t)) for n, t in table.stream.extra_columns)]


def decode_query(table: SourceTable, dialect: str) -> exp.Select:
    """DuckDB SQL over RAW_TABLE (streams.kafka.RawBatch's columns: partition, offset,
    timestamp, key, value) giving the landing columns, ERROR, the message's key and
    value as text for a dead letter, and for changes OP and ORDER."""
    assert table.stream is not None
    fmt = table.stream.format
    columns = declared_columns(table, dialect)
    paths = exp.Array(expressions=[exp.Literal.string('$."' + c.name.replace('"', '\\"') + '"') for c in columns])
    # Avro messages arrive read into JSON (streams.avro): `decoded`, or why not in `fault`
    body = exp.column("decoded" if fmt == "avro" else "value")
    text = exp.select("*", exp.alias_(duckdb_call("try", duckdb_call("decode", body)), _TEXT)).from_(RAW_TABLE)
    if fmt in ("json", "avro"):  # the message is the row: parsed once, a parse error a NULL (try)
        extracted = duckdb_call("try", duckdb_call("json_extract_string", exp.column(_TEXT), paths))
        fields = exp.select("*", exp.alias_(extracted, _FIELDS)).from_(text.subquery("texts"))
    else:
        parsed = exp.select("*", exp.alias_(exp.func("try_cast", exp.column(_TEXT), exp.DataType.build("JSON")), _JSON)).from_(
            text.subquery("texts"))
        if fmt == "debezium":
            placeholder = str(table.options.get("unavailable_value_placeholder", DEBEZIUM_PLACEHOLDER))
            fields = _debezium_fields(parsed, columns, paths, placeholder)
        else:
            fields = _wal2json_fields(parsed, columns, paths, table.stream.key)
    unit = _TIME_UNITS[str(table.options.get("timestamp_unit", "microseconds"))]  # checked when loaded (project.schema_files)
    values = {c.name: _field(i) for i, c in enumerate(columns)}
    if fmt in ("json", "wal2json"):  # a number's own digits: DuckDB reads a JSON number with a fraction as a double
        values.update({c.name: _exact_number(c.name, values[c.name], fmt) for c in columns
                       if c.type.is_type(exp.DataType.Type.DECIMAL)})
    decimals = [(i, c) for i, c in enumerate(columns) if c.type.is_type(exp.DataType.Type.DECIMAL)]
    handling = table.options.get("decimal_handling")
    if fmt == "debezium" and decimals:  # a DECIMAL as Debezium writes it: its unscaled value's bytes in base64
        fields = exp.select("*", *[exp.alias_(_hex_digits(i, values[c.name]), f"{_HEX}{i}") for i, c in decimals]).from_(
            fields.subquery("decimals"))
        values.update({c.name: _debezium_decimal(i, c, values[c.name], handling) for i, c in decimals})
    changes = fmt in ("debezium", "wal2json")
    typed = {c.name: c.type for c in columns}
    if changes:  # a value the change does not carry is NULL here: neither cast nor refused
        values = {name: value if name in table.stream.key else
                  exp.Case(ifs=[exp.If(this=_absent(i), true=exp.null())], default=value)
                  for i, (name, value) in enumerate(values.items())}
    # each column cast once, at its own level: the fault checks below read the cast columns
    cast_names = {c.name: f"{_CAST}{i}" for i, c in enumerate(columns)}
    # bytes: in base64 (the JSON converter's, Avro's read into JSON: streams.avro), Postgres's hex (`\\x0102`)
    binary = "hex" if fmt == "wal2json" else str(table.options.get("binary_handling", "base64"))
    casted = exp.select("*", *[exp.alias_(_cast(values[c.name], c.type, _Counted(_path(c.name), unit, _listed(_SEMANTIC, i))
                                                if fmt == "debezium" else None, binary, fmt == "wal2json"), cast_names[c.name])
                               for i, c in enumerate(columns)]).from_(fields.subquery("fields"))
    casts = {c.name: exp.column(cast_names[c.name]) for c in columns}
    whens: list[tuple[exp.Expr, exp.Expr]] = [
        (exp.column("value").is_(exp.null()), exp.Literal.string("an empty message (a tombstone)")),
        *([(exp.column("fault").is_(exp.null()).not_(), exp.column("fault"))] if fmt == "avro" else []),
        (exp.column(_TEXT).is_(exp.null()), exp.Literal.string("not UTF-8 text")),
    ]
    if fmt in ("json", "avro"):
        # valid JSON is an object exactly when it opens with a brace (no second parse to ask)
        opening = exp.func("left", duckdb_call("ltrim", exp.column(_TEXT), exp.Literal.string(" \t\n\r")), exp.Literal.number(1))
        whens += [(exp.column(_FIELDS).is_(exp.null()), exp.Literal.string("not JSON")),
                  (opening.neq(exp.Literal.string("{")), exp.Literal.string("not a JSON object"))]
    else:
        whens += [(exp.column(_JSON).is_(exp.null()), exp.Literal.string("not JSON")),
                  (exp.func("json_type", exp.column(_JSON)).neq(exp.Literal.string("OBJECT")), exp.Literal.string("not a JSON object"))]
    if fmt in ("debezium", "wal2json"):
        whens += [
            (exp.column(OP).is_(exp.null()), exp.Literal.string("not a change: no known op")),
            (exp.and_(exp.column(OP).neq(exp.Literal.string("t")), exp.not_(exp.column(_HAS_ROW))),
             exp.Literal.string("a change without the row it changes (after, or before for a delete)")),
        ]
    not_truncate = exp.column(OP).neq(exp.Literal.string("t")) if fmt in ("debezium", "wal2json") else exp.true()
    for name in table.stream.key:
        whens.append((exp.and_(not_truncate.copy(), values[name].is_(exp.null())),
                      exp.Literal.string(f"key column '{name}' is missing or null")))
    if changes:
        said = "after): the table has no such column, or the connector leaves it out" if fmt == "debezium" else \
            "columns): the table has no such column (dropped?)"
        whens += [(exp.Bracket(this=exp.column(_LACKED), offset=1, expressions=[exp.Literal.number(i + 1)]), exp.Literal.string(
            f"column '{c.name}' is not in the change's row ({said}")) for i, c in enumerate(columns) if c.name not in table.stream.key]
    for index, column in enumerate(columns):
        raw, cast = values[column.name], casts[column.name]
        if fmt == "debezium" and handling is None and (index, column) in decimals:  # base64 or digits: no telling which
            unsaid = exp.and_(raw.is_(exp.null()).not_(), exp.column(_SEMANTIC).is_(exp.null()), _json_kind(column.name).eq(
                exp.Literal.string("VARCHAR")))
            whens.append((unsaid, exp.DPipe(this=exp.Literal.string(f"column '{column.name}': "), expression=exp.DPipe(
                this=exp.func("left", raw.copy(), exp.Literal.number(_SHOWN)), expression=exp.Literal.string(
                    " is text, which Debezium writes for a DECIMAL in base64 (decimal.handling.mode precise) or as its "
                    "digits (string), and the message has no schema to tell: set the table's option decimal_handling")))))
        wrong: exp.Expr = exp.and_(raw.is_(exp.null()).not_(), cast.copy().is_(exp.null()))
        if column.type.is_type(*exp.DataType.INTEGER_TYPES):  # DuckDB's cast rounds 1.5 to 2: refused instead
            as_double = exp.func("try_cast", raw.copy(), exp.DataType.build("DOUBLE"))
            rounded = exp.NEQ(this=as_double, expression=exp.cast(cast.copy(), "DOUBLE"))
            wrong = exp.or_(wrong, exp.and_(raw.is_(exp.null()).not_(), rounded))
        shown = exp.func("left", raw.copy(), exp.Literal.number(_SHOWN))
        kind = column.type.sql("duckdb")
        article = "an" if kind[0] in "AEIOU" else "a"
        message = exp.DPipe(this=exp.DPipe(this=exp.Literal.string(f"column '{column.name}': "), expression=shown),
                            expression=exp.Literal.string(f" is not {article} {kind}"))
        whens.append((wrong, message))
    error = exp.Case(ifs=[exp.If(this=condition, true=result) for condition, result in whens])
    checked = exp.select("*", exp.alias_(error, ERROR)).from_(casted.subquery("casts"))
    faulty = exp.column(ERROR).is_(exp.null()).not_()
    query = exp.select(
        *[exp.alias_(casts[c.name].copy(), c.name, quoted=True) for c in columns],
        *_extra_columns(fmt),
        *([exp.alias_(_unchanged(columns, table.stream.key), UNCHANGED)] if changes else []),
        *([exp.alias_(_cast(exp.Bracket(this=exp.column(_WAS), offset=1, expressions=[exp.Literal.number(i + 1)]), typed[k]), WAS + k)
           for i, k in enumerate(table.stream.key)] if fmt == "wal2json" else []),
        exp.column(ERROR),
        # the message as text is a dead letter's alone: never copied for the rows that land
        exp.alias_(exp.Case(ifs=[exp.If(this=faulty, true=_as_text(exp.column("key")))]), "message_key"),
        exp.alias_(exp.Case(ifs=[exp.If(this=faulty.copy(), true=exp.func("coalesce", exp.column(_TEXT), _as_text(exp.column("value"))))]),
                   "message"),
    ).from_(checked.subquery("checked"))
    if fmt == "debezium":  # a tombstone follows a delete so compaction can drop the key: no change of its own
        query = query.where(exp.column("value").is_(exp.null()).not_())
    if fmt == "wal2json":  # what is not a row's change (a logical message another client emitted) is none of the mirror's
        query = query.where(exp.column(OP).is_(exp.null()).not_())
    return query


def _debezium_fields(parsed: exp.Select, columns: list[Column], paths: exp.Array, placeholder: str) -> exp.Select:
    """The envelope (`payload` when the converter wrote schemas, else the message), the
    change's op, its row (`after`; for a delete `before`, or at least the message key),
    that row's fields, and which of an update's fields are `placeholder`: as text, as
    bytes (base64, the JSON converter's) or as an array of it (Debezium's forms)."""
    payload = _json_get(exp.column(_JSON), "payload")
    envelope = exp.Case(ifs=[exp.If(this=exp.func("json_type", payload.copy()).eq(exp.Literal.string("OBJECT")), true=payload)],
                        default=exp.column(_JSON))
    # with schemas, the row's fields' own: `schema.fields` has the envelope's, among them `after` (and `before`, the same)
    field = exp.to_identifier("__fd_f")
    named_row = _json_text(exp.column(field.copy()), "field").isin(exp.Literal.string("after"), exp.Literal.string("before"))
    row_schema = exp.Bracket(this=duckdb_call("list_filter", duckdb_call("json_extract", exp.column(_JSON), exp.Literal.string(
        "$.schema.fields[*]")), exp.Lambda(this=named_row, expressions=[field.copy()])), expressions=[exp.Literal.number(1)], offset=1)
    schema = exp.Case(ifs=[exp.If(this=exp.func("json_type", payload.copy()).eq(exp.Literal.string("OBJECT")), true=duckdb_call(
        "json_extract", row_schema, exp.Literal.string("$.fields[*]")))])
    enveloped = exp.select("*", exp.alias_(envelope, _ENVELOPE), exp.alias_(schema, _SCHEMA)).from_(parsed.subquery("parsed"))
    op = _json_text(exp.column(_ENVELOPE), "op")
    opped = exp.select("*", exp.alias_(exp.Case(ifs=[exp.If(this=op.copy().isin(*[exp.Literal.string(o) for o in _OPS]), true=op)]),
                                       OP)).from_(enveloped.subquery("envelopes"))
    after, before = _json_get(exp.column(_ENVELOPE), "after"), _json_get(exp.column(_ENVELOPE), "before")
    deleted = exp.Case(ifs=[exp.If(this=exp.func("json_type", before.copy()).eq(exp.Literal.string("OBJECT")), true=before)],
                       default=_message_key_object())
    row = exp.Case(ifs=[exp.If(this=exp.column(OP).eq(exp.Literal.string("d")), true=deleted)], default=after)
    framed = exp.select("*", exp.alias_(row, _ROW)).from_(opped.subquery("opped"))
    has_row = exp.func("coalesce", exp.func("json_type", exp.column(_ROW)), exp.Literal.string("")).eq(exp.Literal.string("OBJECT"))
    extracted = exp.select("*", exp.alias_(duckdb_call("json_extract_string", exp.column(_ROW), paths), _FIELDS),
                           exp.alias_(has_row, _HAS_ROW), exp.alias_(duckdb_call("json_keys", exp.column(_ROW)), _ROW_KEYS)
                           ).from_(framed.subquery("framed"))
    forms = [exp.Literal.string(form) for form in
             (placeholder, base64.b64encode(placeholder.encode()).decode(), orjson.dumps([placeholder]).decode())]
    updated = exp.column(OP).isin(exp.Literal.string("u"), exp.Literal.string("c"))  # a key's change is a delete and a create
    absent = exp.Array(expressions=[exp.func("coalesce", exp.and_(updated.copy(), _field(i).isin(*[f.copy() for f in forms])),
                                             exp.false()) for i in range(len(columns))])
    # a row image (`after`) carries every column of the table, a null one as null: a declared column it lacks is not there
    imaged = exp.column(OP).isin(*[exp.Literal.string(o) for o in ("c", "u", "r")])
    lacked = exp.Array(expressions=[exp.func("coalesce", exp.and_(imaged.copy(), exp.not_(duckdb_call(
        "list_contains", exp.column(_ROW_KEYS), exp.Literal.string(c.name)))), exp.false()) for c in columns])
    parts = {"field": "__fd_schema_names", "name": "__fd_schema_types", "scale": "__fd_schema_scales"}
    listed = exp.select("*", exp.alias_(absent, _ABSENT), exp.alias_(lacked, _LACKED),
                        *[exp.alias_(_schema_part(part), alias) for part, alias in parts.items()]
                        ).from_(extracted.subquery("extracted"))
    positions = [duckdb_call("list_position", exp.column(parts["field"]), exp.Literal.string(c.name)) for c in columns]

    def per_column(part: str) -> exp.Expr:  # a part of the schema's fields, for each declared column in turn (NULL: none)
        return exp.Case(ifs=[exp.If(this=exp.column(_SCHEMA).is_(exp.null()).not_(), true=exp.Array(expressions=[
            exp.Bracket(this=exp.column(parts[part]), expressions=[position.copy()], offset=1) for position in positions]))])

    return exp.select("*", exp.alias_(per_column("name"), _SEMANTIC), exp.alias_(per_column("scale"), _SCALE)).from_(
        listed.subquery("listed"))


def _schema_part(part: str) -> exp.Expr:
    """One part of each field of the row's schema: its `field` name, its logical type's
    `name`, or its `parameters.scale` (a Decimal's)."""
    field = exp.to_identifier("__fd_f")
    path = "$.parameters.scale" if part == "scale" else _path(part)
    return duckdb_call("list_transform", exp.column(_SCHEMA), exp.Lambda(
        this=duckdb_call("json_extract_string", exp.column(field.copy()), exp.Literal.string(path)), expressions=[field.copy()]))


def _wal2json_fields(parsed: exp.Select, columns: list[Column], paths: exp.Array, key: Sequence[str]) -> exp.Select:
    """A wal2json change as the Postgres reader passes it on: its parts read in one pass
    over the text (each JSON function parses its document anew), the op, and the fields
    of the first copy's `row` object, or else of the `[{"name", "value"}]` list of
    `columns` (the new row), for a delete `identity` (the old key). The list's values
    are looked up by name, never by place: a column added or dropped moves them."""
    parts = exp.Array(expressions=[exp.Literal.string(_path(key)) for key in _WAL2JSON_PARTS])
    split = exp.select("*", exp.alias_(duckdb_call("json_extract", exp.column(_JSON), parts), _PARTS)).from_(parsed.subquery("parsed"))
    action = duckdb_call("json_extract_string", _part("action"), exp.Literal.string("$"))
    op = exp.Case(this=action, ifs=[exp.If(this=exp.Literal.string(k), true=exp.Literal.string(v)) for k, v in _WAL2JSON_OPS.items()])
    named = exp.Case(ifs=[exp.If(this=exp.column(OP).eq(exp.Literal.string("d")), true=_part("identity"))], default=_part("columns"))
    opped = exp.select("*", exp.alias_(op, OP)).from_(split.subquery("split"))
    listed = exp.select("*", exp.alias_(named, _NAMED)).from_(opped.subquery("opped"))
    lists = exp.select("*", *[exp.alias_(duckdb_call("json_extract_string", exp.column(_NAMED), exp.Literal.string(f"$[*].{key}")), alias)
                              for key, alias in (("name", _NAMES), ("value", _VALUES))]).from_(listed.subquery("listed"))
    positions = exp.Array(expressions=[duckdb_call("list_position", exp.column(_NAMES), exp.Literal.string(c.name)) for c in columns])
    placed = exp.select("*", exp.alias_(positions, _POSITIONS)).from_(lists.subquery("lists"))
    copied = exp.and_(exp.column(OP).neq(exp.Literal.string("d")),
                      exp.func("json_type", _part("row")).eq(exp.Literal.string("OBJECT")))
    by_name = exp.Array(expressions=[exp.Bracket(this=exp.column(_VALUES), offset=1, expressions=[_position(i)])
                                     for i in range(len(columns))])
    fields = exp.Case(ifs=[exp.If(this=copied, true=duckdb_call("json_extract_string", _part("row"), paths))], default=by_name)
    listed_row = exp.func("json_type", exp.column(_NAMED)).eq(exp.Literal.string("ARRAY"))
    has_row = exp.func("coalesce", exp.or_(copied.copy(), listed_row.copy()), exp.false())
    # an update's new row lacks the columns whose value is an unchanged TOAST value
    updated = exp.and_(exp.column(OP).eq(exp.Literal.string("u")), listed_row)
    absent = exp.Array(expressions=[exp.func("coalesce", exp.and_(updated.copy(), _position(i).is_(exp.null())), exp.false())
                                    for i in range(len(columns))])
    # an update that changes the key names the old one in `identity`: the row of that key is gone
    identity = {part: duckdb_call("json_extract_string", _part("identity"), exp.Literal.string(f"$[*].{part}"))
                for part in ("name", "value")}
    was = exp.Array(expressions=[exp.Bracket(this=identity["value"].copy(), offset=1, expressions=[
        duckdb_call("list_position", identity["name"].copy(), exp.Literal.string(k))]) for k in key])
    old_key = exp.Case(ifs=[exp.If(this=exp.column(OP).eq(exp.Literal.string("u")), true=was)])
    # an insert's list has every column of the table: a declared column it lacks is not there (dropped, or never was)
    inserted = exp.and_(exp.column(OP).eq(exp.Literal.string("c")), listed_row.copy())
    lacked = exp.Array(expressions=[exp.func("coalesce", exp.and_(inserted.copy(), _position(i).is_(exp.null())), exp.false())
                                    for i in range(len(columns))])
    return exp.select("*", exp.alias_(fields, _FIELDS), exp.alias_(has_row, _HAS_ROW), exp.alias_(absent, _ABSENT),
                      exp.alias_(lacked, _LACKED), exp.alias_(old_key, _WAS)).from_(placed.subquery("placed"))


def _exact_number(name: str, field: exp.Expr, fmt: str) -> exp.Expr:
    """A DECIMAL column's number as the message writes it, found in its text: a JSON
    message's `"<name>": <number>` after a brace or a comma, a wal2json change's
    `{"name":"<name>","value":<number>` (outside a JSON string, as a quote there would be
    escaped). The first that is the number the field reads as a double, so a nested
    object's key of the same name is never taken for the column's; else the field."""
    written = re.escape(orjson.dumps(name).decode())
    number = r"(-?[0-9][0-9.eE+-]*)"
    pattern = (r'\{"name":' + written + r',"value":' if fmt == "wal2json" else r"[{,]\s*" + written + r"\s*:\s*") + number
    double = exp.DataType.build("DOUBLE")
    candidate = exp.to_identifier("__fd_number")
    same = exp.EQ(this=exp.func("try_cast", exp.column(candidate.copy()), double),
                  expression=exp.func("try_cast", field.copy(), double.copy()))
    written_numbers = duckdb_call("regexp_extract_all", exp.column(_TEXT), exp.Literal.string(pattern), exp.Literal.number(1))
    found = exp.Bracket(this=duckdb_call("list_filter", written_numbers, exp.Lambda(this=same, expressions=[candidate])),
                        expressions=[exp.Literal.number(1)], offset=1)
    return exp.func("coalesce", found, field)


def _position(index: int) -> exp.Expr:
    """Where a wal2json change's list holds the index-th declared column (NULL: it does not)."""
    return exp.Bracket(this=exp.column(_POSITIONS), expressions=[exp.Literal.number(index + 1)], offset=1)


def _absent(index: int) -> exp.Expr:
    """The index-th declared column is one the change does not carry."""
    return exp.Bracket(this=exp.column(_ABSENT), expressions=[exp.Literal.number(index + 1)], offset=1)


def _unchanged(columns: list[Column], key: Sequence[str]) -> exp.Expr:
    """The names of the columns the change does not carry, or NULL when it carries them all."""
    return names_where([(_absent(i), c.name) for i, c in enumerate(columns) if c.name not in key])


def names_where(flags: list[tuple[exp.Expr, str]]) -> exp.Expr:
    """The names whose condition holds, as a VARCHAR[]; NULL when none does."""
    texts = exp.DataType.build("VARCHAR[]")
    if not flags:
        return exp.cast(exp.null(), texts)
    listed = duckdb_call("flatten", exp.Array(expressions=[
        exp.Case(ifs=[exp.If(this=condition, true=exp.Array(expressions=[exp.Literal.string(name)]))],
                 default=exp.cast(exp.Array(expressions=[]), texts.copy())) for condition, name in flags]))
    return exp.Case(ifs=[exp.If(this=exp.func("len", listed.copy()).eq(exp.Literal.number(0)), true=exp.null())], default=listed)


def _part(key: str) -> exp.Expr:
    """One of `_WAL2JSON_PARTS` of a change, as JSON."""
    return exp.Bracket(this=exp.column(_PARTS), expressions=[exp.Literal.number(_WAL2JSON_PARTS.index(key) + 1)], offset=1)


def _message_key_object() -> exp.Expr:
    """A delete whose `before` is null: the key columns from the message key (`{"id": 1}`,
    or with schemas `{"payload": {"id": 1}}`)."""
    key = exp.func("try_cast", duckdb_call("try", duckdb_call("decode", exp.column("key"))), exp.DataType.build("JSON"))
    payload = _json_get(key, "payload")
    return exp.Case(ifs=[exp.If(this=exp.func("json_type", payload.copy()).eq(exp.Literal.string("OBJECT")), true=payload)],
                    default=key.copy())


def _extra_columns(fmt: str) -> list[exp.Expr]:
    partition, offset = exp.alias_(exp.column("partition"), "_kafka_partition"), exp.alias_(exp.column("offset"), "_kafka_offset")
    stamp = exp.If(this=exp.column("timestamp") >= 0, true=duckdb_call("epoch_ms", exp.column("timestamp")))
    if fmt in ("json", "avro"):
        return [partition, offset, exp.alias_(stamp, "_kafka_timestamp")]
    envelope = exp.column(_ENVELOPE)
    lsn: exp.Expr
    changed: exp.Expr
    if fmt == "debezium":
        lsn = exp.func("try_cast", _json_text(_json_get(envelope, "source"), "lsn"), exp.DataType.build("BIGINT"))
        millis = exp.func("coalesce", _json_text(_json_get(envelope, "source"), "ts_ms"), _json_text(envelope, "ts_ms"))
        changed = exp.func("coalesce", duckdb_call("epoch_ms", exp.func("try_cast", millis, exp.DataType.build("BIGINT"))), stamp)
    else:  # the Postgres reader puts the change's LSN in `offset`, and its place in the batch in `seq`
        lsn = exp.column("offset")
        stamped = duckdb_call("json_extract_string", _part("timestamp"), exp.Literal.string("$"))
        changed = exp.cast(exp.func("try_cast", stamped, exp.DataType.build("TIMESTAMPTZ")), "TIMESTAMP")
    if fmt == "debezium":  # a batch's changes in their order: a partition's offsets (a key stays in one partition)
        order = exp.Add(this=exp.Mul(this=exp.cast(exp.column("partition"), "HUGEINT"), expression=exp.Literal.number(2**62)),
                        expression=exp.column("offset"))
    else:  # the LSNs, and among changes of one LSN (or of the first copy, all at 0) the order they came in
        order = exp.Add(this=exp.Mul(this=exp.cast(exp.column("offset"), "HUGEINT"), expression=exp.Literal.number(2**24)),
                        expression=exp.column("seq"))
    return [
        exp.alias_(exp.column(OP), "_cdc_op"), exp.alias_(lsn, "_cdc_lsn"), exp.alias_(changed, "_cdc_updated_at"),
        partition, offset, exp.alias_(stamp.copy(), "_kafka_timestamp"), exp.alias_(exp.column(OP), OP), exp.alias_(order, ORDER),
    ]


def _json_get(document: exp.Expr, key: str) -> exp.Expr:
    return duckdb_call("json_extract", document, exp.Literal.string('$."' + key + '"'))


def _json_text(document: exp.Expr, key: str) -> exp.Expr:
    return duckdb_call("json_extract_string", document, exp.Literal.string('$."' + key + '"'))


def _path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'


def _field(index: int) -> exp.Expr:
    return exp.Bracket(this=exp.column(_FIELDS), expressions=[exp.Literal.number(index + 1)], offset=1)  # 1-based, as written


@dataclass(frozen=True)
class _Counted:
    """How a Debezium field sent as a number counts time: its path in the row, the
    option's unit, and the logical type its message's schema names (NULL without one)."""

    path: str
    unit: int
    semantic: exp.Expr


def _cast(text: exp.Expr, kind: exp.DataType, counted: _Counted | None = None, binary: str = "base64",
          postgres: bool = False) -> exp.Expr:
    """A field's text as its column's type, NULL when it is not one; a timestamp with
    an offset is the same instant in UTC (the decoding session's zone). With `counted`
    (Debezium's encoding), a timestamp or a time written as a number counts what its
    schema's logical type says (without one microseconds, or the option's unit), a date days.
    Bytes are text in the `binary` form (`base64`, `bytes` its synonym, `base64-url-safe`
    or `hex`, Postgres's with its `\\x`), never the text's own characters. An array is
    a JSON array, or with `postgres` also Postgres's text of one (`{a,"b c"}`)."""
    types = exp.DataType.Type
    if kind.is_type(types.VARBINARY, types.BINARY):
        return _bytes(text, binary)
    if kind.is_type(types.ARRAY):
        return _array(text, kind, binary, postgres)
    is_stamp = kind.is_type(types.TIMESTAMP, types.TIMESTAMPNTZ)
    if is_stamp:
        # A time with an offset or a zone name is read through TIMESTAMPTZ. One with neither must not be:
        # DuckDB (1.5.5) then reads it in the zone of the last zone name its vector held, not in UTC. The plain
        # cast reads it in UTC, at a third of the cost; it refuses zone names and would drop an offset.
        plain = exp.func("try_cast", text.copy(), kind.copy())
        zoned = exp.or_(duckdb_call("regexp_matches", text.copy(), exp.Literal.string(_OFFSET)), plain.copy().is_(exp.null()))
        cast: exp.Expr = exp.Case(
            ifs=[exp.If(this=zoned, true=exp.func("try_cast", exp.func("try_cast", text.copy(), exp.DataType.build("TIMESTAMPTZ")),
                                                  kind.copy()))],
            default=plain)
    elif kind.is_type(types.TIME):
        cast = _time(text, kind)
    elif kind.is_type(types.INTERVAL):
        return _interval(text, counted is not None)
    else:
        cast = exp.func("try_cast", text.copy(), kind.copy())
    if counted is None or not (is_stamp or kind.is_type(types.DATE, types.TIME)):
        return cast
    number = exp.func("try_cast", text.copy(), exp.DataType.build("BIGINT"))
    micros = _micros(number, counted.semantic, 86_400_000_000 if kind.is_type(types.DATE) else counted.unit)
    moment = duckdb_call("make_timestamp", micros)
    value = (moment if is_stamp else exp.cast(moment, "DATE") if kind.is_type(types.DATE)
             else exp.Add(this=exp.cast(exp.Literal.string("00:00:00"), "TIME"), expression=duckdb_call("to_microseconds", micros)))
    json_kind = exp.func("json_type", exp.column(_ROW), exp.Literal.string(counted.path))
    return exp.Case(ifs=[exp.If(this=json_kind.isin(exp.Literal.string("BIGINT"), exp.Literal.string("UBIGINT")),
                                true=duckdb_call("try", value))], default=cast)


def _time(text: exp.Expr, kind: exp.DataType) -> exp.Expr:
    """A time of day, NULL when the text is not one; with an offset, the same moment's time
    in UTC (the decoding session's zone), as a timestamp's."""
    # seconds written out (DuckDB reads `10:00+02` in no timestamp), after a date
    whole = duckdb_call("regexp_replace", text.copy(), exp.Literal.string(_MINUTES_THEN_ZONE), exp.Literal.string("\\1:00\\3"))
    stamp = exp.Case(ifs=[exp.If(this=duckdb_call("regexp_matches", text.copy(), exp.Literal.string(_DATED)), true=whole)],
                     default=exp.DPipe(this=exp.Literal.string("1970-01-01 "), expression=whole.copy()))
    in_utc = exp.func("try_cast", exp.func("try_cast", exp.func("try_cast", stamp, exp.DataType.build("TIMESTAMPTZ")),
                                           exp.DataType.build("TIMESTAMP")), kind.copy())
    return exp.Case(ifs=[
        exp.If(this=exp.not_(duckdb_call("regexp_full_match", text.copy(), exp.Literal.string(_TIME))), true=exp.null()),
        exp.If(this=duckdb_call("regexp_matches", text.copy(), exp.Literal.string(_ZONED_TIME)), true=in_utc),
    ], default=exp.func("try_cast", text.copy(), kind.copy()))


def _interval(text: exp.Expr, debezium: bool) -> exp.Expr:
    """An interval from its text: ISO 8601's (`P1Y2M3DT4H5M6.5S`, each part perhaps signed:
    Debezium's `interval.handling.mode: string`), or DuckDB's and Postgres's (`1 day
    02:00:00`, `-1 years +3 days`). A bare number says no unit: for Debezium it is its
    `numeric` mode's microseconds, else refused (DuckDB would read seconds). NULL too for
    more hours than Arrow's interval holds (DuckDB would wrap them round without a word)."""
    parts = [duckdb_call("regexp_extract", text.copy(), exp.Literal.string(_ISO_DURATION), exp.Literal.number(group))
             for group in range(1, 8)]

    def whole(part: exp.Expr) -> exp.Expr:
        return exp.func("coalesce", exp.func("try_cast", exp.func("nullif", part, exp.Literal.string("")), exp.DataType.build("BIGINT")),
                        exp.Literal.number(0))

    seconds = exp.func("coalesce", exp.func("try_cast", exp.func("nullif", parts[6], exp.Literal.string("")),
                                            exp.DataType.build("DECIMAL(38, 9)")), exp.Literal.number(0))
    micros = exp.cast(exp.func("round", exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000))), "BIGINT")
    iso = exp.Add(this=exp.Add(this=exp.Add(this=exp.Add(this=exp.Add(
        this=duckdb_call("to_years", whole(parts[0])), expression=duckdb_call("to_months", whole(parts[1]))),
        expression=duckdb_call("to_days", exp.Add(this=exp.Mul(this=whole(parts[2]), expression=exp.Literal.number(7)),
                                                  expression=whole(parts[3])))),
        expression=duckdb_call("to_hours", whole(parts[4]))), expression=duckdb_call("to_minutes", whole(parts[5]))),
        expression=duckdb_call("to_microseconds", micros))
    number = exp.func("try_cast", text.copy(), exp.DataType.build("BIGINT"))
    counted = exp.Add(this=duckdb_call("to_days", exp.IntDiv(this=number.copy(), expression=exp.Literal.number(86_400_000_000))),
                      expression=duckdb_call("to_microseconds", exp.Mod(this=number, expression=exp.Literal.number(86_400_000_000))))
    unsigned = duckdb_call("regexp_replace", text.copy(), exp.Literal.string(r"(^|\s)\+"), exp.Literal.string("\\1"),
                           exp.Literal.string("g"))
    value = exp.Case(ifs=[
        exp.If(this=duckdb_call("regexp_full_match", text.copy(), exp.Literal.string(_ISO_DURATION)), true=duckdb_call("try", iso)),
        exp.If(this=duckdb_call("regexp_full_match", text.copy(), exp.Literal.string(r"\s*[+-]?[0-9.eE+-]+\s*")),
               true=exp.Case(ifs=[exp.If(this=duckdb_call("regexp_full_match", text.copy(), exp.Literal.string(r"\s*[+-]?\d+\s*")),
                                         true=duckdb_call("try", counted))]) if debezium else exp.null()),
    ], default=exp.func("try_cast", unsigned, exp.DataType.build("INTERVAL")))
    hours = exp.func("abs", exp.func("date_part", exp.Literal.string("hour"), value.copy()))
    return exp.Case(ifs=[exp.If(this=exp.LT(this=hours, expression=exp.Literal.number(_ARROW_HOURS)), true=value)])


def _array(text: exp.Expr, kind: exp.DataType, binary: str, postgres: bool) -> exp.Expr:
    """An array's elements as text, then as their type; NULL (a fault) when one that is
    there does not read as its type or an integer's is rounded (DuckDB's cast would make
    such an element NULL, or 1.5 into 2, without a word). A JSON array is read as JSON
    (its escapes are JSON's: DuckDB's cast of a list's text would read `\\n` as `n`).
    Postgres's text of a one-dimensional array is DuckDB's list text once its braces are
    brackets and its single quotes escaped (Postgres leaves them bare, DuckDB would quote
    with them); of more dimensions, only without quoted elements."""
    texts, depth = _leaves(kind, exp.DataType.build("VARCHAR")), _depth(kind)
    ifs = [exp.If(this=duckdb_call("starts_with", text.copy(), exp.Literal.string("[")),
                  true=exp.func("try_cast", exp.func("try_cast", text.copy(), exp.DataType.build("JSON")), texts.copy()))]
    if postgres:
        braced = exp.and_(duckdb_call("starts_with", text.copy(), exp.Literal.string("{")),
                          duckdb_call("ends_with", text.copy(), exp.Literal.string("}")))
        if depth > 1:
            nested = duckdb_call("translate", text.copy(), exp.Literal.string("{}"), exp.Literal.string("[]"))
            plain = exp.not_(exp.func("contains", text.copy(), exp.Literal.string('"')))
            ifs.append(exp.If(this=exp.and_(braced, plain), true=exp.func("try_cast", nested, texts.copy())))
        else:
            inner = exp.func("substr", text.copy(), exp.Literal.number(2), exp.Sub(this=exp.func("length", text.copy()),
                                                                                  expression=exp.Literal.number(2)))
            flat = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("["), expression=duckdb_call(
                "replace", inner, exp.Literal.string("'"), exp.Literal.string("\\'"))), expression=exp.Literal.string("]"))
            ifs.append(exp.If(this=braced, true=exp.func("try_cast", flat, texts.copy())))
    elements = exp.Case(ifs=ifs)
    leaf = kind
    while leaf.is_type(exp.DataType.Type.ARRAY):
        leaf = leaf.expressions[0]
    typed = _each_leaf(elements, depth, leaf, binary) if leaf.is_type(*_READ_ALONE) else exp.func("try_cast", elements.copy(), kind.copy())

    def levels(values: exp.Expr) -> list[exp.Expr]:  # the array, its elements' elements, ... down to the leaves
        found = [values]
        for _ in range(depth - 1):
            found.append(duckdb_call("flatten", found[-1].copy()))
        return found

    # every leaf there read as its type, and no sub-array missing (Postgres's are never NULL; one that is not
    # an array, in an array of more dimensions than the text's, would be)
    whole: exp.Expr = duckdb_call("list_count", levels(typed.copy())[-1]).eq(duckdb_call("list_count", levels(elements.copy())[-1]))
    for level in levels(elements.copy())[:-1]:
        whole = exp.and_(whole, duckdb_call("list_count", level.copy()).eq(exp.func("length", level.copy())))
    if leaf.is_type(*exp.DataType.INTEGER_TYPES):
        doubles = _leaves(kind, exp.DataType.build("DOUBLE"))
        whole = exp.and_(whole, exp.EQ(this=exp.func("try_cast", elements.copy(), doubles), expression=exp.func(
            "try_cast", typed.copy(), doubles.copy())))
    return exp.Case(ifs=[exp.If(this=whole, true=typed)])


def _each_leaf(elements: exp.Expr, depth: int, leaf: exp.DataType, binary: str) -> exp.Expr:
    """An array of texts, `depth` deep, with each leaf read as a field of type `leaf` is."""
    element = exp.to_identifier(f"__fd_e{depth}")
    inner = _cast(exp.column(element.copy()), leaf, binary=binary) if depth == 1 else _each_leaf(
        exp.column(element.copy()), depth - 1, leaf, binary)
    return duckdb_call("list_transform", elements, exp.Lambda(this=inner, expressions=[element]))


def _leaves(kind: exp.DataType, leaf: exp.DataType) -> exp.DataType:
    """The array type of `kind`'s dimensions with `leaf` elements."""
    if not kind.is_type(exp.DataType.Type.ARRAY):
        return leaf.copy()
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[_leaves(kind.expressions[0], leaf)], nested=True)


def _depth(kind: exp.DataType) -> int:
    return 1 + _depth(kind.expressions[0]) if kind.is_type(exp.DataType.Type.ARRAY) else 0


def _bytes(text: exp.Expr, binary: str) -> exp.Expr:
    """Bytes from their text, NULL when it is not of the form."""
    if binary == "hex":  # Postgres's `\\x0102`; Debezium's hex has no prefix
        digits = exp.Case(ifs=[exp.If(this=duckdb_call("starts_with", text.copy(), exp.Literal.string("\\x")),
                                      true=exp.func("substr", text.copy(), exp.Literal.number(3)))], default=text.copy())
        even = exp.EQ(this=exp.Mod(this=exp.func("length", digits.copy()), expression=exp.Literal.number(2)),
                      expression=exp.Literal.number(0))
        valid = exp.and_(even, duckdb_call("regexp_full_match", digits.copy(), exp.Literal.string("[0-9a-fA-F]*")))
        return exp.Case(ifs=[exp.If(this=valid, true=duckdb_call("unhex", digits))])
    if binary == "base64-url-safe":  # `-` and `_` for `+` and `/`, and perhaps no padding
        standard = duckdb_call("translate", text.copy(), exp.Literal.string("-_"), exp.Literal.string("+/"))
        padding = exp.Mod(this=exp.paren(exp.Sub(this=exp.Literal.number(4), expression=exp.Mod(
            this=exp.func("length", standard.copy()), expression=exp.Literal.number(4)))), expression=exp.Literal.number(4))
        text = exp.DPipe(this=standard, expression=duckdb_call("repeat", exp.Literal.string("="), exp.cast(padding, "BIGINT")))
    return duckdb_call("try", duckdb_call("from_base64", text))


def _micros(number: exp.Expr, semantic: exp.Expr, unit: int) -> exp.Expr:
    """A count of time in microseconds, by the logical type its schema names, else of `unit`."""
    thousand = exp.Literal.number(1000)
    below = exp.Case(ifs=[exp.If(this=exp.Mod(this=number.copy(), expression=thousand.copy()) < 0, true=exp.Literal.number(1))],
                     default=exp.Literal.number(0))
    nanos = exp.Sub(this=exp.IntDiv(this=number.copy(), expression=thousand.copy()), expression=below)  # floored: before 1970 too
    return exp.Case(ifs=[
        *[exp.If(this=semantic.copy().eq(exp.Literal.string(name)), true=exp.Mul(this=number.copy(), expression=exp.Literal.number(n)))
          for name, n in _COUNTED.items()],
        exp.If(this=semantic.copy().isin(*[exp.Literal.string(name) for name in _NANOS]), true=nanos),
    ], default=exp.Mul(this=number.copy(), expression=exp.Literal.number(unit)))


def _hex_digits(index: int, field: exp.Expr) -> exp.Expr:
    """The hex of a Debezium DECIMAL's bytes (a Decimal's base64 text, a
    VariableScaleDecimal's `value`); NULL when it is no base64."""
    encoded = exp.Case(ifs=[exp.If(this=_listed(_SEMANTIC, index).eq(exp.Literal.string(_VARIABLE_DECIMAL)),
                                   true=_json_text(field.copy(), "value"))], default=field.copy())
    return duckdb_call("hex", duckdb_call("try", duckdb_call("from_base64", encoded)))


def _debezium_decimal(index: int, column: Column, field: exp.Expr, handling: str | None) -> exp.Expr:
    """A DECIMAL field as number text: decoded from its bytes at the scale the schema
    gives (a Decimal's parameter, a VariableScaleDecimal's own), or without a schema
    and with `decimal_handling: precise` at the declared scale, as Debezium writes the
    column's; else the field as written (a number, or digits as text)."""
    semantic = _listed(_SEMANTIC, index)
    scales = [
        exp.If(this=semantic.eq(exp.Literal.string(_DECIMAL)),
               true=exp.func("try_cast", _listed(_SCALE, index), exp.DataType.build("INT"))),
        exp.If(this=semantic.copy().eq(exp.Literal.string(_VARIABLE_DECIMAL)),
               true=exp.func("try_cast", _json_text(field.copy(), "scale"), exp.DataType.build("INT"))),
    ]
    if handling == "precise":
        unsaid = exp.and_(exp.column(_SEMANTIC).is_(exp.null()), _json_kind(column.name).eq(exp.Literal.string("VARCHAR")))
        scales.append(exp.If(this=unsaid, true=exp.Literal.number(decimal_digits(column.type)[1])))
    scale = exp.Case(ifs=scales)
    decoded = _scaled_text(_unscaled(exp.column(f"{_HEX}{index}")), scale)
    return exp.Case(ifs=[exp.If(this=scale.copy().is_(exp.null()).not_(), true=exp.func("coalesce", decoded, field.copy()))],
                    default=field.copy())


def _unscaled(hex_digits: exp.Expr) -> exp.Expr:
    """Big-endian two's complement bytes (as hex) as a HUGEINT: byte by byte, the first one signed."""
    byte = exp.to_identifier("__fd_i")
    at = exp.Add(this=exp.Mul(this=exp.Literal.number(2), expression=exp.column(byte.copy())), expression=exp.Literal.number(1))
    value = exp.func("try_cast", exp.DPipe(this=exp.Literal.string("0x"), expression=exp.func(
        "substr", hex_digits.copy(), at, exp.Literal.number(2))), exp.DataType.build("INT"))
    signed = exp.Case(ifs=[exp.If(this=exp.and_(exp.column(byte.copy()).eq(0), value.copy() >= 128),
                                  true=exp.Sub(this=value.copy(), expression=exp.Literal.number(256)))], default=value.copy())
    count = exp.IntDiv(this=exp.func("length", hex_digits.copy()), expression=exp.Literal.number(2))
    listed = duckdb_call("list_transform", duckdb_call("range", exp.Literal.number(0), count),
                         exp.Lambda(this=exp.cast(signed, "HUGEINT"), expressions=[byte.copy()]))
    a, b = exp.to_identifier("__fd_a"), exp.to_identifier("__fd_b")
    folded = duckdb_call("list_reduce", listed, exp.Lambda(
        this=exp.Add(this=exp.Mul(this=exp.column(a.copy()), expression=exp.Literal.number(256)), expression=exp.column(b.copy())),
        expressions=[a.copy(), b.copy()]))
    fits = exp.Between(this=exp.func("length", hex_digits.copy()), low=exp.Literal.number(2), high=exp.Literal.number(32))
    return exp.Case(ifs=[exp.If(this=fits, true=duckdb_call("try", folded))])


def _scaled_text(unscaled: exp.Expr, scale: exp.Expr) -> exp.Expr:
    """An unscaled integer and its scale as the number's text: 12345 at scale 2 is 123.45."""
    digits = exp.cast(duckdb_call("try", exp.Abs(this=unscaled.copy())), "VARCHAR")
    width = exp.cast(exp.func("greatest", exp.func("length", digits.copy()), exp.Add(this=scale.copy(), expression=exp.Literal.number(1))),
                     "INT")
    padded = duckdb_call("lpad", digits, width, exp.Literal.string("0"))  # lpad cuts a longer text to the width
    sign = exp.Case(ifs=[exp.If(this=unscaled.copy() < 0, true=exp.Literal.string("-"))], default=exp.Literal.string(""))
    whole = exp.func("left", padded.copy(), exp.Sub(this=exp.func("length", padded.copy()), expression=scale.copy()))
    fraction = exp.func("right", padded.copy(), scale.copy())
    pointed = exp.DPipe(this=exp.DPipe(this=exp.DPipe(this=sign, expression=whole), expression=exp.Literal.string(".")),
                        expression=fraction)
    zeros = exp.DPipe(this=exp.cast(unscaled.copy(), "VARCHAR"), expression=duckdb_call("repeat", exp.Literal.string("0"), exp.Neg(
        this=scale.copy())))
    return exp.Case(ifs=[exp.If(this=scale.copy() > 0, true=pointed)], default=zeros)  # a negative scale: trailing zeros


def _listed(column: str, index: int) -> exp.Expr:
    """The index-th declared column's entry of a per-column list."""
    return exp.Bracket(this=exp.column(column), expressions=[exp.Literal.number(index + 1)], offset=1)


def _json_kind(name: str) -> exp.Expr:
    """The JSON type of the row's field of that column (VARCHAR for a string)."""
    return exp.func("json_type", exp.column(_ROW), exp.Literal.string(_path(name)))


def _as_text(blob: exp.Expr) -> exp.Expr:
    """UTF-8 bytes as their text, others with DuckDB's \\xNN escapes (what a dead letter keeps)."""
    return exp.func("coalesce", duckdb_call("try", duckdb_call("decode", blob)), exp.cast(blob.copy(), "VARCHAR"))


def duckdb_call(name: str, *arguments: exp.Expr) -> exp.Expr:
    """A DuckDB function by its own name (sqlglot would rename json_extract_string to ->>)."""
    return exp.Anonymous(this=name, expressions=list(arguments))
