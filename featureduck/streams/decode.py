"""Messages into typed rows, in one vectorized DuckDB pass.

Each message's value is read as UTF-8 JSON once (`json_extract_string` with
every column's path), each field cast to its declared type, and the first
thing wrong with a message is named in `__fd_error`: not UTF-8, not JSON, not
an object, a key column missing, a field that is not of its column's type (an
integer column refuses 1.5, which DuckDB's cast would round). Rows with an
error go to the dead-letter table, the rest to the landing table, so a
malformed message never stops the stream and never lands half-read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from featureduck.project.nodes import KAFKA_COLUMNS, SourceTable

ERROR = "__fd_error"
RAW_TABLE = "__fd_raw_messages"
_TEXT, _JSON, _FIELDS = "__fd_text", "__fd_json", "__fd_fields"
_SHOWN = 80  # characters of a bad value quoted in its error
DEAD_LETTER_COLUMNS = (
    ("_kafka_partition", "INTEGER"), ("_kafka_offset", "BIGINT"), ("_kafka_timestamp", "TIMESTAMP"),
    ("message_key", "VARCHAR"), ("message", "VARCHAR"), ("error", "VARCHAR"), ("received_at", "TIMESTAMP"),
)


@dataclass(frozen=True)
class Column:
    name: str
    type: exp.DataType  # as declared, parsed in the project's dialect


def declared_columns(table: SourceTable, dialect: str) -> list[Column]:
    return [Column(c.name, exp.DataType.build(str(c.data_type), dialect=dialect)) for c in table.columns.values()]


def landing_columns(table: SourceTable, dialect: str) -> list[Column]:
    """The landing table's columns: the declared ones, then where each message came from."""
    return [*declared_columns(table, dialect), *(Column(n, exp.DataType.build(t)) for n, t in KAFKA_COLUMNS)]


def decode_query(table: SourceTable, dialect: str) -> exp.Select:
    """DuckDB SQL over RAW_TABLE (streams.kafka.RawBatch's columns) giving the landing
    columns, ERROR, and the message's key and value as text for a dead letter."""
    assert table.stream is not None
    columns = declared_columns(table, dialect)
    paths = exp.Array(expressions=[exp.Literal.string('$."' + c.name.replace('"', '\\"') + '"') for c in columns])
    text = exp.select("*", exp.alias_(_call("try", _call("decode", exp.column("value"))), _TEXT)).from_(RAW_TABLE)
    parsed = exp.select("*", exp.alias_(exp.func("try_cast", exp.column(_TEXT), exp.DataType.build("JSON")), _JSON)).from_(
        text.subquery("texts"))
    fields = exp.select("*", exp.alias_(_call("json_extract_string", exp.column(_JSON), paths), _FIELDS)).from_(
        parsed.subquery("parsed"))
    values = {c.name: _field(i) for i, c in enumerate(columns)}
    casts = {c.name: _cast(values[c.name], c.type) for c in columns}
    whens: list[tuple[exp.Expr, exp.Expr]] = [
        (exp.column("value").is_(exp.null()), exp.Literal.string("an empty message (a tombstone)")),
        (exp.column(_TEXT).is_(exp.null()), exp.Literal.string("not UTF-8 text")),
        (exp.column(_JSON).is_(exp.null()), exp.Literal.string("not JSON")),
        (exp.func("json_type", exp.column(_JSON)).neq(exp.Literal.string("OBJECT")), exp.Literal.string("not a JSON object")),
    ]
    for name in table.stream.key:
        whens.append((values[name].is_(exp.null()), exp.Literal.string(f"key column '{name}' is missing or null")))
    for column in columns:
        raw, cast = values[column.name], casts[column.name]
        wrong: exp.Expr = exp.and_(raw.is_(exp.null()).not_(), cast.is_(exp.null()))
        if column.type.is_type(*exp.DataType.INTEGER_TYPES):  # DuckDB's cast rounds 1.5 to 2: refused instead
            as_double = exp.func("try_cast", raw.copy(), exp.DataType.build("DOUBLE"))
            wrong = exp.or_(wrong, exp.and_(raw.is_(exp.null()).not_(), exp.NEQ(this=as_double, expression=exp.cast(cast, "DOUBLE"))))
        shown = exp.func("left", raw.copy(), exp.Literal.number(_SHOWN))
        kind = column.type.sql("duckdb")
        article = "an" if kind[0] in "AEIOU" else "a"
        message = exp.DPipe(this=exp.DPipe(this=exp.Literal.string(f"column '{column.name}': "), expression=shown),
                            expression=exp.Literal.string(f" is not {article} {kind}"))
        whens.append((wrong, message))
    error = exp.Case(ifs=[exp.If(this=condition, true=result) for condition, result in whens])
    return exp.select(
        *[exp.alias_(casts[c.name], c.name, quoted=True) for c in columns],
        exp.alias_(exp.column("partition"), "_kafka_partition"),
        exp.alias_(exp.column("offset"), "_kafka_offset"),
        exp.alias_(exp.If(this=exp.column("timestamp") >= 0, true=_call("epoch_ms", exp.column("timestamp"))), "_kafka_timestamp"),
        exp.alias_(error, ERROR),
        exp.alias_(_as_text(exp.column("key")), "message_key"),
        exp.alias_(exp.func("coalesce", exp.column(_TEXT), _as_text(exp.column("value"))), "message"),
    ).from_(fields.subquery("fields"))


def _field(index: int) -> exp.Expr:
    return exp.Bracket(this=exp.column(_FIELDS), expressions=[exp.Literal.number(index + 1)], offset=1)  # 1-based, as written


def _cast(text: exp.Expr, kind: exp.DataType) -> exp.Expr:
    """A field's text as its column's type, NULL when it is not one; a timestamp with
    an offset is the same instant in UTC (the decoding session's zone)."""
    if kind.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return exp.func("try_cast", exp.func("try_cast", text.copy(), exp.DataType.build("TIMESTAMPTZ")), kind.copy())
    return exp.func("try_cast", text.copy(), kind.copy())


def _as_text(blob: exp.Expr) -> exp.Expr:
    """UTF-8 bytes as their text, others with DuckDB's \\xNN escapes (what a dead letter keeps)."""
    return exp.func("coalesce", _call("try", _call("decode", blob)), exp.cast(blob.copy(), "VARCHAR"))


def _call(name: str, *arguments: exp.Expr) -> exp.Expr:
    """A DuckDB function by its own name (sqlglot would rename json_extract_string to ->>)."""
    return exp.Anonymous(this=name, expressions=list(arguments))
