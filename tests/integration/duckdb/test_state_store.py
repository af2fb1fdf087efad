"""The state store: one `node_runs` table with a row per node of every run."""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT, fduck


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The repository's example project: CSV sources, an ephemeral, a feature view."""
    root = tmp_path / "example"
    root.mkdir()
    for part in ("featureduck_project.yml", "models", "macros", "sources", "features", "data"):
        (shutil.copytree if (REPO_ROOT / part).is_dir() else shutil.copy)(REPO_ROOT / part, root / part)
    return root


def _query(root: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_a_run_keeps_builds_timings_and_tie_checks_in_one_table(example: Path) -> None:
    first = fduck("run", "--project-dir", str(example))
    assert first.returncode == 0, first.stdout + first.stderr
    assert _query(example, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main_featureduck'") == [("node_runs",)]
    rows = _query(example, "SELECT unique_id, status, details->>'materialized', details->>'sql_checksum' IS NOT NULL, "
                           "details->>'fingerprint' IS NOT NULL, CAST(details->>'seconds' AS DOUBLE) > 0 "
                           "FROM main_featureduck.node_runs ORDER BY unique_id")
    assert rows == [
        ("model.featureduck_example.stg_events", "success", "view", True, True, True),
        ("model.featureduck_example.stg_users", "success", "view", True, True, True),
        ("model.featureduck_example.user_activity_daily", "success", "table", True, True, True),
        ("model.featureduck_example.user_purchases", "success", "incremental", True, True, True),
        ("user_activity@1", "no_ties", None, True, True, None),  # checked at the model's fingerprint
    ]
    fduck("run", "--project-dir", str(example))
    runs = _query(example, "SELECT recorded_at, count(*) FILTER (status = 'cached'), count(*) FROM main_featureduck.node_runs "
                           "WHERE details->>'seconds' IS NOT NULL GROUP BY recorded_at ORDER BY recorded_at")
    assert [(cached, total) for _, cached, total in runs] == [(0, 4), (4, 4)]
    listed = fduck("runs", "--project-dir", str(example))
    built_cached_errors = re.findall(r"│ (\d+)\s+│ (\d+)\s+│ (\d+)\s+│ [\d.]+s", listed.stdout)
    assert built_cached_errors == [("0", "4", "0"), ("4", "0", "0")], listed.stdout  # newest run first
    # the tie check is read back against the build in place: a training set may skip the tie ranking
    checked = _query(example, "SELECT (t.details->>'sql_checksum') = (b.details->>'sql_checksum') FROM main_featureduck.node_runs t "
                              "JOIN main_featureduck.node_runs b ON b.unique_id LIKE '%.user_activity_daily' AND b.status = 'success' "
                              "AND b.recorded_at = t.recorded_at WHERE t.status = 'no_ties'")
    assert checked == [(True,)]


@pytest.mark.slow
def test_builds_recorded_before_node_runs_are_carried_over(example: Path) -> None:
    database = example / "target" / "dev.duckdb"
    database.parent.mkdir()
    with duckdb.connect(str(database)) as con:  # the state store as versions before node_runs wrote it
        con.execute("CREATE SCHEMA main_featureduck")
        con.execute("CREATE TABLE main_featureduck.relations (unique_id VARCHAR, relation VARCHAR, materialized VARCHAR, "
                    "sql_checksum VARCHAR, built_at TIMESTAMP, rows_affected BIGINT)")
        con.execute("INSERT INTO main_featureduck.relations VALUES "
                    "('model.old.gone', 'main.gone', 'table', 'old', TIMESTAMP '2024-01-01 00:00:00', 6), "
                    "('model.old.gone', 'main.gone', 'table', 'abc', TIMESTAMP '2024-01-02 03:04:05', 7)")
    result = fduck("run", "--project-dir", str(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert _query(example, "SELECT status, recorded_at, details->>'relation', details->>'materialized', details->>'sql_checksum', "
                           "CAST(details->>'rows_affected' AS INT), details->>'seconds' "
                           "FROM main_featureduck.node_runs WHERE unique_id = 'model.old.gone'") == [
        ("success", datetime.datetime(2024, 1, 2, 3, 4, 5), "main.gone", "table", "abc", 7, None)
    ]
    again = fduck("run", "--project-dir", str(example))  # copied once, not again
    assert again.returncode == 0
    assert _query(example, "SELECT count(*) FROM main_featureduck.node_runs WHERE unique_id = 'model.old.gone'") == [(1,)]
