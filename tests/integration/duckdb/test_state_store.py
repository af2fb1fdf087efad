"""The state store: one `node_runs` table with a row per node of every run."""

from __future__ import annotations

import datetime
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


def test_a_run_keeps_builds_timings_and_tie_checks_in_one_table(example: Path) -> None:
    first = fduck("run", "--project-dir", str(example))
    assert first.returncode == 0, first.stdout + first.stderr
    assert _query(example, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main_featureduck'") == [("node_runs",)]
    rows = _query(example, "SELECT name, materialized, status, sql_checksum IS NOT NULL, fingerprint IS NOT NULL, seconds > 0 "
                           "FROM main_featureduck.node_runs ORDER BY name")
    assert rows == [
        ("stg_events", "view", "success", True, True, True),
        ("stg_users", "view", "success", True, True, True),
        ("user_activity@1", "tie_check", "no_ties", True, False, None),
        ("user_activity_daily", "table", "success", True, True, True),
        ("user_purchases", "incremental", "success", True, True, True),
    ]
    fduck("run", "--project-dir", str(example))
    runs = _query(example, "SELECT run_id, count(*) FILTER (status = 'cached'), count(*) FROM main_featureduck.node_runs "
                           "WHERE seconds IS NOT NULL GROUP BY run_id ORDER BY run_id")
    assert [(cached, total) for _, cached, total in runs] == [(0, 4), (4, 4)]
    # the tie check is read back against the build in place: a training set may skip the tie ranking
    checked = _query(example, "SELECT t.sql_checksum = b.sql_checksum FROM main_featureduck.node_runs t "
                              "JOIN main_featureduck.node_runs b ON b.name = 'user_activity_daily' AND b.status = 'success' "
                              "WHERE t.materialized = 'tie_check'")
    assert checked == [(True,)]


def test_builds_recorded_before_node_runs_are_carried_over(example: Path) -> None:
    database = example / "target" / "dev.duckdb"
    database.parent.mkdir()
    with duckdb.connect(str(database)) as con:  # the state store as versions before node_runs wrote it
        con.execute("CREATE SCHEMA main_featureduck")
        con.execute("CREATE TABLE main_featureduck.relations (unique_id VARCHAR, relation VARCHAR, materialized VARCHAR, "
                    "sql_checksum VARCHAR, built_at TIMESTAMP, rows_affected BIGINT)")
        con.execute("INSERT INTO main_featureduck.relations VALUES ('model.old.gone', 'main.gone', 'table', 'abc', "
                    "TIMESTAMP '2024-01-02 03:04:05', 7)")
    result = fduck("run", "--project-dir", str(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert _query(example, "SELECT relation, materialized, status, sql_checksum, recorded_at, rows_affected, seconds "
                           "FROM main_featureduck.node_runs WHERE unique_id = 'model.old.gone'") == [
        ("main.gone", "table", "success", "abc", datetime.datetime(2024, 1, 2, 3, 4, 5), 7, None)
    ]
    again = fduck("run", "--project-dir", str(example))  # copied once, not again
    assert again.returncode == 0
    assert _query(example, "SELECT count(*) FROM main_featureduck.node_runs WHERE unique_id = 'model.old.gone'") == [(1,)]
