"""Debezium's encodings of typed values, read as their columns' types: with the JSON
converter's schemas (Kafka Connect's default) each field's logical type says how a
number counts time and a DECIMAL's base64 bytes their scale; without one, a DECIMAL
sent as text is refused unless the table's option says which text it is."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

import pyarrow
import pytest

from featureduck.streams.decode import ERROR
from tests.conftest import ProjectFactory
from tests.debezium_events import TYPES, decimal_bytes, with_schema
from tests.stream_batches import decoded_batch

SOURCE = """
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: localhost:9092}}
    tables:
      - name: orders
        format: debezium
        key: [id]
        columns: {{id: bigint, price: "decimal(38, 4)", amount: "decimal(20, 6)", at_ms: timestamp, at_us: timestamp,
                   at_ns: timestamp, day: date, at_time: time}}
        {options}
"""
EPOCH = datetime.datetime(1970, 1, 1)


def _decoded(make_project: ProjectFactory, messages: list[dict[str, Any]], options: str = "", source: str = SOURCE) -> pyarrow.Table:
    return decoded_batch(make_project, source.format(options=options), "orders", messages)


def _create(values: dict[str, Any], op: str = "c") -> dict[str, Any]:
    """A change without a schema whose row has every column of the table, null but for `values`."""
    return {"op": op, "after": {**dict.fromkeys(TYPES, None), **values}, "source": {"lsn": values["id"]}}


def test_a_schema_tells_each_fields_logical_type(make_project: ProjectFactory) -> None:
    rng = random.Random(11)
    rows, expected = [], []
    for key in range(300):
        price = rng.choice([0, 1, -1, 127, 128, -128, -129, 10**37 - 1, -(10**37) + 1, rng.randrange(-(10**20), 10**20)])
        scale = rng.randrange(0, 7)
        amount = rng.randrange(-(10**13), 10**13)
        micros = rng.randrange(-(9 * 10**15), 9 * 10**15)  # 1685 to 2255, both sides of 1970 (nanoseconds in 64 bits)
        days = rng.randrange(-20000, 40000)
        of_day = rng.randrange(86_400_000_000)
        rows.append({"id": key, "price": decimal_bytes(price), "amount": {"scale": scale, "value": decimal_bytes(amount)},
                     "at_ms": micros // 1000, "at_us": micros, "at_ns": micros * 1000 + rng.randrange(1000), "day": days,
                     "at_time": of_day})
        moment = EPOCH + datetime.timedelta(microseconds=micros)
        expected.append((key, Decimal(f"{price}E-4"), Decimal(amount).scaleb(-scale).quantize(Decimal("0.000001")),
                         EPOCH + datetime.timedelta(milliseconds=micros // 1000), moment, moment,
                         (EPOCH + datetime.timedelta(days=days)).date(), (EPOCH + datetime.timedelta(microseconds=of_day)).time()))
    decoded = _decoded(make_project, [with_schema(row) for row in rows])
    assert decoded.column(ERROR).null_count == decoded.num_rows, decoded.column(ERROR).to_pylist()[:3]
    names = ["id", "price", "amount", "at_ms", "at_us", "at_ns", "day", "at_time"]
    assert list(zip(*(decoded.column(n).to_pylist() for n in names), strict=True)) == expected


def test_bytes_that_are_no_base64_or_no_fit_are_dead_letters(make_project: ProjectFactory) -> None:
    good = {"id": 1, "price": decimal_bytes(5), "amount": None, "at_ms": None, "at_us": None, "at_ns": None, "day": None, "at_time": None}
    decoded = _decoded(make_project, [with_schema({**good, "price": "@@not base64"}),
                                      with_schema({**good, "id": 2, "price": decimal_bytes(10**40)}), with_schema(good)])
    errors = decoded.column(ERROR).to_pylist()
    assert errors[0] == "column 'price': @@not base64 is not a DECIMAL(38, 4)"
    assert errors[1] is not None and errors[1].startswith("column 'price': ") and errors[2] is None
    assert decoded.column("price").to_pylist()[2] == Decimal("0.0005")


@pytest.mark.parametrize(("options", "sent", "value"), [
    ("options: {decimal_handling: precise}", decimal_bytes(-123456), Decimal("-12.3456")),  # at the declared scale, as Debezium encodes it
    ("options: {decimal_handling: string}", "1234", Decimal("1234")),
    ("options: {decimal_handling: double}", 12.5, Decimal("12.5")),
    ("", 12.5, Decimal("12.5")),  # a number is a number
])
def test_without_a_schema_the_option_says_what_decimal_text_is(make_project: ProjectFactory, options: str, sent: Any,
                                                                value: Decimal) -> None:
    decoded = _decoded(make_project, [_create({"id": 1, "price": sent})], options)
    assert decoded.column(ERROR).to_pylist() == [None]
    assert decoded.column("price").to_pylist() == [value]


def test_without_a_schema_or_the_option_decimal_text_is_refused(make_project: ProjectFactory) -> None:
    # "MTIz" is the base64 of b"123", and "1234" could be either: read as one, it would be silently the other
    decoded = _decoded(make_project, [_create({"id": 1, "price": "1234"})])
    assert decoded.column(ERROR).to_pylist() == [
        "column 'price': 1234 is text, which Debezium writes for a DECIMAL in base64 (decimal.handling.mode precise) or as its "
        "digits (string), and the message has no schema to tell: set the table's option decimal_handling"]


@pytest.mark.parametrize("op", ["c", "u", "r"])
def test_a_declared_column_the_row_lacks_is_refused(make_project: ProjectFactory, op: str) -> None:
    # Debezium writes each column of the table in a row image, a null one as null: one it lacks is not the table's
    lacking = _create({"id": 1, "price": decimal_bytes(5)}, op)
    del lacking["after"]["at_ns"]
    decoded = _decoded(make_project, [lacking, _create({"id": 2, "price": decimal_bytes(5)}, op)], "options: {decimal_handling: precise}")
    assert decoded.column(ERROR).to_pylist() == [
        "column 'at_ns' is not in the change's row (after): the table has no such column, or the connector leaves it out", None]


def test_a_delete_needs_only_the_key(make_project: ProjectFactory) -> None:
    # before holds what the table's replica identity gives: for the default, its key
    decoded = _decoded(make_project, [{"op": "d", "before": {"id": 3}, "after": None, "source": {"lsn": 3}}])
    assert decoded.column(ERROR).to_pylist() == [None]
    assert decoded.column("id").to_pylist() == [3]


def test_an_interval_is_microseconds_or_iso_8601(make_project: ProjectFactory) -> None:
    # interval.handling.mode numeric (MicroDuration, the default) or string: never DuckDB's seconds for a bare number
    source = SOURCE.replace("at_time: time}}", "at_time: time, span: interval}}")
    sent = [86_400_000_001, -1, "P1DT0.5S", 1.5]
    messages = [{"op": "c", "after": {**dict.fromkeys([*TYPES, "span"], None), "id": i, "span": s}, "source": {"lsn": i}}
                for i, s in enumerate(sent)]
    decoded = _decoded(make_project, messages, "options: {decimal_handling: precise}", source)
    assert decoded.column(ERROR).to_pylist() == [None, None, None, "column 'span': 1.5 is not an INTERVAL"]
    assert decoded.column("span").to_pylist()[:3] == [pyarrow.MonthDayNano([0, 1, 1000]), pyarrow.MonthDayNano([0, 0, -1000]),
                                                      pyarrow.MonthDayNano([0, 1, 500_000_000])]
