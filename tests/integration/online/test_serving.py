"""`fduck materialize` into the embedded store and `fduck serve` as a real process on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from featureduck.api import Project
from tests.conftest import DEFAULT_PG_DSN, ProjectFactory, fduck, free_port

FEATURES = """
entities:
  - {name: user, join_keys: [user_id]}
  - {name: user_device, join_keys: [user_id, device]}
feature_views:
  - name: stats
    entity: user
    model: stats
    timestamp_field: ts
    online: true
    features: [{name: clicks, dtype: bigint}, {name: score, dtype: double}, {name: gen, dtype: bigint}]
  - name: devices
    entity: user_device
    model: devices
    timestamp_field: ts
    online: true
    features: [{name: seen, dtype: bigint}]
  - name: offline_only
    entity: user
    model: stats
    timestamp_field: ts
    features: [{name: clicks}]
"""
# every user has several rows; the newest (ts) is the one served
STATS = """{{ config(materialized='table') }}
select u as user_id, timestamp '2024-01-01' + to_days(k) as ts, u * 10 + k as clicks, (u + k) / 4 as score, {{ var('gen', 1) }} as gen
from range({{ var('users', 50) }}) as a(u), range(3) as b(k)
"""
DEVICES = """{{ config(materialized='table') }}
select * from (values (1, 'ios', timestamp '2024-01-01', 5), (1, 'web', timestamp '2024-01-02', 7)) as t(user_id, device, ts, seen)
"""


def _request(url: str, body: Any = None, token: str | None = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@contextmanager
def _server(root: Path, env: dict[str, str] | None = None, args: Sequence[str] = ()) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "featureduck.cli", "serve", "--project-dir", str(root), "--port", str(port), *args],
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _request(base + "/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError(process.stderr.read().decode() if process.poll() is not None else "server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _postgres_store_profile(schema: str) -> str:
    dsn = f"{{{{ env_var('FDUCK_TEST_PG_DSN', '{DEFAULT_PG_DSN}') }}}}"
    return (
        "default:\n  target: dev\n  outputs:\n"
        "    dev:\n      type: duckdb\n      path: target/dev.duckdb\n"
        f"      online_store: {{type: postgres, dsn: \"{dsn}\", schema: {schema}}}\n"
    )


@pytest.fixture
def served(make_project: ProjectFactory) -> Path:
    return _materialized(make_project({"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES}))


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def served_by_each_store(request: pytest.FixtureRequest, make_project: ProjectFactory) -> Path:
    files = {"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES}
    if request.param == "postgres":
        files["profiles.yml"] = _postgres_store_profile(request.getfixturevalue("pg_schema"))
    return _materialized(make_project(files))


def _materialized(root: Path) -> Path:
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    result = fduck("materialize", "--project-dir", str(root))
    assert result.returncode == 0, result.stderr
    assert "stats@1: 50 rows (full)" in result.stdout and "devices@1: 2 rows (full)" in result.stdout
    return root


def _latest_offline(root: Path) -> dict[int, tuple[int, float]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        rows = con.execute("select user_id, clicks, score from stats qualify row_number() over (partition by user_id order by ts desc) = 1")
        return {user: (clicks, score) for user, clicks, score in rows.fetchall()}


@pytest.mark.slow
def test_answers_are_the_latest_offline_values(served: Path) -> None:
    latest = _latest_offline(served)
    with _server(served) as base:
        assert _request(base + "/health") == (200, {"status": "ok"})
        status, one = _request(base + "/features/stats/7")
        assert status == 200
        assert one == {"view": "stats", "entity": {"user_id": 7}, "features": {"clicks": 72, "score": 2.25, "gen": 1},
                       "feature_ts": "2024-01-03 00:00:00"}
        status, batch = _request(base + "/features/stats/batch", {"entities": [3, "4", {"user_id": 5}, 999]})
        assert status == 200
        assert [r["entity"] for r in batch["results"]] == [{"user_id": 3}, {"user_id": 4}, {"user_id": 5}, {"user_id": 999}]
        for result in batch["results"][:3]:
            user = result["entity"]["user_id"]
            assert (result["features"]["clicks"], result["features"]["score"]) == latest[user]
        assert batch["results"][3] == {"entity": {"user_id": 999}, "features": None, "feature_ts": None}
        # composite keys: an object in a batch, a JSON array in the path
        status, devices = _request(base + "/features/devices/batch", {"entities": [{"user_id": 1, "device": "web"}, [1, "tv"]]})
        assert status == 200 and devices["results"][0]["features"] == {"seen": 7} and devices["results"][1]["features"] is None
        assert _request(base + '/features/devices/[1,"ios"]')[1]["features"] == {"seen": 5}
        status, views = _request(base + "/views")
        assert status == 200 and [v["name"] for v in views["views"]] == ["devices", "stats"]  # offline-only views are not served
        assert views["views"][1]["features"][0] == {"name": "clicks", "dtype": "bigint", "description": ""}
        assert views["views"][1]["materialized"]["rows"] == 50
        with urllib.request.urlopen(base + "/metrics") as response:
            assert 'fduck_requests_total{route="/features/{view}/{entity_key}",status="200"}' in response.read().decode()
        with urllib.request.urlopen(base + "/openapi.json") as response:
            assert "/features/{view}/batch" in json.loads(response.read())["paths"]
        assert _cache_lookups(base) == {"hit": 0, "miss": 0}  # before the embedded store, no hot-key cache unless asked for
    # the same answers in process
    assert Project.load(served).get_online_features("stats", [{"user_id": 7}])[0]["features"] == {"clicks": 72, "score": 2.25, "gen": 1}


@pytest.mark.slow
def test_bad_requests_get_a_json_4xx(served: Path) -> None:
    with _server(served) as base:
        assert _request(base + "/features/nope/1") == (404, {"error": "unknown feature view 'nope'"})
        assert _request(base + "/features/offline_only/1")[0] == 404
        assert _request(base + "/features/stats/999") == (404, {"error": "no online features for stats entity 999"})
        assert _request(base + "/features/stats/abc") == (422, {"error": "join key 'user_id' is an integer, got 'abc'"})
        assert _request(base + "/features/stats/batch", raw=b"{not json")[0] == 400
        assert _request(base + "/features/stats/batch", {"keys": [1]})[0] == 422
        assert _request(base + "/features/stats/batch", {"entities": [1.5]})[0] == 422
        assert _request(base + "/features/stats/batch", {"entities": [{"device": "ios"}]})[1] == {
            "error": 'entity {"device":"ios"} lacks join key user_id'}
        assert _request(base + "/features/devices/1")[0] == 422  # two keys, one given
        assert _request(base + "/features/stats/batch", {"entities": list(range(1001))})[0] == 413
        assert _request(base + "/nowhere")[0] == 404


@pytest.mark.slow
def test_bearer_tokens_and_rate_limit(served: Path) -> None:
    project_file = served / "featureduck_project.yml"
    project_file.write_text(project_file.read_text() + (
        "serve:\n  auth:\n    tokens: [\"{{ env_var('FD_TEST_TOKEN') }}\"]\n  rate_limit: {per_second: 1, burst: 3}\n"
    ))
    with _server(served, {"FD_TEST_TOKEN": "s3cret"}) as base:
        assert _request(base + "/health")[0] == 200  # probes need no token
        assert _request(base + "/features/stats/1")[0] == 401
        assert _request(base + "/features/stats/1", token="wrong")[0] == 403
        statuses = [_request(base + "/features/stats/1", token="s3cret")[0] for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429


@pytest.mark.slow
def test_incremental_materialization_moves_the_watermark(served: Path) -> None:
    model = served / "models" / "stats.sql"
    # user 0 gets a newer row; nothing else changes
    model.write_text(STATS.rstrip() + "\nunion all select 0, timestamp '2024-02-01', 12345, 0.5, 1\n")
    assert fduck("run", "--project-dir", str(served)).returncode == 0
    result = fduck("materialize", "--project-dir", str(served), "--select", "stats")
    assert "stats@1: 1 row (since 2024-01-03T00:00:00.000000)" in result.stdout, result.stdout
    assert "devices" not in result.stdout
    answer = Project.load(served).get_online_features("stats", [0, 1])
    assert answer[0]["features"]["clicks"] == 12345 and answer[1]["features"]["clicks"] == 12


def _generation(root: Path, users: int, gen: int) -> None:
    assert fduck("run", "--project-dir", str(root), "--vars", f"{{gen: {gen}, users: {users}}}").returncode == 0


@pytest.mark.slow
def test_serving_during_materialization_never_mixes_values(served_by_each_store: Path) -> None:
    """Readers see a view's old or new values, never a mix, while materialize rewrites it."""
    served = served_by_each_store
    users = 20_000
    _generation(served, users, 1)
    assert fduck("materialize", "--project-dir", str(served), "--full").returncode == 0
    seen: set[int] = set()
    failures: list[Any] = []
    stop = threading.Event()
    with _server(served) as base:
        def read() -> None:
            while not stop.is_set():
                status, answer = _request(base + "/features/stats/batch", {"entities": list(range(0, users, 97))})
                generations = {r["features"]["gen"] for r in answer["results"]} if status == 200 else {-1}
                if status != 200 or len(generations) != 1:
                    failures.append((status, generations))
                seen.update(generations)

        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for gen in (2, 3):
            _generation(served, users, gen)
            assert fduck("materialize", "--project-dir", str(served), "--full").returncode == 0
        time.sleep(0.3)
        stop.set()
        for reader in readers:
            reader.join()
    assert failures == []
    assert seen >= {1, 3}


def _cache_lookups(base: str) -> dict[str, float]:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {kind: float(n) for kind, n in re.findall(r'fduck_cache_lookups_total\{result="(\w+)"\} ([\d.]+)', text)}


@pytest.mark.slow
def test_hot_keys_are_cached_until_a_materialization(served_by_each_store: Path) -> None:
    """Repeated lookups come from the server's cache; the first request after a
    materialization commits (from another process) gets the new values."""
    served = served_by_each_store
    project_file = served / "featureduck_project.yml"
    project_file.write_text(project_file.read_text() + "serve:\n  cache_size: 1000\n")  # the embedded store's default is none
    with _server(served) as base:
        deadline = time.monotonic() + 10  # Postgres's store caches once its LISTEN is in place, a moment after /health
        while not any(_cache_lookups(base).values()) and time.monotonic() < deadline:
            _request(base + "/features/stats/7")
            time.sleep(0.05)
        for _ in range(3):
            status, answer = _request(base + "/features/stats/7")
            assert status == 200 and answer["features"]["gen"] == 1
        assert _request(base + "/features/stats/batch", {"entities": [7, 8, 99999]})[0] == 200  # 8 and 99999: a miss
        assert _request(base + "/features/stats/batch", {"entities": [7, 8, 99999]})[1]["results"][2]["features"] is None
        lookups = _cache_lookups(base)
        assert lookups["hit"] >= 3 and lookups["miss"] >= 2, lookups  # the repeated batch, whole from the cache
        _generation(served, 50, 2)
        assert fduck("materialize", "--project-dir", str(served), "--full").returncode == 0
        attempts = 1  # the embedded store's generation moves with the commit; Postgres's NOTIFY comes a moment after
        while _request(base + "/features/stats/7")[1]["features"]["gen"] != 2 and attempts < 50:
            attempts += 1
            time.sleep(0.01)
        assert attempts == 1 if not (served / "profiles.yml").exists() else attempts < 50
        assert _request(base + "/features/stats/7")[1]["features"]["gen"] == 2
        assert _request(base + "/features/stats/batch", {"entities": [7, 8]})[1]["results"][1]["features"]["gen"] == 2


@pytest.mark.slow
def test_a_killed_materialization_leaves_a_consistent_state(served_by_each_store: Path) -> None:
    """kill -9 at several moments of a full materialization: the store is always
    whole, at the previous generation or (if the commit got through) the new one."""
    served = served_by_each_store
    users = 300_000
    _generation(served, users, 1)
    assert fduck("materialize", "--project-dir", str(served), "--full").returncode == 0
    sample = list(range(0, users, 1000))
    stored, kept = 1, 0
    for gen, delay in enumerate((0.3, 0.5, 0.7, 0.9, 1.1), start=2):
        _generation(served, users, gen)
        process = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "materialize", "--project-dir", str(served), "--full"],
                                   stdout=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        generations = {a["features"]["gen"] for a in Project.load(served).get_online_features("stats", sample)}
        assert generations in ({stored}, {gen}), (delay, generations)
        kept += generations == {stored}
        stored = generations.pop()
    assert kept > 0  # at least one kill landed before the commit
    assert fduck("materialize", "--project-dir", str(served), "--full").returncode == 0


def test_a_bad_online_store_setting_is_a_profile_error(make_project: ProjectFactory) -> None:
    profile = _postgres_store_profile("fd_unused").replace("schema: fd_unused", "schema: fd_unused, pool_size: 0")
    root = make_project({"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES, "profiles.yml": profile})
    result = fduck("materialize", "--project-dir", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "profiles.yml: target 'dev': online_store pool_size must be a positive integer, got 0" in result.stderr
