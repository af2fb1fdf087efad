"""Debezium change events on a real broker, applied to a mirror in the target: a
seeded random history of snapshot reads, inserts, updates, deletes (some without
`before`), tombstones and a truncate, in both envelope shapes, against a
brute-force replay; and a consumer killed at random moments leaves the same mirror."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from tests.conftest import ProjectFactory, fduck
from tests.debezium_events import decimal_bytes, with_schema
from tests.kafka_broker import create_topic, produce

SOURCES = """
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP') }}}}"}}
    tables:
      - name: users
        topic: {topic}
        format: debezium
        key: [id]
        columns: {{id: bigint, name: varchar, score: double, seen_at: timestamp}}
"""
PARTITIONS = 3
EPOCH_US = 1_767_225_600_000_000  # 2026-01-01 in microseconds: Debezium's MicroTimestamp
UNAVAILABLE = "__debezium_unavailable_value"


class History:
    """A random sequence of changes to a users table, and the table it leaves."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.table: dict[int, dict[str, Any]] = {}
        self.lsn = 1000
        self.messages: list[tuple[int, bytes, bytes | None]] = []

    def _row(self, key: int) -> dict[str, Any]:
        return {"id": key, "name": self.rng.choice(["ann", "bo", "çé", None]), "score": self.rng.choice([None, 1.5, -2.0, 10.0]),
                "seen_at": EPOCH_US + self.rng.randrange(10**9)}

    def _send(self, key: int, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None, schemas: bool) -> None:
        self.lsn += 1
        event = {"op": op, "before": before, "after": after, "source": {"lsn": self.lsn, "ts_ms": 1767225600000 + self.lsn},
                 "ts_ms": 1767225600000 + self.lsn}
        value = {"schema": {"type": "struct"}, "payload": event} if schemas else event
        message_key = orjson.dumps({"payload": {"id": key}} if schemas else {"id": key})
        self.messages.append((key % PARTITIONS, message_key, orjson.dumps(value)))

    def snapshot(self, rows: int) -> None:
        for key in range(rows):
            self.table[key] = self._row(key)
            self._send(key, "r", None, self.table[key], self.rng.random() < 0.5)

    def changes(self, count: int) -> None:
        for _ in range(count):
            key = self.rng.randrange(int(len(self.table) * 1.5) + 5)
            schemas = self.rng.random() < 0.5
            if key in self.table and self.rng.random() < 0.3:
                before = {"id": key} if self.rng.random() < 0.5 else None  # default replica identity: the key, or nothing
                self._send(key, "d", before, None, schemas)
                del self.table[key]
                if self.rng.random() < 0.7:  # Debezium's tombstone after a delete
                    self.messages.append((key % PARTITIONS, orjson.dumps({"id": key}), None))
            elif key in self.table:
                old = self.table[key]
                self.table[key] = self._row(key)
                after = self.table[key]
                if self.rng.random() < 0.3:  # an unchanged TOAST value: Debezium's placeholder, the value kept
                    after = {**after, "name": UNAVAILABLE}
                    self.table[key]["name"] = old["name"]
                self._send(key, "u", old, after, schemas)
            else:
                self.table[key] = self._row(key)
                self._send(key, "c", None, self.table[key], schemas)

    def expected(self) -> list[tuple[Any, ...]]:
        import datetime

        epoch = datetime.datetime(1970, 1, 1)
        return sorted((k, r["name"], r["score"], epoch + datetime.timedelta(microseconds=r["seen_at"])) for k, r in self.table.items())


def _mirror(root: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return con.execute("select id, name, score, seen_at from app.users order by id").fetchall()


@pytest.fixture
def project(make_project: ProjectFactory, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    topic = f"dbz.{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, topic, PARTITIONS)
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    return make_project({"models/sources.yml": SOURCES.format(topic=topic)}), topic


@pytest.mark.slow
def test_changes_leave_the_mirror_the_table_is(project: tuple[Path, str], kafka_bootstrap: str) -> None:
    root, topic = project
    history = History(7)
    history.snapshot(300)
    history.changes(2000)
    produce(kafka_bootstrap, topic, history.messages)
    result = fduck("stream", "--until-idle", "2", cwd=root)
    assert result.returncode == 0, result.stderr
    assert _mirror(root) == history.expected()
    assert "dead letter" not in result.stdout, result.stdout  # tombstones are no changes, not malformed ones

    # a truncate empties the mirror before the changes after it; a malformed change is a dead letter, and so is
    # an update that leaves a value unchanged of a row the mirror does not hold (the value is unknown)
    sent = len(history.messages)
    history._send(0, "t", None, None, False)
    history.table.clear()
    history.changes(200)
    history._send(10**6, "u", None, {"id": 10**6, "name": UNAVAILABLE, "score": 1.0, "seen_at": EPOCH_US}, False)
    produce(kafka_bootstrap, topic, history.messages[sent:] + [(0, b"k", b'{"op": "x", "after": {"id": 1}}'),
                                                               (1, b"k", b'{"op": "u", "after": {"name": "no key"}}')])
    again = fduck("stream", "--until-idle", "2", cwd=root)
    assert again.returncode == 0, again.stderr
    assert _mirror(root) == history.expected()
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        errors = [e for (e,) in con.execute("select error from app.users__dead_letters order by _kafka_offset").fetchall()]
        ops = dict(con.execute("select _cdc_op, count(*) from app.users group by 1").fetchall())
    assert sorted(errors) == [
        "an update that leaves name as it was (an unchanged TOAST value), of a row the mirror does not hold: the value is "
        "unknown, so the change is not applied",
        "key column 'id' is missing or null", "not a change: no known op"]
    assert "3 dead letters" in again.stdout, again.stdout
    assert set(ops) <= {"c", "u", "r"}


@pytest.mark.slow
def test_a_killed_consumer_leaves_the_same_mirror(project: tuple[Path, str], kafka_bootstrap: str) -> None:
    root, topic = project
    history = History(11)
    history.snapshot(5000)
    rng = random.Random(3)
    sent = 0
    for _ in range(4):
        history.changes(rng.randrange(10_000, 30_000))
        produce(kafka_bootstrap, topic, history.messages[sent:])
        sent = len(history.messages)
        consumer = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "stream"], cwd=root, env={**os.environ},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 3.5))
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
    final = fduck("stream", "--until-idle", "3", cwd=root)
    assert final.returncode == 0, final.stderr
    assert _mirror(root) == history.expected()


def _event(op: str, key: int, lsn: int, name: str | None = None, partition: int | None = None) -> tuple[int, bytes | None, bytes]:
    """One Debezium event in its key's partition (a truncate, keyless, in `partition`)."""
    row = None if op in ("d", "t") else {"id": key, "name": name, "score": 1.0, "seen_at": EPOCH_US}
    event = {"op": op, "before": {"id": key} if op == "d" else None, "after": row,
             "source": {"lsn": lsn, "ts_ms": 1767225600000 + lsn}, "ts_ms": 1767225600000 + lsn}
    if op == "t":
        return partition or 0, None, orjson.dumps(event)
    return key % PARTITIONS, orjson.dumps({"id": key}), orjson.dumps(event)


@pytest.mark.slow
def test_a_truncate_is_placed_among_the_other_partitions_changes_by_lsn(project: tuple[Path, str], kafka_bootstrap: str) -> None:
    """Debezium orders a truncate only within its partition: the other partitions' changes
    made after it may come first, and those made before it later, in this batch or a later one."""
    root, topic = project

    def names() -> list[tuple[int, str]]:
        with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
            return con.execute("select id, name from app.users order by id").fetchall()

    def stream(messages: list[tuple[int, bytes | None, bytes]]) -> None:
        produce(kafka_bootstrap, topic, messages)
        result = fduck("stream", "--until-idle", "2", cwd=root)
        assert result.returncode == 0, result.stderr

    # keys 0 to 5 in every partition, then key 1 made again after the truncate (LSN 100) that has not come yet
    stream([_event("c", k, 10 + k, f"before {k}") for k in range(6)] + [_event("c", 7, 101, "after 7")])
    assert names() == [*((k, f"before {k}") for k in range(6)), (7, "after 7")]
    # the truncate, a change of partition 2 made before it that comes late, and one of partition 0 made after it
    stream([_event("t", 0, 100, partition=0), _event("u", 2, 50, "late 2"), _event("c", 3, 102, "after 3")])
    assert names() == [(3, "after 3"), (7, "after 7")]
    stream([_event("u", 5, 60, "late 5"), _event("d", 3, 40)])  # later still, in a run of their own
    assert names() == [(3, "after 3"), (7, "after 7")]


@pytest.mark.slow
def test_typed_values_with_schemas_land_as_their_columns_types(make_project: ProjectFactory, kafka_bootstrap: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Kafka Connect's default JSON converter writes schemas: a DECIMAL as base64 bytes at
    the schema's scale, a timestamp(3) as milliseconds, both read as what they are."""
    import datetime
    from decimal import Decimal

    topic = f"dbz.{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, topic, 1)
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    columns = "{id: bigint, price: 'decimal(38, 4)', amount: 'decimal(20, 6)', at_ms: timestamp, at_us: timestamp, " \
              "at_ns: timestamp, day: date, at_time: time}"
    root = make_project({"models/sources.yml": SOURCES.format(topic=topic).replace("users", "orders").replace(
        "{id: bigint, name: varchar, score: double, seen_at: timestamp}", columns)})
    rng = random.Random(5)
    rows, expected = [], []
    for key in range(200):
        price, amount, millis = rng.randrange(-(10**30), 10**30), rng.randrange(-(10**9), 10**9), rng.randrange(10**12, 2 * 10**12)
        rows.append({"id": key, "price": decimal_bytes(price), "amount": {"scale": 3, "value": decimal_bytes(amount)},
                     "at_ms": millis, "at_us": millis * 1000, "at_ns": millis * 10**6, "day": millis // 86_400_000,
                     "at_time": 3_600_000_000})
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=millis)
        expected.append((key, Decimal(f"{price}E-4"), Decimal(f"{amount}E-3"), moment, moment, moment, moment.date(),
                         datetime.time(1)))
    produce(kafka_bootstrap, topic, [(0, orjson.dumps({"id": r["id"]}), orjson.dumps(with_schema(r, "r"))) for r in rows])
    result = fduck("stream", "--until-idle", "2", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "dead letter" not in result.stdout, result.stdout
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        landed = con.execute("select id, price, amount, at_ms, at_us, at_ns, day, at_time from app.orders order by id").fetchall()
    assert landed == expected
