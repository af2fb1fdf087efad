"""The Postgres online store on a real server: typed tables per view, upserts, schema changes, migration."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest

from featureduck.api import Project
from tests.conftest import ProjectFactory, fduck
from tests.integration.online.test_serving import DEVICES, FEATURES, STATS, _postgres_store_profile, _request, _server


def _sql(dsn: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as con:
        cursor = con.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def pg_online(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> Path:
    profile = _postgres_store_profile(pg_schema)
    root = make_project({"features/f.yml": FEATURES, "models/stats.sql": STATS, "models/devices.sql": DEVICES, "profiles.yml": profile})
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    result = fduck("materialize", "--project-dir", str(root))
    assert result.returncode == 0, result.stderr
    return root


def test_one_typed_table_per_view(pg_online: Path, pg_dsn: str, pg_schema: str) -> None:
    columns = _sql(pg_dsn, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                           "AND table_name = 'online_stats' ORDER BY ordinal_position", [pg_schema])
    assert columns == [("entity_key", "text"), ("clicks", "bigint"), ("score", "double precision"), ("gen", "integer"),
                       ("feature_ts", "timestamp without time zone"), ("updated_at", "timestamp with time zone")]
    key = _sql(pg_dsn, "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                       f"WHERE i.indrelid = '{pg_schema}.online_stats'::regclass AND i.indisprimary")
    assert key == [("entity_key",)]
    assert _sql(pg_dsn, f"SELECT count(*) FROM {pg_schema}.online_stats") == [(50,)]
    assert _sql(pg_dsn, f"SELECT entity_key FROM {pg_schema}.online_devices ORDER BY 1") == [('[1,"ios"]',), ('[1,"web"]',)]
    answer = Project.load(pg_online).get_online_features("stats", [{"user_id": 7}, {"user_id": 999}])
    assert answer[0]["features"] == {"clicks": 72, "score": 2.25, "gen": 1} and answer[1]["features"] is None
    with _server(pg_online) as base:
        assert _request(base + "/features/stats/7")[1]["features"] == {"clicks": 72, "score": 2.25, "gen": 1}
        assert _request(base + '/features/devices/[1,"web"]')[1]["features"] == {"seen": 7}
        with urllib.request.urlopen(base + "/features/stats/7") as response:  # the JSON as the embedded store writes it
            assert b'"features":{"clicks":72,"score":2.25,"gen":1},"feature_ts":"2024-01-03 00:00:00"}' in response.read()


def test_incremental_upsert_and_schema_changes(pg_online: Path, pg_dsn: str, pg_schema: str) -> None:
    model = pg_online / "models" / "stats.sql"
    model.write_text(STATS.rstrip() + "\nunion all select 0, timestamp '2024-02-01', 12345, 0.5, 1\n")
    assert fduck("run", "--project-dir", str(pg_online)).returncode == 0
    result = fduck("materialize", "--project-dir", str(pg_online), "--select", "stats")
    assert "stats@1: 1 row (since 2024-01-03T00:00:00.000000)" in result.stdout, result.stdout + result.stderr
    assert _sql(pg_dsn, f"SELECT clicks, feature_ts::text FROM {pg_schema}.online_stats WHERE entity_key = '0'") == [
        (12345, "2024-02-01 00:00:00")]
    # a feature added, one retyped: the table follows the view
    features = pg_online / "features" / "f.yml"
    features.write_text(features.read_text().replace("{name: gen, dtype: bigint}", "{name: gen, dtype: bigint}, {name: level}"))
    model.write_text(model.read_text().replace("as gen\n", "as gen, 'gold' as level\n").replace(", 0.5, 1\n", ", 0.5, 1, 'gold'\n")
                     .replace("(u + k) / 4 as score", "cast((u + k) / 4 as real) as score"))
    assert fduck("run", "--project-dir", str(pg_online)).returncode == 0
    model.write_text(model.read_text() + "union all select 1, timestamp '2024-03-01', 1, 0.25, 1, 'silver'\n")
    assert fduck("run", "--project-dir", str(pg_online)).returncode == 0
    result = fduck("materialize", "--project-dir", str(pg_online), "--select", "stats")
    assert result.returncode == 0, result.stderr
    types = dict(_sql(pg_dsn, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                              "AND table_name = 'online_stats'", [pg_schema]))
    assert types["level"] == "text" and types["score"] == "real"
    assert Project.load(pg_online).get_online_features("stats", [1])[0]["features"] == {"clicks": 1, "score": 0.25, "gen": 1,
                                                                                       "level": "silver"}


def test_migrate_from_the_single_table_layout(pg_online: Path, pg_dsn: str, pg_schema: str) -> None:
    _sql(pg_dsn, f"CREATE TABLE {pg_schema}.online_features (feature_view text, entity_key text, features jsonb)")
    _sql(pg_dsn, f"DROP TABLE {pg_schema}.online_stats")
    _sql(pg_dsn, f"DELETE FROM {pg_schema}.fduck_online_views WHERE view_key = 'stats@1'")
    _sql(pg_dsn, f"INSERT INTO {pg_schema}.online_features SELECT 'stats', g::text, "
                 "jsonb_build_object('clicks', g * 2, 'score', g / 2.0, 'gen', 7, 'feature_ts', '2024-05-01 00:00:00') "
                 "FROM generate_series(1, 300) AS g")
    _sql(pg_dsn, f"INSERT INTO {pg_schema}.online_features VALUES ('devices', '[1,\"ios\"]', '{{\"seen\": 99}}')")
    for _ in range(2):  # safe to run twice
        result = fduck("online", "migrate", "--project-dir", str(pg_online))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "stats@1: 300 rows in online_features, 300 of their entities in the view's table" in result.stdout
        assert "devices@1: 1 row in online_features, 1 of their entities" in result.stdout
    assert _sql(pg_dsn, f"SELECT count(*), sum(clicks), min(gen) FROM {pg_schema}.online_stats") == [(300, 90300, 7)]
    assert _sql(pg_dsn, f"SELECT seen FROM {pg_schema}.online_devices WHERE entity_key = '[1,\"ios\"]'") == [(5,)]  # newer kept
    assert _sql(pg_dsn, f"SELECT count(*) FROM {pg_schema}.online_features") == [(301,)]  # left in place
    _sql(pg_dsn, f"CREATE TABLE {pg_schema}.empty_features (feature_view text, entity_key text, features jsonb)")
    nothing = fduck("online", "migrate", "--from-table", "empty_features", "--project-dir", str(pg_online))
    assert nothing.returncode == 0 and "Nothing to migrate: empty_features holds no rows of the online feature views" in nothing.stdout
    assert Project.load(pg_online).get_online_features("stats", [300])[0]["features"] == {"clicks": 600, "score": 150.0, "gen": 7}
    # materializing goes on from the migrated rows: those stamped later than the offline ones stay, --full replaces all
    assert fduck("materialize", "--project-dir", str(pg_online), "--select", "stats").returncode == 0
    assert [a["features"]["gen"] for a in Project.load(pg_online).get_online_features("stats", [7, 0])] == [7, 1]
    assert fduck("materialize", "--project-dir", str(pg_online), "--select", "stats", "--full").returncode == 0
    answers = Project.load(pg_online).get_online_features("stats", [7, 300])
    assert answers[0]["features"]["gen"] == 1 and answers[1]["features"] is None


def test_versions_live_in_separate_tables(pg_online: Path, pg_dsn: str, pg_schema: str) -> None:
    """stats@2 beside stats@1: its own table; the plain name serves the newest version."""
    features = pg_online / "features" / "f.yml"
    features.write_text(features.read_text() + (
        "  - name: stats\n    version: 2\n    entity: user\n    model: stats_v2\n    timestamp_field: ts\n    online: true\n"
        "    features: [{name: clicks, dtype: bigint}]\n"
    ))
    (pg_online / "models" / "stats_v2.sql").write_text(
        "{{ config(materialized='table') }} select user_id, ts, clicks * 100 as clicks from {{ ref('stats') }}"
    )
    assert fduck("run", "--project-dir", str(pg_online)).returncode == 0
    result = fduck("materialize", "--project-dir", str(pg_online), "--select", "stats")
    assert "stats@1: 0 rows" in result.stdout and "stats@2: 50 rows (full)" in result.stdout, result.stdout
    tables = _sql(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'online_stats%%' ORDER BY 1",
                  [pg_schema])
    assert tables == [("online_stats",), ("online_stats_v2",)]
    project = Project.load(pg_online)
    assert project.get_online_features("stats", [7])[0]["features"] == {"clicks": 7200}
    assert project.get_online_features("stats@1", [7])[0]["features"] == {"clicks": 72, "score": 2.25, "gen": 1}
