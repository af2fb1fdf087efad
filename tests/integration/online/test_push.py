"""Pushing rows to a stream feature view (Feast's push source): `POST /push/{view}` on
a real server over loopback and `Project.push`, against brute-force newest values
and `materialize --full` of the landing table."""

from __future__ import annotations

import datetime
import fcntl
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

from featureduck.api import Project
from featureduck.errors import UsageError
from featureduck.online.writer_lock import QUEUE_FILE, WriterLock
from tests.conftest import ProjectFactory, fduck
from tests.integration.online.test_serving import _postgres_store_profile, _request, _server

SOURCES = """
sources:
  - name: clicks
    type: kafka
    connection: {bootstrap_servers: "localhost:9092"}
    tables:
      - name: events
        key: [user_id]
        timestamp_field: event_ts
        columns: {user_id: bigint, event_ts: timestamp, amount: double, country: varchar, seen: "decimal(8, 2)", extra: varchar}
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
      - {name: country, dtype: varchar}
      - {name: seen, dtype: "decimal(8, 2)"}
"""


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project({"models/sources.yml": SOURCES, "featureduck_project.yml": "name: proj\nserve: {max_batch: 50}\n"})


def _row(user: int, stamp: str, amount: float | None, country: str = "de") -> dict[str, object]:
    return {"user_id": user, "event_ts": stamp, "amount": amount, "country": country, "seen": 1.25}


@pytest.mark.slow
def test_pushed_rows_are_served_newest_first_and_land_offline(project: Path) -> None:
    with _server(project) as base:
        status, answer = _request(base + "/push/clicks", {"rows": [
            _row(1, "2026-01-01T10:00:00", 1.0), _row(1, "2026-01-01T11:00:00+01:00", 2.0),  # the same instant: greater wins
            _row(2, "2026-01-01T09:00:00Z", None),
        ], "to": "online_and_offline"})
        assert (status, answer) == (200, {"view": "clicks@1", "rows": 3, "online": 2, "offline": 3})
        assert _request(base + "/features/clicks/1")[1]["features"] == {"amount": 2.0, "country": "de", "seen": 1.25}
        assert _request(base + "/features/clicks/2")[1]["features"]["amount"] is None
        # older than what is stored: offered, not kept; newer: kept (Feast's columnar `df` too)
        assert _request(base + "/push/clicks", {"rows": [_row(1, "2026-01-01T09:59:59", 9.0)]})[1]["online"] == 1
        assert _request(base + "/features/clicks/1")[1]["features"]["amount"] == 2.0
        assert _request(base + "/push/clicks", {"df": {"user_id": [1], "event_ts": ["2026-01-01T10:00:01"], "amount": [3.5]}})[1][
            "online"] == 1
        one = _request(base + "/features/clicks/1")[1]
        assert one["features"] == {"amount": 3.5, "country": None, "seen": None} and one["feature_ts"] == "2026-01-01 10:00:01"

        for body, status, message in [
            ({"rows": [_row(1, "2026-01-01T10:00:00", 1.0) | {"amount": "x"}]}, 422, "row 0: 'amount' must be a number"),
            ({"rows": [{"event_ts": "2026-01-01T10:00:00"}]}, 422, "row 0: 'user_id' is missing or null"),
            ({"rows": [_row(1, "yesterday", 1.0)]}, 422, "'event_ts' must be an ISO timestamp text"),
            ({"rows": [_row(1, "2026-01-01T10:00:00", 1.0) | {"colour": "red"}]}, 422, "'colour' is not a column of clicks.events"),
            ({"rows": [_row(1.5, "2026-01-01T10:00:00", 1.0)]}, 422, "'user_id' must be an integer"),  # type: ignore[arg-type]
            ({"rows": [_row(1, "2026-01-01T10:00:00", 1.0) | {"seen": 1.234}]}, 422, "does not fit DECIMAL(8, 2)"),
            ({"rows": [_row(1, "2026-01-01T10:00:00", 1.0)], "to": "everywhere"}, 422, "push to one of online, offline"),
            ({"rows": [_row(1, "2026-01-01T10:00:00", 1.0)] * 51}, 413, "at most 50"),
            ({"df": {"user_id": [1, 2], "event_ts": ["2026-01-01T10:00:00"]}}, 422, "different lengths"),
            ({"rows": []}, 422, "non-empty list"),
            ({"entities": []}, 422, "the body must be"),
        ]:
            got = _request(base + "/push/clicks", body)
            assert got[0] == status and message in got[1]["error"], (body, got)
        assert _request(base + "/push/nothing", {"rows": []})[0] == 404
        assert _request(base + "/push/clicks", raw=b"{")[0] == 400
        assert _request(base + "/features/clicks/1")[1]["features"]["amount"] == 3.5  # no refused request wrote anything
    with duckdb.connect(str(project / "target/dev.duckdb"), read_only=True) as con:
        landed = con.execute("select user_id, cast(event_ts as varchar), amount, _kafka_offset from clicks.events order by 2").fetchall()
    assert landed == [(2, "2026-01-01 09:00:00", None, None), (1, "2026-01-01 10:00:00", 1.0, None), (1, "2026-01-01 10:00:00", 2.0, None)]


def test_pushes_leave_the_newest_value_as_materialize_does(project: Path) -> None:
    """Random pushes, in process, with late events and ties: the online values are the
    brute-force newest, and `materialize --full` over the landing table agrees."""
    rng = random.Random(2024)
    pushed: list[dict[str, object]] = []
    app = Project.load(project)
    for _ in range(40):
        batch = [{"user_id": rng.randrange(15), "event_ts": f"2026-01-01T10:{rng.randrange(6):02d}:00",
                  "amount": float(rng.randrange(4)), "country": rng.choice(["de", "fr", None])} for _ in range(rng.randrange(1, 30))]
        app.push("clicks", batch, to="online_and_offline")
        pushed += batch
    newest: dict[int, tuple[str, float, object]] = {}
    for row in pushed:
        rank = (str(row["event_ts"]), row["amount"], (0,) if row["country"] is None else (1, row["country"]))
        user = int(row["user_id"])  # type: ignore[call-overload]
        if user not in newest or rank > newest[user][:3]:  # type: ignore[operator]
            newest[user] = (*rank, row["country"])  # type: ignore[assignment]

    def online() -> dict[int, tuple[str, float, object]]:
        found = {}
        for row in app.get_online_features("clicks", [{"user_id": u} for u in newest]):
            stamp = datetime.datetime.fromisoformat(row["feature_ts"]).isoformat()
            country = row["features"]["country"]
            found[row["entity"]["user_id"]] = (stamp, row["features"]["amount"], (0,) if country is None else (1, country), country)
        return found

    assert online() == newest
    assert fduck("materialize", "--full", cwd=project).returncode == 0
    assert online() == newest


def test_rows_of_different_shapes_push_as_rows_given_in_full(project: Path) -> None:
    """Rows that leave out columns, or give them in another order, push as the same
    rows with those columns null: the usual one-shape read and the row-by-row one agree."""
    app = Project.load(project)
    shaped = [
        {"event_ts": "2026-01-01T10:00:00", "user_id": 1, "amount": 1.5},
        {"user_id": 2, "event_ts": "2026-01-01T10:00:00.250000", "country": "fr", "seen": "2.5"},
        {"user_id": 3, "amount": 4, "event_ts": "2026-01-01T10:00:00+02:00", "country": None},
    ]
    assert app.push("clicks", shaped).online == 3
    assert [(row["feature_ts"], row["features"]) for row in app.get_online_features("clicks", [{"user_id": u} for u in (1, 2, 3)])] == [
        ("2026-01-01 10:00:00", {"amount": 1.5, "country": None, "seen": None}),
        ("2026-01-01 10:00:00.25", {"amount": None, "country": "fr", "seen": 2.5}),
        ("2026-01-01 08:00:00", {"amount": 4.0, "country": None, "seen": None}),
    ]


def test_only_stream_views_take_pushes(make_project: ProjectFactory) -> None:
    root = make_project({"models/sources.yml": SOURCES.replace("    stream: true\n", "")})
    with pytest.raises(UsageError, match="no stream feature view 'clicks'"):
        Project.load(root).push("clicks", [{"user_id": 1}])


FIRST_PUSH = """
import sys
from featureduck.api import Project
from featureduck.streams.push import Pusher
project = Project.load(sys.argv[1])
pusher = Pusher(project.definition, project.online_store(), None)
if sys.argv[2] == "prepared":
    pusher.prepare()
before = set(sys.modules)
row = {"user_id": 1, "event_ts": "2026-01-01T10:00:00", "amount": 2.5, "country": "de", "seen": 1.25}
pusher.write_group([pusher.ticket("clicks", [row])])
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_a_prepared_pusher_imports_nothing_on_its_first_push(project: Path) -> None:
    """Serving prepares its pusher at start-up: Arrow's first conversion of Python values
    imports pandas (a third of a second), which would otherwise stall a worker's first push."""
    def imported(mode: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", FIRST_PUSH, str(project), mode], capture_output=True, text=True, check=True)
        return done.stdout.split()

    assert "pandas" in imported("unprepared")
    assert imported("prepared") == []


@pytest.mark.slow
def test_push_is_behind_the_same_auth_and_rate_limit(make_project: ProjectFactory) -> None:
    serve = "name: proj\nserve:\n  auth:\n    tokens: [\"{{ env_var('FD_TEST_TOKEN') }}\"]\n  rate_limit: {per_second: 1, burst: 2}\n"
    root = make_project({"models/sources.yml": SOURCES, "featureduck_project.yml": serve})
    body = {"rows": [_row(1, "2026-01-01T10:00:00", 1.0)]}
    with _server(root, env={"FD_TEST_TOKEN": "s3cret"}) as base:
        assert _request(base + "/push/clicks", body)[0] == 401
        assert _request(base + "/push/clicks", body, token="wrong")[0] == 403
        statuses = [_request(base + "/push/clicks", body, token="s3cret")[0] for _ in range(4)]
    assert statuses[0] == 200 and 429 in statuses


UNFLUSHED = ("default:\n  target: dev\n  outputs:\n"
             "    dev: {type: duckdb, path: target/dev.duckdb, online_store: {type: embedded, sync: false}}\n")
# another featureduck writer (a `materialize --full`, a stream's batch) in its write transaction, until told to stop
HOLDER = """
import sys
from pathlib import Path
import lmdb
from featureduck.online.embedded import DEFAULT_MAP_SIZE
from featureduck.online.writer_lock import WriterLock
env = lmdb.open(sys.argv[1], map_size=DEFAULT_MAP_SIZE, max_dbs=4096)
with WriterLock(Path(sys.argv[1])).held(wait=True), env.begin(write=True):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.mark.slow
def test_a_server_reads_on_while_another_process_writes_and_pushes_after(make_project: ProjectFactory) -> None:
    """With `sync: false` a server writes pushes on its event loop when no other
    writer is in a write: when one is, reads must still be answered at once, and the
    push waits for that writer, then is written."""
    root = make_project({"models/sources.yml": SOURCES, "profiles.yml": UNFLUSHED})
    with _server(root) as base:
        assert _request(base + "/push/clicks", {"rows": [_row(1, "2026-01-01T10:00:00", 1.0)]})[0] == 200
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root / "target" / "online_store")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            answers: list[tuple[int, object]] = []
            pushing = threading.Thread(target=lambda: answers.append(
                _request(base + "/push/clicks", {"rows": [_row(1, "2026-01-01T11:00:00", 2.0)]})))
            pushing.start()
            time.sleep(0.5)
            assert not answers, "the push did not wait for the other writer"
            started = time.perf_counter()
            assert _request(base + "/features/clicks/1")[1]["features"]["amount"] == 1.0
            assert _request(base + "/health")[0] == 200
            assert time.perf_counter() - started < 2.0
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=10)
        pushing.join(timeout=10)
        assert answers and answers[0][0] == 200
        assert _request(base + "/features/clicks/1")[1]["features"]["amount"] == 2.0
        # the lock free again: a push is written at once
        assert _request(base + "/push/clicks", {"rows": [_row(1, "2026-01-01T12:00:00", 3.0)]})[1]["online"] == 1
        assert _request(base + "/features/clicks/1")[1]["features"]["amount"] == 3.0


def test_the_writer_lock_is_tried_across_threads_and_processes_and_reentrant(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path)
    with lock.held(wait=False) as mine:
        assert mine
        with lock.held(wait=False) as again:  # a write inside a held lock
            assert again
        tried: list[bool] = []

        def attempt() -> None:
            with lock.held(wait=False) as other:
                tried.append(other)

        thread = threading.Thread(target=attempt)
        thread.start()
        thread.join()
        assert tried == [False]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with lock.held(wait=False) as mine:
            assert not mine
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    with lock.held(wait=False) as mine:  # the other process gone: free
        assert mine
    lock.close()


def test_a_try_gives_way_to_a_writer_waiting_for_its_turn(tmp_path: Path) -> None:
    """A flock is not fair: a server trying again the moment it let go would win
    before the waiting writer (a stream's batch, another worker) ran. Two locks on the
    folder are two processes' (each opens its files)."""
    server, stream = WriterLock(tmp_path), WriterLock(tmp_path)
    queue = os.open(tmp_path / QUEUE_FILE, os.O_RDWR | os.O_CREAT)
    taken, done = threading.Event(), threading.Event()

    def write_in_turn() -> None:
        with stream.held(wait=True) as held:
            assert held
            taken.set()
            done.wait(10)

    waiting = threading.Thread(target=write_in_turn)
    with server.held(wait=True):
        waiting.start()
        deadline = time.monotonic() + 10
        while not _locked(queue):  # the stream queued, waiting for the writer lock
            assert time.monotonic() < deadline, "the waiting writer never queued"
            time.sleep(0.01)
    with server.held(wait=False) as mine:  # let go, then tried again at once
        assert not mine
    assert taken.wait(10)
    done.set()
    waiting.join(10)
    with server.held(wait=False) as mine:  # nobody waiting: taken
        assert mine
    os.close(queue)
    server.close()
    stream.close()


def _locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def _rank(row: dict[str, object]) -> tuple[object, ...]:
    """The stores' order of one entity's rows: feature time, then the features NULL lowest."""
    return (datetime.datetime.fromisoformat(str(row["event_ts"])),
            *((0,) if row[name] is None else (1, row[name]) for name in ("amount", "country", "seen")))


def _newest(rows: Iterable[dict[str, object]]) -> dict[int, tuple[object, ...]]:
    """Brute force: each user's greatest rank."""
    newest: dict[int, tuple[object, ...]] = {}
    for row in rows:
        user, rank = int(row["user_id"]), _rank(row)  # type: ignore[call-overload]
        if user not in newest or rank > newest[user]:  # type: ignore[operator]
            newest[user] = rank
    return newest


@pytest.mark.slow
@pytest.mark.parametrize("store", ["embedded", "embedded, sync: false", "embedded, sync: false, writemap: true, map_size: 67108864",
                                   pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_pushes_to_two_workers_keep_the_newest_and_land_each_row_once(
        make_project: ProjectFactory, store: str, request: pytest.FixtureRequest) -> None:
    """Clients pushing at once to two server processes, online and offline, with late
    events and ties (grouped writes, on the loop and off it, the two workers taking
    turns at the store and at the DuckDB file): the served values are the brute-force
    newest, the landing table holds each offline row once, and a `materialize --full`
    and a `fduck run` made while the server runs succeed and agree."""
    profile = (_postgres_store_profile(request.getfixturevalue("pg_schema")) if store == "postgres"
               else UNFLUSHED.replace("sync: false", store.removeprefix("embedded, ") if "sync" in store else "sync: true"))
    root = make_project({"models/sources.yml": SOURCES, "profiles.yml": profile,
                         "models/totals.sql": "select user_id, count(*) as pushes from {{ source('clicks', 'events') }} group by 1"})
    rng = random.Random(sum(map(ord, store)))
    stamps = ["2026-01-01T10:01:00", "2026-01-01T10:01:00.5", "2026-01-01T10:01:00.25", "2026-01-01T10:02:00", "2026-01-01T09:00:00"]
    plans = [[([{"user_id": rng.randrange(12), "event_ts": rng.choice(stamps), "amount": rng.choice([None, 1.0, 2.0]),
                 "country": rng.choice(["de", "fr", None]), "seen": rng.choice([None, 0.5])} for _ in range(rng.randrange(1, 40))],
               rng.choice(["online", "online_and_offline"])) for _ in range(20)] for _ in range(6)]
    failures: list[object] = []
    with _server(root, args=["--workers", "2"]) as base:

        def client(plan: list[tuple[list[dict[str, object]], str]]) -> None:
            for rows, to in plan:
                status, answer = _request(base + "/push/clicks", {"rows": rows, "to": to})
                if status != 200:
                    failures.append(answer)

        clients = [threading.Thread(target=client, args=(plan,)) for plan in plans]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        assert not failures
        pushed = [(row, to) for plan in plans for rows, to in plan for row in rows]

        def served() -> dict[int, tuple[object, ...]]:
            answers = {user: _request(f"{base}/features/clicks/{user}")[1] for user in range(12)}
            return {user: (datetime.datetime.fromisoformat(a["feature_ts"]), *((0,) if a["features"][n] is None else (1, a["features"][n])
                                                                               for n in ("amount", "country", "seen")))
                    for user, a in answers.items() if "features" in a}

        assert served() == _newest(row for row, _ in pushed)
        # the landing table's rows alone, as the view is rebuilt from them (online-only pushes are not there)
        assert fduck("materialize", "--full", cwd=root).returncode == 0
        assert served() == _newest(row for row, to in pushed if to != "online")
        assert fduck("run", cwd=root).returncode == 0
    offline = Counter((int(r["user_id"]), datetime.datetime.fromisoformat(str(r["event_ts"])), r["amount"])  # type: ignore[call-overload]
                      for r, to in pushed if to != "online")
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        landed = Counter(con.execute("select user_id, event_ts, amount from clicks.events").fetchall())
        totals = dict(con.execute("select user_id, pushes from totals").fetchall())
    assert landed == offline
    assert totals == dict(Counter(user for (user, _, _), times in offline.items() for _ in range(times)))
