"""Point-in-time training sets on DuckDB against a brute-force reference."""

from __future__ import annotations

import csv
import datetime
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from featureduck.api import Project
from featureduck.errors import ProjectError, UsageError
from featureduck.tasks.training_set import tie_free
from tests.conftest import ENGINE_TARGETS, ProjectFactory, fduck, pg_profile, spark_output, write_engine_profile

FEATURES_YML = """
entities:
  - name: user
    join_keys: [user_id]
  - name: user_device
    join_keys: [user_id, device]
feature_views:
  - name: activity
    entity: user
    model: activity
    timestamp_field: feature_ts
    ttl: 3d
    features:
      - {name: clicks, dtype: bigint}
      - {name: score, dtype: double}
  - name: device_stats
    entity: user_device
    model: device_stats
    timestamp_field: ts
    features:
      - {name: score, dtype: double}
"""

BASE = datetime.datetime(2024, 1, 1)


def _write_csv(path: Path, header: list[str], rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def _latest(rows: list[tuple[Any, ...]], key: tuple[Any, ...], at: datetime.datetime, ttl: datetime.timedelta | None) -> Any:
    """Brute force: the newest row for `key` stamped at or before `at`, within ttl."""
    candidates = [r for r in rows if r[0] == key and r[1] <= at]
    if not candidates:
        return None
    best = max(candidates, key=lambda r: r[1])
    if ttl is not None and best[1] < at - ttl:
        return None
    return best


@pytest.mark.parametrize(("target", "seed"), [
    ("dev", 1), ("dev", 2), ("dev", 3),
    pytest.param("pg", 4, marks=pytest.mark.postgres), pytest.param("pg", 5, marks=pytest.mark.postgres),
    pytest.param("spark", 6, marks=pytest.mark.spark),
])
def test_matches_brute_force(make_project: ProjectFactory, tmp_path: Path, request: pytest.FixtureRequest, target: str, seed: int) -> None:
    rng = random.Random(seed)
    users = list(range(1, 30))
    activity = []  # ((user,), ts, clicks, score)
    for user in users[:-4]:  # the last users have no history at all
        stamps = sorted(rng.sample(range(0, 60 * 24), rng.randint(1, 12)))  # unique hours within 60 days
        activity += [((user,), BASE + datetime.timedelta(hours=h), rng.randint(0, 50), round(rng.random(), 6)) for h in stamps]
    devices = []
    for user in users[:10]:
        for device in ("ios", "web"):
            stamps = sorted(rng.sample(range(0, 60 * 24), 4))
            devices += [((user, device), BASE + datetime.timedelta(hours=h), round(rng.random(), 6)) for h in stamps]
    entity_rows = []
    for i in range(400):
        user = rng.choice(users + [None])
        at_a_feature = rng.random() < 0.25  # exactly at some feature's timestamp
        when = rng.choice([r[1] for r in activity]) if at_a_feature else BASE + datetime.timedelta(minutes=rng.randint(-600, 88_000))
        entity_rows.append((user, rng.choice(["ios", "web", "tv"]), when, f"label{i}"))
    root = make_project({
        "features/features.yml": FEATURES_YML,
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - {name: activity, path: data/activity.csv}\n"
                           "      - {name: devices, path: data/devices.csv}\n",
        "models/activity.sql": (
            "{{ config(materialized='table') }} select user_id, feature_ts, clicks, score from {{ source('raw', 'activity') }}"
        ),
        "models/device_stats.sql": "select user_id, device, ts, score from {{ source('raw', 'devices') }}",
    })
    if target == "pg":
        (root / "profiles.yml").write_text(pg_profile(request.getfixturevalue("pg_schema")))
    if target == "spark":  # in process: one JVM, one session for the test run
        schema = f"fd_train_{seed}_{tmp_path.name[-6:]}".replace("-", "_").lower()
        profile = "default:\n  target: spark\n  outputs:\n" + spark_output(request.getfixturevalue("spark_warehouse"), schema)
        (root / "profiles.yml").write_text(profile)
    _write_csv(root / "data" / "activity.csv", ["user_id", "feature_ts", "clicks", "score"], [(k[0], t, c, s) for k, t, c, s in activity])
    _write_csv(root / "data" / "devices.csv", ["user_id", "device", "ts", "score"], [(k[0], k[1], t, s) for k, t, s in devices])
    entities_file = tmp_path / "entities.csv"
    _write_csv(entities_file, ["user_id", "device", "event_timestamp", "label"], entity_rows)
    out = tmp_path / "train.parquet"
    references = ["activity:clicks", "activity:score", "device_stats:score"]
    if target == "spark":
        project = Project.load(root, target="spark")
        assert not project.run().failed
        project.write_training_set(entities_file, references, out)
    else:
        assert fduck("run", "--project-dir", str(root), "--target", target).returncode == 0
        result = fduck(
            "training-set", "--project-dir", str(root), "--target", target, "--entities", str(entities_file),
            "--features", ",".join(references[:2]), "--features", references[2], "--out", str(out),
        )
        assert result.returncode == 0, result.stderr
    with duckdb.connect() as con:
        table = con.execute(f"select * from read_parquet('{out}')")
        columns = [d[0] for d in table.description]
        got = table.fetchall()
    assert columns == ["user_id", "device", "event_timestamp", "label", "clicks", "activity__score", "device_stats__score"]
    assert len(got) == len(entity_rows)
    expired = 0
    for row, (user, device, when, label) in zip(got, entity_rows, strict=True):
        if user is not None and _latest(activity, (user,), when, None) and not _latest(activity, (user,), when, datetime.timedelta(days=3)):
            expired += 1
        assert row[3] == label  # order and pass-through kept
        expected_activity = _latest(activity, (user,), when, datetime.timedelta(days=3)) if user is not None else None
        expected_device = _latest(devices, (user, device), when, None) if user is not None else None
        assert row[4] == (expected_activity[2] if expected_activity else None), (user, when)
        assert row[5] == (expected_activity[3] if expected_activity else None), (user, when)
        assert row[6] == (expected_device[2] if expected_device else None), (user, device, when)
    # the cases that matter all occur: values, misses, ttl expiries, rows exactly at a feature's timestamp
    assert expired > 0
    assert any(r[4] is not None for r in got) and any(r[4] is None for r in got)
    assert any(r[6] is not None for r in got)
    assert any(when in {a[1] for a in activity if a[0] == (user,)} for user, _, when, _ in entity_rows)


def test_python_api_with_pandas(make_project: ProjectFactory) -> None:
    pandas = pytest.importorskip("pandas")
    root = make_project({
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - name: v\n    entity: user\n    model: feats\n    timestamp_field: ts\n    features: [{name: x}]\n",
        "models/feats.sql": "{{ config(materialized='table') }} select 1 as user_id, timestamp '2024-01-02' as ts, 10 as x "
                            "union all select 1, timestamp '2024-01-05', 20",
    })
    project = Project.load(root)
    project.run()
    frame = pandas.DataFrame({
        "user_id": [1, 1, 1, 2],
        "event_timestamp": pandas.to_datetime(["2024-01-06", "2024-01-01", "2024-01-02", "2024-01-06"]),
        "y": [True, False, True, False],
    })
    result = project.get_historical_features(frame, ["v:x"])
    assert list(result.columns) == ["user_id", "event_timestamp", "y", "x"]
    assert [None if pandas.isna(v) else int(v) for v in result["x"]] == [20, None, 10, None]
    assert list(result["y"]) == [True, False, True, False]


def test_bad_references_and_definitions(make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project({
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - name: v\n    entity: user\n    model: feats\n    timestamp_field: ts\n    features: [{name: x}]\n",
        "models/feats.sql": "select 1 as user_id, now() as ts, 1 as x",
    })
    project = Project.load(root)
    with pytest.raises(UsageError, match="no feature 'y'"):
        project.get_historical_features(str(tmp_path / "e.csv"), ["v:y"])
    with pytest.raises(UsageError, match="unknown feature view 'w'"):
        project.get_historical_features(str(tmp_path / "e.csv"), ["w:x"])
    (root / "features" / "f.yml").write_text((root / "features" / "f.yml").read_text().replace("entity: user", "entity: usr"))
    with pytest.raises(ProjectError, match=r"features/f.yml:4: feature view 'v' names unknown entity 'usr'") as err:
        Project.load(root)
    assert "did you mean 'user'" in str(err.value)


def test_definitions_are_listed_and_in_the_manifest(make_project: ProjectFactory) -> None:
    import json

    root = make_project({
        "features/features.yml": FEATURES_YML,
        "models/activity.sql": "select 1 as user_id, now() as feature_ts, 1 as clicks, 0.5 as score",
        "models/device_stats.sql": "select 1 as user_id, 'ios' as device, now() as ts, 0.5 as score",
    })
    listed = fduck("ls", "--project-dir", str(root), "--resource-type", "feature_view", "--output", "json")
    views = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(v["name"], v["version"], v["ttl_seconds"]) for v in views] == [("activity", 1, 259200), ("device_stats", 1, None)]
    assert fduck("ls", "--project-dir", str(root), "--resource-type", "entity").stdout.split() == [
        "entity.proj.user", "entity.proj.user_device",
    ]
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["feature_views"]["activity@1"]["features"][0] == {"name": "clicks", "dtype": "bigint", "description": ""}
    assert manifest["entities"]["user_device"]["join_keys"] == ["user_id", "device"]


def test_python_api_with_arrow(make_project: ProjectFactory) -> None:
    import pyarrow

    root = make_project({
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - name: v\n    entity: user\n    model: feats\n    timestamp_field: ts\n    features: [{name: x}]\n",
        "models/feats.sql": "{{ config(materialized='table') }} select 1 as user_id, timestamp '2024-01-02' as ts, 10 as x",
    })
    project = Project.load(root)
    project.run()
    rows = pyarrow.table({
        "user_id": [1, 1],
        "event_timestamp": pyarrow.array([datetime.datetime(2024, 1, 3), datetime.datetime(2024, 1, 1)]),
    })
    result = project.get_historical_features(rows, ["v:x"])
    assert isinstance(result, pyarrow.Table)
    assert result.column("x").to_pylist() == [10, None]


def test_feature_view_columns_are_checked_at_compile_time(make_project: ProjectFactory) -> None:
    root = make_project({
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - name: v\n    entity: user\n    model: feats\n    timestamp_field: ts\n"
                          "    features: [{name: clicks}]\n",
        "models/feats.sql": "select 1 as user_id, now() as ts, 3 as click",
    })
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1
    assert "features/f.yml:4: feature view 'v' needs column 'clicks', which model 'feats' does not output" in result.stderr
    assert "did you mean 'click'" in result.stderr
    (root / "models" / "feats.sql").write_text("select 1 as user_id, now() as ts, 3 as clicks")
    assert fduck("compile", "--project-dir", str(root)).returncode == 0


def test_two_versions_side_by_side(make_project: ProjectFactory) -> None:
    import json

    views = """
entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - {name: risk, version: 1, entity: user, model: risk_v1, timestamp_field: ts, features: [{name: score}]}
  - {name: risk, version: 2, entity: user, model: risk_v2, timestamp_field: ts, features: [{name: score}]}
"""
    root = make_project({
        "features/f.yml": views,
        "models/risk_v1.sql": "{{ config(materialized='table') }} select 1 as user_id, timestamp '2024-01-01' as ts, 0.1 as score",
        "models/risk_v2.sql": "{{ config(materialized='table') }} select 1 as user_id, timestamp '2024-01-01' as ts, 0.2 as score",
    })
    project = Project.load(root)
    project.run()
    entities = root / "entities.csv"
    entities.write_text("user_id,event_timestamp\n1,2024-02-01\n")
    out = root / "out.csv"
    project.write_training_set(entities, ["risk@1:score", "risk@2:score"], out)
    assert out.read_text().splitlines() == ["user_id,event_timestamp,risk_v1__score,risk_v2__score", "1,2024-02-01,0.1,0.2"]
    project.write_training_set(entities, ["risk:score"], out)  # the plain name is the newest version
    assert out.read_text().splitlines()[1].endswith(",0.2")
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["feature_views"]["risk@1"]["relation"] == "main.risk_v1"
    assert manifest["feature_views"]["risk@2"]["model_checksum"] == manifest["nodes"]["model.proj.risk_v2"]["checksum"]["checksum"]


@pytest.mark.slow
def test_freshness_against_slas(make_project: ProjectFactory) -> None:
    import json

    views = """
entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - {name: fresh, entity: user, model: recent, timestamp_field: ts, features: [{name: x}], freshness: {warn_after: 26h, error_after: 48h}}
  - {name: aging, entity: user, model: day_old, timestamp_field: ts, features: [{name: x}], freshness: {warn_after: 12h, error_after: 48h}}
  - {name: stale, entity: user, model: old, timestamp_field: ts, features: [{name: x}],
     freshness: {warn_after: {count: 1, period: hour}, error_after: {count: 2, period: days}}}
  - {name: unset, entity: user, model: old, timestamp_field: ts, features: [{name: x}]}
"""
    root = make_project({
        "features/f.yml": views,
        "models/recent.sql": "{{ config(materialized='table') }} select 1 as user_id, now()::timestamp - interval 1 hour as ts, 1 as x",
        "models/day_old.sql": "{{ config(materialized='table') }} select 1 as user_id, now()::timestamp - interval 30 hour as ts, 1 as x",
        "models/old.sql": "{{ config(materialized='table') }} select 1 as user_id, timestamp '2020-01-01' as ts, 1 as x",
    })
    not_built = fduck("freshness", "--project-dir", str(root), "--output", "json")
    assert not_built.returncode == 1 and {r["status"] for r in json.loads(not_built.stdout)} == {"error", "no sla"}
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    result = fduck("freshness", "--project-dir", str(root), "--output", "json")
    statuses = {r["view"]: r["status"] for r in json.loads(result.stdout)}
    assert statuses == {"fresh@1": "pass", "aging@1": "warn", "stale@1": "error", "unset@1": "no sla"}
    assert result.returncode == 1
    table = fduck("freshness", "--project-dir", str(root))
    assert "stale@1" in table.stdout and "error" in table.stdout


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_ties_follow_one_rule_on_every_engine(make_project: ProjectFactory, request: pytest.FixtureRequest, target: str) -> None:
    """Tied rows (same key, same timestamp): the greatest features in declared order, NULL lowest."""
    views = (
        "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
        "  - {name: v, entity: user, model: feats, timestamp_field: ts, features: [{name: x}, {name: y}]}\n"
    )
    rows = "select * from (values (1, 1, 5), (1, 3, null), (1, 3, 2), (1, null, 9), (2, null, 1), (2, null, 4)) as t(user_id, x, y)"
    root = make_project({
        "features/f.yml": views,
        "models/feats.sql": f"{{{{ config(materialized='table') }}}} select user_id, timestamp '2024-01-01' as ts, x, y from ({rows}) as r",
    })
    write_engine_profile(target, root, request, "fd_ties")
    project = Project.load(root, target=target)
    assert not project.run().failed
    entities = root / "entities.csv"
    entities.write_text("user_id,event_timestamp\n1,2024-01-01 00:00:00\n1,2024-01-05 00:00:00\n2,2024-01-02 00:00:00\n")
    out = root / "out.csv"
    project.write_training_set(entities, ["v:x", "v:y"], out)
    assert out.read_text().splitlines()[1:] == [
        "1,2024-01-01 00:00:00,3,2", "1,2024-01-05 00:00:00,3,2", "2,2024-01-02 00:00:00,,4",
    ]


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_tie_checks_recorded_at_build_time(make_project: ProjectFactory, request: pytest.FixtureRequest, target: str) -> None:
    """The engine answers every view's check in the run's one state-store write."""
    views = (
        "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
        "  - {name: clean, entity: user, model: clean, timestamp_field: ts, features: [{name: x}]}\n"
        "  - {name: tied, entity: user, model: tied, timestamp_field: ts, features: [{name: x}]}\n"
    )
    three = "(select 0 as i union all select 1 union all select 2) as r"
    table = "{{ config(materialized='table') }}"
    root = make_project({
        "features/f.yml": views,
        "models/clean.sql": f"{table} select i as user_id, timestamp '2024-01-01' as ts, 1 as x from {three}",
        "models/tied.sql": f"{table} select 1 as user_id, timestamp '2024-01-01' as ts, i as x from {three}",
    })
    write_engine_profile(target, root, request, "fd_ties")
    project = Project.load(root, target=target)
    assert not project.run().failed
    with project.session() as session:
        assert tie_free(session) == {"clean@1"}
    # the check follows the build: a rebuilt view with ties loses its exemption
    (root / "models" / "clean.sql").write_text(
        f"{table} select 1 as user_id, timestamp '2024-01-01' as ts, i as x from {three} where i < 2"
    )
    project = Project.load(root, target=target)
    assert not project.run(select="clean").failed
    with project.session() as session:
        assert tie_free(session) == set()
    entities = root / "e.csv"
    entities.write_text("user_id,event_timestamp\n1,2024-01-02\n")
    out = root / "out.csv"
    project.write_training_set(entities, ["clean:x"], out)
    assert out.read_text().splitlines()[1] == "1,2024-01-02,1"  # the tie rule still applies: the greatest x


ZONES = [datetime.timezone(datetime.timedelta(hours=5, minutes=30)), datetime.timezone(datetime.timedelta(hours=-8)), datetime.UTC]


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_time_zones_compare_instants(make_project: ProjectFactory, tmp_path: Path, request: pytest.FixtureRequest, target: str) -> None:
    """Feature and event times written with assorted UTC offsets are compared as
    instants, a naive event time is UTC, and neither the machine's zone nor the
    database session's changes an answer (both are set to other zones here)."""
    rng = random.Random(7)
    activity = []  # ((user,), instant, clicks, score)
    for user in range(1, 8):
        for hour in sorted(rng.sample(range(0, 24 * 20), 10)):
            activity.append(((user,), BASE.replace(tzinfo=datetime.UTC) + datetime.timedelta(hours=hour), rng.randint(0, 50), 0.5))
    entity_rows = []  # (user, instant, text as written, label)
    for i in range(200):
        user = rng.randint(1, 9)
        if rng.random() < 0.3:  # exactly at a feature's instant, written in another zone
            instant = rng.choice([a[1] for a in activity if a[0] == (user,)] or [activity[0][1]])
        else:
            instant = BASE.replace(tzinfo=datetime.UTC) + datetime.timedelta(minutes=rng.randint(-600, 24 * 60 * 21))
        zone = rng.choice([*ZONES, None])
        text = instant.replace(tzinfo=None).isoformat(sep=" ") if zone is None else instant.astimezone(zone).isoformat(sep=" ")
        entity_rows.append((user, instant, text, f"label{i}"))
    root = make_project({
        "features/features.yml": FEATURES_YML,
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - {name: activity, path: data/activity.csv}\n",
        "models/activity.sql": (
            "{{ config(materialized='table') }} select user_id, feature_ts, clicks, score from {{ source('raw', 'activity') }}"
        ),
        "models/device_stats.sql": "select 1 as user_id, 'ios' as device, timestamp '2024-01-01' as ts, cast(0.5 as double) as score",
    })
    _write_csv(root / "data" / "activity.csv", ["user_id", "feature_ts", "clicks", "score"],
               [(k[0], t.astimezone(rng.choice(ZONES)).isoformat(sep=" "), c, s) for k, t, c, s in activity])
    entities_file = tmp_path / "entities.csv"
    _write_csv(entities_file, ["user_id", "event_timestamp", "label"], [(u, text, label) for u, _, text, label in entity_rows])
    out = tmp_path / "train.csv"
    write_engine_profile(target, root, request, "fd_ties")
    if target == "spark":
        profiles = root / "profiles.yml"  # the session's zone; the training set runs in UTC
        profiles.write_text(profiles.read_text().replace("}\n", ", time_zone: America/New_York}\n"))
        project = Project.load(root, target="spark")
        assert not project.run().failed
        with project.session() as session:
            project.write_training_set(entities_file, ["activity:clicks"], out)
            assert session.adapter.time_zone() == "America/New_York"
    else:
        zones = {"TZ": "America/New_York", "PGTZ": "Asia/Kolkata"}  # the machine's zone, the Postgres session's
        assert fduck("run", "--project-dir", str(root), "--target", target, env=zones).returncode == 0
        result = fduck("training-set", "--project-dir", str(root), "--target", target, "--entities", str(entities_file),
                       "--features", "activity:clicks", "--out", str(out), env=zones)
        assert result.returncode == 0, result.stderr
    got = list(csv.reader(out.read_text().splitlines()))[1:]
    assert len(got) == len(entity_rows)
    hits = 0
    for row, (user, instant, _, label) in zip(got, entity_rows, strict=True):
        assert row[2] == label
        expected = _latest(activity, (user,), instant, datetime.timedelta(days=3))
        assert row[3] == (str(expected[2]) if expected else ""), (user, instant, row)
        hits += expected is not None
    assert 0 < hits < len(entity_rows)


def test_source_freshness_beside_feature_views(make_project: ProjectFactory, tmp_path: Path) -> None:
    """Sources with a timestamp_field and a freshness SLA (on the table or the whole source)."""
    import json

    import duckdb

    recent, old = tmp_path / "recent.parquet", tmp_path / "old.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS id, now()::timestamp - INTERVAL 3 HOUR AS loaded_at) TO '{recent}'")
    duckdb.sql(f"COPY (SELECT 1 AS id, TIMESTAMP '2020-01-01' AS loaded_at) TO '{old}'")
    sources = f"""
sources:
  - name: raw
    freshness: {{warn_after: {{count: 2, period: hour}}, error_after: {{count: 1, period: day}}}}
    loaded_at_field: loaded_at
    tables:
      - {{name: recent, path: '{recent}'}}
      - {{name: old, path: '{old}'}}
      - {{name: strict, path: '{recent}', freshness: {{error_after: 1h}}}}
      - {{name: unstamped, path: '{old}', loaded_at_field: null, timestamp_field: null, freshness: null}}
"""
    root = make_project({"sources/raw.yml": sources, "models/m.sql": "select 1 as x"})
    result = fduck("freshness", "--project-dir", str(root), "--output", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    found = {(r["resource_type"], r["name"]): r["status"] for r in json.loads(result.stdout)}
    assert found == {("source", "raw.recent"): "warn", ("source", "raw.old"): "error", ("source", "raw.strict"): "error"}
    table = fduck("freshness", "--project-dir", str(root))
    assert "source raw.old" in table.stdout and "error" in table.stdout


def test_a_view_backed_feature_view_follows_the_tie_rule_on_live_rows(make_project: ProjectFactory) -> None:
    """A view reads its CSV live: a tie check recorded when it was built does not
    hold once the file gains tied rows, and the training set ranks them (9 wins)."""
    root = make_project({
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - {name: stats, path: data/stats.csv}\n",
        "models/stats.sql": "select * from {{ source('raw', 'stats') }}\n",
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - {name: stats, entity: user, model: stats, timestamp_field: ts, features: [{name: score, dtype: bigint}]}\n",
        "data/stats.csv": "user_id,ts,score\n1,2024-01-01 00:00:00,5\n",
        "entities.csv": "user_id,event_timestamp\n1,2024-01-02 00:00:00\n",
    })
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    project = Project.load(root)
    with project.session() as session:
        assert tie_free(session) == {"stats@1"}  # checked against the rows there now
    (root / "data" / "stats.csv").write_text(
        "user_id,ts,score\n1,2024-01-01 00:00:00,5\n1,2024-01-01 00:00:00,9\n1,2024-01-01 00:00:00,7\n")
    out = root / "out.csv"
    result = fduck("training-set", "--project-dir", str(root), "--entities", str(root / "entities.csv"),
                   "--features", "stats:score", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_text().splitlines()[1:] == ["1,2024-01-02 00:00:00,9"]
