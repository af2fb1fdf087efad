"""`fduck stream` on a real broker (tansu on loopback) and real targets: every message
lands exactly once, malformed ones in the dead-letter table, stream feature views
online with the newest event per entity, and a consumer killed at random moments
resumes without losing or repeating a message."""

from __future__ import annotations

import datetime
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pytest

from featureduck.api import Project
from tests.conftest import ProjectFactory, fduck, pg_profile
from tests.kafka_broker import create_topic, produce


def _source(name: str, topic: str, columns: str) -> str:
    """A Kafka source of one JSON table of events keyed by user, stamped by `event_ts`."""
    return f"""
sources:
  - name: {name}
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP') }}}}"}}
    tables:
      - name: events
        topic: {topic}
        format: json
        key: [user_id]
        timestamp_field: event_ts
        columns: {{user_id: bigint, event_ts: timestamp, {columns}}}
"""


CLICKS_VIEW = """entities:
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
      - {name: country, dtype: varchar}
"""


def _clicks(topic: str) -> str:
    """The `clicks` source and its stream feature view."""
    return _source("clicks", topic, "amount: double, country: varchar") + CLICKS_VIEW


# an incremental model over the landing table: `fduck run` builds from a stream source as from any other
TOTALS = """{{ config(materialized='incremental', unique_key='user_id') }}
select user_id, count(*) as events, sum(amount) as amount from {{ source('clicks', 'events') }}
group by user_id
"""
BASE = datetime.datetime(2026, 1, 1)


def _event(rng: random.Random, users: int) -> dict[str, object]:
    """An event whose time is random within an hour, so later messages are often older (late events)."""
    return {"user_id": rng.randrange(users), "event_ts": (BASE + datetime.timedelta(seconds=rng.randrange(3600))).isoformat(),
            "amount": round(rng.uniform(0, 100), 2), "country": rng.choice(["de", "fr", "ü-land"])}


def _messages(events: list[dict[str, object]], partitions: int) -> Iterator[tuple[int, bytes, bytes]]:
    for event in events:
        key = str(event["user_id"]).encode()
        yield int(event["user_id"]) % partitions, key, orjson.dumps(event)  # type: ignore[call-overload]


def _newest(events: list[dict[str, object]]) -> dict[int, tuple[str, float, str]]:
    """Brute force: per user, the latest event time, ties broken by the greatest (amount, country)."""
    best: dict[int, tuple[str, float, str]] = {}
    for e in events:
        candidate = (str(e["event_ts"]), float(e["amount"]), str(e["country"]))  # type: ignore[arg-type]
        user = int(e["user_id"])  # type: ignore[call-overload]
        if user not in best or candidate > best[user]:
            best[user] = candidate
    return best


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = f"clicks.{uuid.uuid4().hex[:8]}"
    create_topic(kafka_bootstrap, name, 3)
    return name


@pytest.fixture
def project(make_project: ProjectFactory, topic: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    return make_project({"models/sources.yml": _clicks(topic), "models/totals.sql": TOTALS})


def _landed(root: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return con.execute("select _kafka_partition, _kafka_offset, user_id, cast(event_ts as varchar), amount, country "
                           "from clicks.events order by 1, 2").fetchall()


def _online(root: Path, users: list[int]) -> dict[int, tuple[str, float, str]]:
    found = {}
    for row in Project.load(root).get_online_features("clicks", [{"user_id": u} for u in users]):
        if row["feature_ts"] is not None:
            found[row["entity"]["user_id"]] = (row["feature_ts"].replace(" ", "T"), row["features"]["amount"],
                                               row["features"]["country"])
    return found


@pytest.mark.slow
def test_every_message_lands_once_and_malformed_ones_are_dead_letters(project: Path, topic: str, kafka_bootstrap: str) -> None:
    rng = random.Random(19)
    events = [_event(rng, 50) for _ in range(3000)]
    produce(kafka_bootstrap, topic, _messages(events, 3))
    bad = [b"not json", b'{"user_id": 1.5, "amount": 1}', b'{"amount": 2}', b'{"user_id": 4, "amount": "lots"}',
           b"\xff\xfe", b"[1, 2]", None, b'{"user_id": 5, "event_ts": "yesterday"}']
    produce(kafka_bootstrap, topic, ((0, b"k", value) for value in bad))

    result = fduck("stream", "--until-idle", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "clicks.events: 3,000 rows landed in clicks.events, 8 dead letters in clicks.events__dead_letters" in result.stdout

    landed = _landed(project)
    assert len(landed) == 3000 and len({(p, o) for p, o, *_ in landed}) == 3000
    assert sorted((u, ts, a, c) for _, _, u, ts, a, c in landed) == sorted(
        (e["user_id"], str(e["event_ts"]).replace("T", " "), e["amount"], e["country"]) for e in events)
    with duckdb.connect(str(project / "target/dev.duckdb"), read_only=True) as con:
        dead = con.execute("select _kafka_partition, message, error from clicks.events__dead_letters order by _kafka_offset").fetchall()
    assert [error for _, _, error in dead] == [
        "not JSON", "column 'user_id': 1.5 is not a BIGINT", "key column 'user_id' is missing or null",
        "column 'amount': lots is not a DOUBLE", "not UTF-8 text", "not a JSON object", "an empty message (a tombstone)",
        "column 'event_ts': yesterday is not a TIMESTAMP",
    ]
    assert {p for p, _, _ in dead} == {0} and dead[4][1] == "\\xFF\\xFE"

    # resumed: only what was produced since lands, and `fduck run` builds from the landing table
    more = [_event(rng, 50) for _ in range(500)]
    produce(kafka_bootstrap, topic, _messages(more, 3))
    again = fduck("stream", "-s", "clicks", "--until-idle", "2", cwd=project)
    assert "500 rows landed" in again.stdout, again.stdout + again.stderr
    assert len(_landed(project)) == 3500
    assert fduck("run", cwd=project).returncode == 0
    with duckdb.connect(str(project / "target/dev.duckdb"), read_only=True) as con:
        assert con.execute("select sum(events) from main.totals").fetchone() == (3500,)

    # the online store holds the newest event per user, as `materialize --full` of the landing table does
    newest = _newest(events + more)
    assert _online(project, list(newest)) == newest
    assert fduck("materialize", "--full", cwd=project).returncode == 0
    assert _online(project, list(newest)) == newest

    runs = fduck("runs", cwd=project)
    assert "clicks.events" in runs.stdout and "500" in runs.stdout, runs.stdout

    # --reset: the landing tables emptied and every message read again, once
    reset = fduck("stream", "--reset", "--until-idle", "2", cwd=project)
    assert "3,500 rows landed" in reset.stdout and "8 dead letters" in reset.stdout, reset.stdout + reset.stderr
    assert len(_landed(project)) == 3500


@pytest.mark.slow
def test_a_consumer_killed_at_random_moments_loses_and_repeats_nothing(project: Path, topic: str, kafka_bootstrap: str) -> None:
    rng = random.Random(1919)
    events: list[dict[str, object]] = []
    env = {**os.environ, "COLUMNS": "200"}
    for _ in range(5):
        chunk = [_event(rng, 200) for _ in range(rng.randrange(5000, 40000))]
        events += chunk
        produce(kafka_bootstrap, topic, _messages(chunk, 3))
        consumer = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "stream"], cwd=project, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(1.0, 4.0))  # opening takes about a second: some kills land mid-batch, some after
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
    final = fduck("stream", "--until-idle", "3", cwd=project)
    assert final.returncode == 0, final.stderr
    landed = _landed(project)
    assert len(landed) == len(events) and len({(p, o) for p, o, *_ in landed}) == len(events)
    assert sorted((u, a) for _, _, u, _, a, _ in landed) == sorted((e["user_id"], e["amount"]) for e in events)
    newest = _newest(events)
    assert _online(project, list(newest)) == newest


@pytest.mark.postgres
@pytest.mark.slow
def test_a_batch_still_being_decoded_is_no_idleness(project: Path, topic: str, kafka_bootstrap: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On a slow machine a batch can take longer to decode than `--until-idle`: the stream
    waits for it rather than stop with it read and not landed (here each decode is made
    to take a second)."""
    import featureduck.streams.consume as consume

    events = [_event(random.Random(7), 50) for _ in range(500)]
    produce(kafka_bootstrap, topic, _messages(events, 3))
    decode = consume._decode

    def slow(decoder: duckdb.DuckDBPyConnection, source: object, raw: object) -> object:
        if raw.num_rows:  # type: ignore[attr-defined]
            time.sleep(1.0)
        return decode(decoder, source, raw)  # type: ignore[arg-type]

    monkeypatch.setattr(consume, "_decode", slow)
    done = Project.load(project).stream(until_idle=0.3)
    assert sum(d.landed for d in done) == 500 and len(_landed(project)) == 500


@pytest.mark.slow
def test_batches_read_while_the_loop_commits_are_joined(project: Path, topic: str, kafka_bootstrap: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """While the loop commits a batch, the batches read meanwhile are decoded and joined
    into the one it lands next: every message once, in fewer commits, the newest value
    per user online (here the first commit takes over a second while three bursts arrive:
    one batch waits for the loop, the rest join it)."""
    import featureduck.streams.consume as consume

    rng = random.Random(12)
    events = [_event(rng, 40) for _ in range(400)]
    record, commits = consume.record_offsets, []

    def slow_first(*args: object, **kwargs: object) -> object:
        commits.append(len(commits))
        if len(commits) == 1:
            for burst in range(1, 4):
                produce(kafka_bootstrap, topic, _messages(events[burst * 100:(burst + 1) * 100], 3))
                time.sleep(0.4)
        return record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(consume, "record_offsets", slow_first)
    produce(kafka_bootstrap, topic, _messages(events[:100], 3))
    done = Project.load(project).stream(until_idle=0.5)
    landed = _landed(project)
    assert len(landed) == 400 and len({(p, o) for p, o, *_ in landed}) == 400
    assert done[0].batches == 3 and len(commits) == 3
    assert _online(project, list(_newest(events))) == _newest(events)


def test_streaming_leaves_the_collector_as_it_found_it(project: Path, topic: str, kafka_bootstrap: str) -> None:
    """The stream freezes the objects it starts with (so each batch's collections skip
    them), unfreezes them after, and leaves what its caller froze frozen."""
    import gc

    produce(kafka_bootstrap, topic, _messages([_event(random.Random(8), 50) for _ in range(100)], 3))
    assert gc.get_freeze_count() == 0
    Project.load(project).stream(until_idle=0.3)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        produce(kafka_bootstrap, topic, _messages([_event(random.Random(9), 50) for _ in range(100)], 3))
        assert sum(d.landed for d in Project.load(project).stream(until_idle=0.3)) == 100
        assert gc.get_freeze_count() > 0  # still frozen (a frozen object that dies leaves the count: no exact figure)
    finally:
        gc.unfreeze()


def test_a_postgres_target_lands_the_stream(project: Path, topic: str, kafka_bootstrap: str, pg_schema: str) -> None:
    import psycopg

    (project / "profiles.yml").write_text(pg_profile(pg_schema))
    sources = project / "models/sources.yml"  # the landing schema under the test schema's name, dropped with it
    sources.write_text(sources.read_text().replace("    type: kafka\n", f"    type: kafka\n    schema: {pg_schema}_clicks\n"))
    rng = random.Random(7)
    events = [_event(rng, 30) for _ in range(2000)]
    produce(kafka_bootstrap, topic, _messages(events, 3))
    produce(kafka_bootstrap, topic, [(1, b"k", b"{broken")])
    result = fduck("stream", "--target", "pg", "--until-idle", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "2,000 rows landed" in result.stdout and "1 dead letter" in result.stdout
    with psycopg.connect(os.environ.get("FDUCK_TEST_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres")) as con:
        count, distinct = con.execute(f"select count(*), count(distinct (_kafka_partition, _kafka_offset)) "
                                      f"from {pg_schema}_clicks.events").fetchone()
        offsets = con.execute(f"select partition, next_offset from {pg_schema}_featureduck.stream_offsets order by 1").fetchall()
    assert (count, distinct) == (2000, 2000)
    per_partition = [sum(1 for e in events if int(e["user_id"]) % 3 == p) for p in range(3)]  # type: ignore[call-overload]
    assert offsets == [(0, per_partition[0]), (1, per_partition[1] + 1), (2, per_partition[2])]
    newest = _newest(events)
    assert _online(project, list(newest)) == newest


def test_a_topic_the_broker_lacks_is_an_error_naming_the_source(make_project: ProjectFactory, kafka_bootstrap: str) -> None:
    root = make_project({"models/sources.yml": _clicks("no.such.topic")})
    result = fduck("stream", "--until-idle", "1", cwd=root, env={"KAFKA_BOOTSTRAP": kafka_bootstrap})
    assert result.returncode != 0
    assert "topic 'no.such.topic' does not exist on the broker" in result.stderr and "sources.yml" in result.stderr


@pytest.mark.slow
def test_serve_answers_what_the_running_stream_wrote_seconds_ago(project: Path, topic: str, kafka_bootstrap: str) -> None:
    import urllib.request

    from tests.integration.online.test_serving import _request, _server

    consumer = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "stream"], cwd=project, env={**os.environ},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with _server(project) as base:
            for amount in (1.0, 2.0, 3.0):
                stamp = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat()
                event = {"user_id": 77, "event_ts": stamp, "amount": amount, "country": "de"}
                produced = time.monotonic()
                produce(kafka_bootstrap, topic, _messages([event], 3))
                while True:
                    status, answer = _request(base + "/features/clicks/77")
                    if status == 200 and answer["features"]["amount"] == amount:
                        break
                    assert time.monotonic() - produced < 15, answer
                    time.sleep(0.05)
            deadline = time.monotonic() + 10  # the stream reports every second
            while True:
                with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
                    metrics = response.read().decode()
                if 'fduck_stream_offset{partition="2",source="clicks.events"} 3.0' in metrics or time.monotonic() > deadline:
                    break  # 77 % 3 == 2: the three messages are in partition 2
                time.sleep(0.2)
            assert 'fduck_stream_offset{partition="2",source="clicks.events"} 3.0' in metrics, metrics
            assert 'fduck_stream_lag{partition="2",source="clicks.events"} 0.0' in metrics
            assert "fduck_stream_running 1.0" in metrics
        consumer.send_signal(signal.SIGTERM)  # ends after the batch in hand, and says what it did
        out, err = consumer.communicate(timeout=30)
        assert consumer.returncode == 0, err
        assert "clicks.events: 3 rows landed" in out, out
    finally:
        if consumer.poll() is None:
            consumer.kill()


PROJECTED = """
feature_views:
  - name: doubled
    entity: user
    model: clicks_doubled
    timestamp_field: event_ts
    stream: true
    online: true
    features:
      - {name: doubled, dtype: double}
"""
# a row-wise projection of the stream source: what the stream runs on each batch
DOUBLED = """{{ config(materialized='view') }}
select user_id, event_ts, amount * 2 as doubled from {{ source('clicks', 'events') }} where country <> 'fr'
"""


@pytest.mark.slow
def test_a_view_over_a_projection_of_the_stream_is_kept_online(project: Path, topic: str, kafka_bootstrap: str) -> None:
    (project / "models/projected.yml").write_text(PROJECTED)
    (project / "models/clicks_doubled.sql").write_text(DOUBLED)
    rng = random.Random(23)
    events = [_event(rng, 40) for _ in range(4000)]
    produce(kafka_bootstrap, topic, _messages(events, 3))
    result = fduck("stream", "--until-idle", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    kept = [e for e in events if e["country"] != "fr"]
    newest: dict[int, tuple[str, float]] = {}
    for e in kept:
        rank = (str(e["event_ts"]), float(e["amount"]) * 2)  # type: ignore[arg-type]
        user = int(e["user_id"])  # type: ignore[call-overload]
        if user not in newest or rank > newest[user]:
            newest[user] = rank

    def online() -> dict[int, tuple[str, float]]:
        rows = Project.load(project).get_online_features("doubled", [{"user_id": u} for u in newest])
        return {r["entity"]["user_id"]: (r["feature_ts"].replace(" ", "T"), r["features"]["doubled"]) for r in rows}

    assert online() == newest
    assert fduck("run", cwd=project).returncode == 0
    assert fduck("materialize", "--full", "-s", "doubled", cwd=project).returncode == 0
    assert online() == newest


def test_a_stream_view_over_a_model_that_is_not_row_wise_is_refused(make_project: ProjectFactory, topic: str) -> None:
    grouped = "select user_id, max(event_ts) as event_ts, sum(amount) as doubled from {{ source('clicks', 'events') }} group by 1"
    root = make_project({"models/sources.yml": _clicks(topic), "models/projected.yml": PROJECTED,
                         "models/clicks_doubled.sql": grouped})
    result = fduck("compile", cwd=root, env={"KAFKA_BOOTSTRAP": "localhost:1"})
    assert result.returncode != 0
    assert "is `stream: true` over model 'clicks_doubled', which is not a row-wise projection: it has an aggregate" in result.stderr


TYPED = """
sources:
  - name: {name}
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP') }}}}"}}
    tables:
      - name: typed
        topic: {topic}
        format: json
        key: [id]
        columns: {{id: bigint, amount: "decimal(30, 6)", day: date, of_day: time, data: blob, uid: uuid, names: "varchar[]",
                   counts: "integer[]", flag: boolean, span: interval, stamps: "timestamp[]"}}
"""
# an interval's months, days and microseconds, as both targets read them (a timedelta would count a month 30 days)
SPAN_PARTS = ("date_part('year', span) * 12 + date_part('month', span), date_part('day', span), "
              "(date_part('hour', span) * 3600 + date_part('minute', span) * 60) * 1000000 + date_part('microseconds', span)")


@pytest.mark.parametrize("target", ["dev", pytest.param("pg", marks=pytest.mark.postgres)])
def test_typed_values_land_alike_on_each_target(make_project: ProjectFactory, topic: str, kafka_bootstrap: str,
                                               monkeypatch: pytest.MonkeyPatch, target: str, request: pytest.FixtureRequest) -> None:
    """Decimals of every digit, bytes in base64, arrays with JSON's escapes, ISO 8601
    intervals, timestamps with offsets in arrays: one landing table's rows, on DuckDB
    and on Postgres."""
    import base64
    import uuid
    from decimal import Decimal

    schema = request.getfixturevalue("pg_schema") if target == "pg" else "unused"
    name = f"{schema}_typed" if target == "pg" else "typed"  # on Postgres, dropped with the test's schema
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    root = make_project({"models/sources.yml": TYPED.format(name=name, topic=topic), "profiles.yml": pg_profile(schema)})
    rng = random.Random(21)
    rows, expected = [], []
    for key in range(300):
        amount = Decimal(f"{rng.randrange(-10**23, 10**23)}.{rng.randrange(10**6):06d}")
        data = rng.randbytes(rng.randrange(0, 9))
        uid = uuid.UUID(int=rng.getrandbits(128))
        names = rng.choice([[], ["a\nb", 'q"', "it's", None, "NULL", "{x}", "é"], ["plain"]])
        counts = [rng.choice([None, rng.randrange(-2**31, 2**31)]) for _ in range(rng.randrange(4))]
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(-9000, 9000))
        of_day = datetime.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6))
        flag = rng.choice([True, False, None])
        span = [rng.randrange(-30, 30), rng.randrange(-400, 400), rng.randrange(-10**12, 10**12)]  # months, days, microseconds
        hours, rest = divmod(abs(span[2]), 3_600_000_000)
        sign = "-" if span[2] < 0 else ""
        iso = f"P{span[0]}M{span[1]}DT{sign}{hours}H{sign}{rest // 1_000_000}.{rest % 1_000_000:06d}S"
        moments = [datetime.datetime(2026, 1, 1) + datetime.timedelta(microseconds=rng.randrange(10**14)) for _ in range(rng.randrange(3))]
        zones = [datetime.timezone(datetime.timedelta(minutes=rng.choice([0, 90, -300]))) for _ in moments]
        stamps = [m.replace(tzinfo=datetime.UTC).astimezone(z).isoformat() for m, z in zip(moments, zones, strict=True)]
        rows.append(b'{"id": %d, "amount": %s, "day": "%s", "of_day": "%s", "data": "%s", "uid": "%s", "names": %s, "counts": %s, '
                    b'"flag": %s, "span": "%s", "stamps": %s}' % (
                        key, str(amount).encode(), day.isoformat().encode(), of_day.isoformat().encode(), base64.b64encode(data),
                        str(uid).encode(), orjson.dumps(names), orjson.dumps(counts), orjson.dumps(flag), iso.encode(),
                        orjson.dumps(stamps)))
        expected.append((key, amount, day, of_day, data, uid, names, counts, flag, *span, moments))
    produce(kafka_bootstrap, topic, [(0, b"k", row) for row in rows])
    result = fduck("stream", "--target", target, "--until-idle", "2", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "dead letter" not in result.stdout, result.stdout
    query = f"select id, amount, day, of_day, data, uid, names, counts, flag, {SPAN_PARTS}, stamps from {name}.typed order by id"
    if target == "pg":
        import psycopg

        with psycopg.connect(os.environ.get("FDUCK_TEST_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres")) as con:
            landed = [(*r[:4], bytes(r[4]), *r[5:9], *(int(p) for p in r[9:12]), r[12]) for r in con.execute(query).fetchall()]
    else:
        import duckdb

        with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
            landed = [(*r[:9], *(int(p) for p in r[9:12]), r[12]) for r in con.execute(query).fetchall()]
    assert landed == expected


DIVIDED = """entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - name: thirds
    entity: user
    model: clicks_thirds
    timestamp_field: event_ts
    stream: true
    online: true
    features:
      - {name: third, dtype: bigint}
"""


@pytest.mark.postgres
def test_a_projection_divides_in_the_stream_as_its_dialect_does(make_project: ProjectFactory, topic: str, kafka_bootstrap: str,
                                                               monkeypatch: pytest.MonkeyPatch, pg_schema: str) -> None:
    """A Postgres project's `clicks / 3` is the integer quotient in the stream's DuckDB
    too (whose `/` would give the fraction): the online values are the model's."""
    name = f"{pg_schema}_clicks"  # on Postgres, dropped with the test's schema
    monkeypatch.setenv("KAFKA_BOOTSTRAP", kafka_bootstrap)
    thirds = "{{ config(materialized='view') }}\nselect user_id, event_ts, clicks / 3 as third from {{ source('%s', 'events') }}\n"
    root = make_project({"featureduck_project.yml": "name: proj\ndialect: postgres\n", "profiles.yml": pg_profile(pg_schema),
                         "models/sources.yml": _source(name, topic, "clicks: bigint") + DIVIDED, "models/clicks_thirds.sql": thirds % name})
    rng = random.Random(31)
    events = [{"user_id": rng.randrange(30), "event_ts": (BASE + datetime.timedelta(seconds=rng.randrange(3600))).isoformat(),
               "clicks": rng.randrange(-100, 100)} for _ in range(600)]
    produce(kafka_bootstrap, topic, _messages(events, 3))
    newest: dict[int, tuple[str, int]] = {}
    for e in events:
        rank = (str(e["event_ts"]), int(int(e["clicks"]) / 3))  # type: ignore[call-overload]  # toward zero, as Postgres
        user = int(e["user_id"])  # type: ignore[call-overload]
        newest[user] = max(newest.get(user, rank), rank)

    def online() -> dict[int, tuple[str, int]]:
        rows = Project.load(root, target="pg").get_online_features("thirds", [{"user_id": u} for u in newest])
        return {r["entity"]["user_id"]: (r["feature_ts"].replace(" ", "T"), r["features"]["third"]) for r in rows}

    streamed = fduck("stream", "--target", "pg", "--until-idle", "2", cwd=root)
    assert streamed.returncode == 0, streamed.stderr
    assert online() == newest
    for command in (["run"], ["materialize", "--full", "-s", "thirds"]):
        done = fduck(*command, "--target", "pg", cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
    assert online() == newest
