"""Debezium change events as its Postgres connector writes them with the JSON
converter's schemas (decimal.handling.mode precise, time.precision.mode adaptive)."""

from __future__ import annotations

import base64
from typing import Any

TYPES = {  # the schema of each column of the orders table
    "id": {"type": "int64"},
    "price": {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
              "parameters": {"scale": "4", "connect.decimal.precision": "38"}},
    "amount": {"type": "struct", "name": "io.debezium.data.VariableScaleDecimal",
               "fields": [{"type": "int32", "field": "scale"}, {"type": "bytes", "field": "value"}]},
    "at_ms": {"type": "int64", "name": "io.debezium.time.Timestamp"},
    "at_us": {"type": "int64", "name": "io.debezium.time.MicroTimestamp"},
    "at_ns": {"type": "int64", "name": "io.debezium.time.NanoTimestamp"},
    "day": {"type": "int32", "name": "io.debezium.time.Date"},
    "at_time": {"type": "int64", "name": "io.debezium.time.MicroTime"},
}


def decimal_bytes(unscaled: int) -> str:
    """Java's BigInteger.toByteArray (the fewest two's complement bytes), in base64, as Kafka Connect writes a Decimal."""
    size = (unscaled + (unscaled < 0)).bit_length() // 8 + 1
    return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()


def with_schema(row: dict[str, Any], op: str = "c", lsn: int | None = None) -> dict[str, Any]:
    """A create (or `op`) of `row` as the JSON converter writes it with schemas: `schema` and `payload`."""
    value = {"type": "struct", "optional": True, "name": "dbserver1.public.orders.Value",
             "fields": [{**kind, "optional": name != "id", "field": name} for name, kind in TYPES.items()]}
    schema = {"type": "struct", "name": "dbserver1.public.orders.Envelope", "fields": [
        {**value, "field": "before"}, {**value, "field": "after"},
        {"type": "struct", "field": "source", "fields": [{"type": "int64", "field": "lsn"}]}, {"type": "string", "field": "op"}]}
    return {"schema": schema, "payload": {"op": op, "before": None, "after": row, "source": {"lsn": row["id"] if lsn is None else lsn}}}
