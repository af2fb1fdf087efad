"""Avro messages on a real broker: read with the table's .avsc, and in Confluent's
framing with the schema the registry holds for their id (the registry's one route,
`GET /schemas/ids/{id}`, served over loopback); what cannot be read is a dead letter."""

from __future__ import annotations

import datetime
import io
import json
import random
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import fastavro
import pytest

from tests.conftest import ProjectFactory, fduck
from tests.kafka_broker import create_topic, produce

SCHEMA = {
    "type": "record", "name": "Event", "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "event_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "amount", "type": "double"},
        {"name": "country", "type": ["null", "string"], "default": None},
    ],
}
SOURCES = """
sources:
  - name: clicks
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP') }}}}"}}
    tables:
      - name: events                   # plain Avro of the .avsc
        topic: {topic}
        format: avro
        avro_schema: schemas/event.avsc
        key: [user_id]
        timestamp_field: event_ts
        columns: {{user_id: bigint, event_ts: timestamp, amount: double, country: varchar}}
      - name: framed                   # Confluent's framing: the writer schema from the registry, resolved to the .avsc
        topic: {topic}.framed
        format: avro
        avro_schema: schemas/reader.avsc
        schema_registry: "{{{{ env_var('SCHEMA_REGISTRY_URL') }}}}"
        key: [user_id]
        timestamp_field: event_ts
        columns: {{user_id: bigint, event_ts: timestamp, amount: double, country: varchar, plan: varchar}}
"""
# the reader's schema has a field the writers' lacks, with its default
READER = {**SCHEMA, "fields": [*SCHEMA["fields"], {"name": "plan", "type": "string", "default": "free"}]}


@pytest.fixture
def registry() -> Iterator[str]:
    """The registry's route for a writer schema by id: id 7 is SCHEMA, others unknown."""

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/schemas/ids/7":
                body = json.dumps({"schema": json.dumps(SCHEMA)}).encode()
                self.send_response(200)
            else:
                body = b'{"error_code": 40403, "message": "Schema not found"}'
                self.send_response(404)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _avro(record: dict[str, object], framed_id: int | None = None) -> bytes:
    out = io.BytesIO()
    if framed_id is not None:
        out.write(b"\x00" + framed_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(out, fastavro.parse_schema(SCHEMA), record)
    return out.getvalue()


@pytest.mark.slow
def test_avro_messages_land_typed_with_their_writer_schema(make_project: ProjectFactory, kafka_bootstrap: str, registry: str) -> None:
    topic = f"avro.{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, topic, 2)
    create_topic(kafka_bootstrap, topic + ".framed", 2)
    root = make_project({"models/sources.yml": SOURCES.format(topic=topic), "schemas/event.avsc": json.dumps(SCHEMA),
                         "schemas/reader.avsc": json.dumps(READER)})
    rng = random.Random(3)
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    records = [{"user_id": rng.randrange(100), "event_ts": base + datetime.timedelta(milliseconds=rng.randrange(10**8)),
                "amount": rng.uniform(0, 9), "country": rng.choice([None, "de", "ü"])} for _ in range(1000)]
    produce(kafka_bootstrap, topic, [(i % 2, None, _avro(r)) for i, r in enumerate(records)] + [(1, None, b"\xff\xfe not avro")])
    produce(kafka_bootstrap, topic + ".framed", [(i % 2, None, _avro(r, 7)) for i, r in enumerate(records[:300])]
            + [(0, None, _avro(records[0], 99)), (1, None, _avro(records[0]))])
    result = fduck("stream", "--until-idle", "2", cwd=root, env={"KAFKA_BOOTSTRAP": kafka_bootstrap, "SCHEMA_REGISTRY_URL": registry})
    assert result.returncode == 0, result.stderr
    assert "clicks.events: 1,000 rows landed" in result.stdout and "1 dead letter " in result.stdout, result.stdout
    assert "clicks.framed: 300 rows landed" in result.stdout and "2 dead letters" in result.stdout, result.stdout
    expected = [(r["user_id"], r["event_ts"].replace(tzinfo=None), r["amount"], r["country"]) for r in records]  # type: ignore[attr-defined]
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        assert sorted(con.execute("select user_id, event_ts, amount, country from clicks.events").fetchall(), key=repr) == sorted(
            expected, key=repr)
        framed = con.execute("select user_id, event_ts, amount, country, plan from clicks.framed").fetchall()
        errors = sorted(e for (e,) in con.execute("select error from clicks.events__dead_letters union all "
                                                  "select error from clicks.framed__dead_letters").fetchall())
    assert sorted(framed, key=repr) == sorted([(*e, "free") for e in expected[:300]], key=repr)
    assert errors[0].startswith("not Avro of its schema") and errors[1:] == [
        "not in Confluent's framing (a zero byte, then the schema id), which a schema_registry reads",
        "schema id 99 is not in the registry"]


def test_avro_needs_its_schema(make_project: ProjectFactory) -> None:
    text = SOURCES.format(topic="t").replace("        avro_schema: schemas/event.avsc\n", "")
    result = fduck("compile", cwd=make_project({"models/sources.yml": text}))
    assert result.returncode != 0 and "reads Avro messages: give their schema" in result.stderr
    missing = SOURCES.format(topic="t")
    result = fduck("compile", cwd=make_project({"models/sources.yml": missing}, name="other"))
    assert "avro_schema schemas/event.avsc is not a file" in result.stderr


TYPED_SCHEMA = {
    "type": "record", "name": "Typed", "fields": [
        {"name": "id", "type": "long"},
        {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 30, "scale": 6}]},
        {"name": "data", "type": ["null", "bytes"]},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "of_day", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "names", "type": {"type": "array", "items": ["null", "string"]}},
        {"name": "ratio", "type": "double"},
        {"name": "flag", "type": "boolean"},
    ],
}


@pytest.mark.slow
def test_avro_logical_types_land_as_their_columns(make_project: ProjectFactory, kafka_bootstrap: str) -> None:
    """Every value as Avro wrote it: decimals of every digit, bytes, dates, times and
    microsecond timestamps, UUIDs, arrays with any text, and a double's NaN and infinities."""
    from decimal import Decimal

    topic = f"avro.{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, topic, 1)
    sources = f"""
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP') }}}}"}}
    tables:
      - name: typed
        topic: {topic}
        format: avro
        avro_schema: schemas/typed.avsc
        key: [id]
        columns: {{id: bigint, amount: "decimal(30, 6)", data: blob, digest: blob, day: date, of_day: time, "at": timestamp,
                   uid: uuid, names: "varchar[]", ratio: double, flag: boolean}}
"""
    root = make_project({"models/sources.yml": sources, "schemas/typed.avsc": json.dumps(TYPED_SCHEMA)})
    rng = random.Random(8)
    parsed = fastavro.parse_schema(TYPED_SCHEMA)
    records = []
    for key in range(300):
        records.append({
            "id": key, "amount": rng.choice([None, Decimal(f"{rng.randrange(-10**23, 10**23)}.{rng.randrange(10**6):06d}")]),
            "data": rng.choice([None, b"", rng.randbytes(7)]), "digest": rng.randbytes(4),
            "day": datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(-9000, 9000)),
            "of_day": datetime.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)),
            "at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=rng.randrange(-10**15, 10**15)),
            "uid": str(uuid.UUID(int=rng.getrandbits(128))), "names": rng.choice([[], ["a\nb", 'q"', "it's", None, "é"]]),
            "ratio": rng.choice([0.5, -1e300, float("inf"), float("-inf"), float("nan")]), "flag": rng.random() < 0.5})

    def encoded(record: dict[str, object]) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, record)
        return out.getvalue()

    produce(kafka_bootstrap, topic, [(0, None, encoded(r)) for r in records])
    result = fduck("stream", "--until-idle", "2", cwd=root, env={"KAFKA_BOOTSTRAP": kafka_bootstrap})
    assert result.returncode == 0, result.stderr
    assert "dead letter" not in result.stdout, result.stdout
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        landed = con.execute('select id, amount, data, digest, day, of_day, "at", uid::varchar, names, ratio::varchar, flag '
                             "from app.typed order by id").fetchall()
    assert landed == [(r["id"], r["amount"], r["data"], r["digest"], r["day"], r["of_day"], r["at"].replace(tzinfo=None),  # type: ignore[attr-defined]
                       r["uid"], r["names"], {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(r["ratio"]), str(r["ratio"])),
                       r["flag"]) for r in records]
