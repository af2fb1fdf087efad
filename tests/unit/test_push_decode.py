"""A push body decoded in one pass (`Pusher.decode`, msgspec) against the general way
it stands in for (orjson, then `PushView.validate`), on seeded random bodies, most of
them valid and the rest with one fault each: whatever the one pass takes, the general
way takes with the very same values (types included), and whatever the general way
refuses, the one pass hands back to it."""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from featureduck.api import Project
from featureduck.errors import UsageError
from featureduck.streams.push import Pusher
from tests.conftest import ProjectFactory

SEEDS = [21, 22, 23]
SOURCES = """
sources:
  - name: clicks
    type: kafka
    connection: {bootstrap_servers: "localhost:9092"}
    tables:
      - name: events
        key: [user_id]
        timestamp_field: event_ts
        columns: {user_id: bigint, event_ts: timestamp, amount: double, ratio: real, clicks: integer, tiny: smallint,
                  country: varchar, active: boolean, seen: "decimal(8, 2)", day: date, "last seen": timestamp}
entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - name: clicks
    entity: user
    source: clicks.events
    timestamp_field: event_ts
    stream: true
    online: true
    features:
      - {name: amount, dtype: double}
      - {name: clicks, dtype: integer}
"""
# each column's values: as JSON texts, the usual ones first and then the odd and the wrong
NUMBERS = ["1.5", "0", "-0.0", "3", "1E2", "2.5e-7", "1.7976931348623157e308", "5e-324", "9007199254740993",
           "99999999999999999999", "123456789.125", "0.1", "1e999", '"1.5"', "true", "null", "[]"]
INTEGERS = ["7", "0", "-1", "2147483647", "-2147483648", "2147483648", "9223372036854775807", "-9223372036854775808",
            "9223372036854775808", "18446744073709551615", "1.0", "1e2", '"7"', "false", "null", "{}"]
TEXTS = ['"de"', '""', '"a,b"', '"\\u00e9\\ud83d\\ude00"', '"line\\nbreak"', '"\\u0000"', "null", "1", "true", '"\\ud800"']
SMALL = ["1", "-2", "32767", "null", "32768", "-32769"]
BOOLEANS = ["true", "false", "null", "null", "1", '"true"']
DECIMALS = ["1.25", "3", '"2.5"', '"1e1"', "1.234", "123456.78", "1234567.8", '"x"', "true", "null", "99999999999999999999",
            '"NaN"', "-0.5", "0.1000000000000000055511151231257827"]  # the last a double reads as 0.1: refused, no float
STAMPS = ['"2026-01-01T10:00:00"', '"2026-01-01T10:00:00.250000"', '"2026-01-01 10:00:00"', '"2026-01-01T11:00:00+01:00"',
          '"2026-01-01T09:00:00Z"', '"2026-01-01T10:00:00.1234567"', '"2026-01-01"', '"2026-01-01T10:00"',
          '"2026-01-01T23:59:60"', '"yesterday"', '"20260101T100000"', "1767261600", "null"]
DATES = ['"2026-01-01"', '"1999-12-31"', '"20260101"', "null", '"2026-02-30"', '"2026-01-01T00:00:00"', "20260101"]


def _pick(rng: random.Random, values: list[str], odd: float) -> str:
    """Mostly among the first (usual) values; with chance `odd`, any of them."""
    return rng.choice(values) if rng.random() < odd else rng.choice(values[:4])


def _row(rng: random.Random, odd: float) -> str:
    fields = {
        '"user_id"': _pick(rng, INTEGERS, odd), '"event_ts"': _pick(rng, STAMPS, odd), '"amount"': _pick(rng, NUMBERS, odd),
        '"ratio"': _pick(rng, NUMBERS, odd), '"clicks"': _pick(rng, INTEGERS, odd), '"tiny"': _pick(rng, SMALL, odd),
        '"country"': _pick(rng, TEXTS, odd), '"active"': _pick(rng, BOOLEANS, odd), '"seen"': _pick(rng, DECIMALS, odd),
        '"day"': _pick(rng, DATES, odd), '"last seen"': _pick(rng, STAMPS, odd),
    }
    names = list(fields)
    rng.shuffle(names)
    kept = [name for name in names if name in ('"user_id"', '"event_ts"') or rng.random() < 0.8 or rng.random() < odd]
    if rng.random() < odd / 4:
        kept.remove(rng.choice(kept))  # a required column left out, now and then
    parts = [f"{name}:{fields[name]}" for name in kept]
    if rng.random() < odd / 4:
        parts.append(rng.choice(['"colour":"red"', '"user_id":5', '"user\\u005fid":6', '"amount":null']))  # unknown, repeated, escaped
    return "{" + ",".join(parts) + "}"


def _body(rng: random.Random) -> bytes:
    odd = rng.choice([0.0, 0.0, 0.0, 0.003, 0.05])
    rows = ",".join(_row(rng, odd) for _ in range(rng.choice([1, 3, 20])))
    tail = rng.choice(['', '', ',"to":"online"', ',"to":"online_and_offline"', ',"to":"everywhere"', ',"to":1', ',"df":{}', ',"x":1'])
    if rng.random() < 0.02:
        return rng.choice([b'{"rows":[]}', b'{"rows":{}}', b"[]", b'{"rows":[null]}', b'{"rows":[' + rows.encode() + b"]",
                           b'{"rows":[' + rows.encode() + b"]} trailing"])
    return ('{"rows":[' + rows + "]" + tail + "}").encode()


def _kept(columns: dict[str, list[Any]]) -> dict[str, list[tuple[str, str]]]:
    """The values with their types and exact reprs (1 == 1.0 == True and 0.0 == -0.0 in Python)."""
    return {name: [(type(v).__name__, repr(v)) for v in values] for name, values in columns.items()}


def _general(pusher: Pusher, body: bytes) -> tuple[str, Any]:
    """What the general way makes of a body: its columns and `to`, or its refusal."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "refused", "malformed JSON"
    if pusher.exact_numbers("clicks"):  # as serving reads a view's pushes that has DECIMAL columns
        payload = json.loads(body, parse_float=Decimal)
    if not isinstance(payload, dict) or set(payload) - {"rows", "to"} or "rows" not in payload:
        return "refused", "not the plain form"
    try:
        to = payload.get("to", "online")
        return "kept", (_kept(pusher.view("clicks").validate(payload["rows"])), to)
    except UsageError as err:
        return "refused", err.message


@pytest.fixture
def pusher(make_project: ProjectFactory) -> Pusher:
    project = Project.load(make_project({"models/sources.yml": SOURCES}))
    return Pusher(project.definition, None, None)  # type: ignore[arg-type] # decoding never touches the store


@pytest.mark.parametrize("seed", SEEDS)
def test_one_pass_decoding_keeps_what_the_general_way_keeps(pusher: Pusher, seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {"one pass": 0, "handed back, kept": 0, "handed back, refused": 0}
    for _ in range(1500):
        body = _body(rng)
        general = _general(pusher, body)
        decoded = pusher.decode("clicks", body)
        if decoded is None:
            outcomes["handed back, " + general[0]] += 1
            continue
        _, columns, to = decoded
        assert general == ("kept", (_kept(columns), to)), body
        outcomes["one pass"] += 1
    # the bodies reach every way: most in one pass, odd ones handed back both kept and refused
    assert outcomes["one pass"] > 700 and outcomes["handed back, kept"] > 10 and outcomes["handed back, refused"] > 100, outcomes


def test_one_pass_decoding_refuses_what_no_float_holds(pusher: Pusher) -> None:
    body = b'{"rows":[{"user_id":1,"event_ts":"2026-01-01T10:00:00","amount":1e400}]}'
    assert pusher.decode("clicks", body) is None
    decoded = pusher.decode("clicks", body.replace(b"1e400", b"1e308"))
    assert decoded is not None and math.isclose(decoded[1]["amount"][0], 1e308)


def test_an_unknown_view_is_handed_back(pusher: Pusher, tmp_path: Path) -> None:
    assert pusher.decode("nope", b'{"rows":[{"user_id":1,"event_ts":"2026-01-01T10:00:00"}]}') is None


def test_a_decimal_is_read_digit_for_digit(pusher: Pusher) -> None:
    """A float would read 0.1000000000000000055511151231257827 as 0.1, which fits DECIMAL(8, 2)."""
    row = '{"user_id":1,"event_ts":"2026-01-01T10:00:00","seen":%s}'
    decoded = pusher.decode("clicks", ('{"rows":[' + row % "123456.78" + "]}").encode())
    assert decoded is not None and decoded[1]["seen"] == [Decimal("123456.78")]
    long = ('{"rows":[' + row % "0.1000000000000000055511151231257827" + "]}").encode()
    assert pusher.decode("clicks", long) is None
    assert _general(pusher, long) == ("refused", "row 0: 'seen' 0.1000000000000000055511151231257827 does not fit DECIMAL(8, 2)")
