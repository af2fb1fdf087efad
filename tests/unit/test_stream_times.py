"""Times of day, intervals and arrays of times or bytes in JSON messages, read as a
field of their type is: a time with an offset is that moment's time in UTC, as a
timestamp with one is the instant in UTC; text that is no time (DuckDB's cast would
take a bare date for midnight, or drop an offset or anything after the time) is
refused; an interval is ISO 8601's or Postgres's text, never a bare number (DuckDB
would read seconds); an array's elements each read so (its cast from text would drop
every offset and take base64's characters for the bytes)."""

from __future__ import annotations

import base64
import datetime
import random
from typing import Any

import pyarrow
import pytest

from featureduck.streams.decode import ERROR
from tests.conftest import ProjectFactory
from tests.stream_batches import decoded_batch

SOURCE = """
sources:
  - name: app
    type: kafka
    connection: {bootstrap_servers: localhost:9092}
    tables:
      - name: events
        key: [id]
        columns: {id: bigint, at: time, times: "time[]", stamps: "timestamp[]", grid: "timestamp[][]", blobs: "blob[]", span: interval}
"""


def _decoded(make_project: ProjectFactory, messages: list[dict[str, Any]]) -> pyarrow.Table:
    return decoded_batch(make_project, SOURCE, "events", messages)


def _offset_text(minutes: int, rng: random.Random) -> str:
    sign, whole = "+" if minutes >= 0 else "-", abs(minutes)
    hours, rest = divmod(whole, 60)
    if minutes == 0 and rng.random() < 0.5:
        return "Z"
    return f"{sign}{hours:02d}" + (f":{rest:02d}" if rest or rng.random() < 0.5 else "")


def test_times_and_timestamps_with_offsets_are_read_in_utc(make_project: ProjectFactory) -> None:
    rng = random.Random(19)
    messages, expected = [], []
    for key in range(200):
        moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=rng.randrange(86_400 * 365),
                                                                              microseconds=rng.choice([0, rng.randrange(10**6)]))
        offsets = [rng.choice([0, 60, -300, 330, -150, 845]) for _ in range(3)]
        local = [moment.astimezone(datetime.timezone(datetime.timedelta(minutes=m))) for m in offsets]
        texts = [f"{t:%Y-%m-%d %H:%M:%S.%f}{_offset_text(m, rng)}" for t, m in zip(local, offsets, strict=True)]
        time_text = f"{local[0]:%H:%M}" + (f":{local[0]:%S.%f}" if moment.second or moment.microsecond else "")
        messages.append({"id": key, "at": time_text + _offset_text(offsets[0], rng), "times": [time_text + _offset_text(offsets[0], rng)],
                         "stamps": texts, "grid": [texts[:1], texts[1:]]})
        naive = moment.replace(tzinfo=None)
        of_day = naive.time() if moment.second or moment.microsecond else naive.time().replace(second=0, microsecond=0)
        expected.append((key, of_day, [of_day], [naive] * 3, [[naive], [naive, naive]]))
    decoded = _decoded(make_project, messages)
    assert decoded.column(ERROR).null_count == decoded.num_rows, decoded.column(ERROR).to_pylist()[:3]
    names = ["id", "at", "times", "stamps", "grid"]
    assert list(zip(*(decoded.column(n).to_pylist() for n in names), strict=True)) == expected


@pytest.mark.parametrize(("text", "value"), [
    ("10:00", datetime.time(10)), ("10:00:00.5", datetime.time(10, 0, 0, 500000)), (" 23:59:59.999999 ", datetime.time(23, 59, 59, 999999)),
    ("2026-01-01 10:00:00", datetime.time(10)),  # a timestamp's time of day, as Postgres reads it
    ("2026-01-01T01:30-02:30", datetime.time(4)),
])
def test_a_time_of_day_is_read(make_project: ProjectFactory, text: str, value: datetime.time) -> None:
    decoded = _decoded(make_project, [{"id": 1, "at": text}])
    assert decoded.column(ERROR).to_pylist() == [None]
    assert decoded.column("at").to_pylist() == [value]


@pytest.mark.parametrize("text", ["2026-01-01", "10:00 abc", "10:00:00 PST", "10", "25:00:00", "10:00:00 Europe/Paris"])
def test_text_that_is_no_time_of_day_is_a_dead_letter(make_project: ProjectFactory, text: str) -> None:
    decoded = _decoded(make_project, [{"id": 1, "at": text}])
    assert decoded.column(ERROR).to_pylist() == [f"column 'at': {text} is not a TIME"]


def test_an_arrays_bytes_are_base64_and_a_bad_element_refuses_it(make_project: ProjectFactory) -> None:
    sent = [b"\x00\xff", b"", b"\x01\x02\x03"]
    decoded = _decoded(make_project, [{"id": 1, "blobs": [base64.b64encode(b).decode() for b in sent] + [None]},
                                      {"id": 2, "blobs": ["AQI=", "@@"]}, {"id": 3, "stamps": ["2026-01-01", "x"]}])
    assert decoded.column("blobs").to_pylist()[0] == [*sent, None]
    assert decoded.column(ERROR).to_pylist() == [None, """column 'blobs': ["AQI=","@@"] is not a BLOB[]""",
                                                 """column 'stamps': ["2026-01-01","x"] is not a TIMESTAMP[]"""]


@pytest.mark.parametrize(("text", "months", "days", "micros"), [
    ("P1Y2M3DT4H5M6.5S", 14, 3, 14_706_500_000), ("P-1Y-2M3DT-4H-5M-6.78S", -14, 3, -14_706_780_000),  # Debezium's string mode
    ("P2W", 0, 14, 0), ("PT0.000001S", 0, 0, 1),
    ("1 day 02:00:00", 0, 1, 7_200_000_000), ("-1 years -2 mons +3 days -04:05:06.78", -14, 3, -14_706_780_000),  # Postgres's
])
def test_an_interval_is_iso_8601_or_postgres_text(make_project: ProjectFactory, text: str, months: int, days: int, micros: int) -> None:
    decoded = _decoded(make_project, [{"id": 1, "span": text}])
    assert decoded.column(ERROR).to_pylist() == [None]
    assert decoded.column("span").to_pylist() == [pyarrow.MonthDayNano([months, days, micros * 1000])]


@pytest.mark.parametrize("sent", [100, "100", 1.5, "xyz", "3000000 hours"])  # no unit said; more hours than Arrow's interval holds
def test_an_interval_that_says_no_unit_or_does_not_fit_is_a_dead_letter(make_project: ProjectFactory, sent: Any) -> None:
    decoded = _decoded(make_project, [{"id": 1, "span": sent}])
    assert decoded.column(ERROR).to_pylist() == [f"column 'span': {sent} is not an INTERVAL"]
