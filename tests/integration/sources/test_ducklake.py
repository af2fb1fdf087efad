"""DuckLake as a source (a lake written by DuckDB itself) and as a target catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from featureduck.engines.extensions import load_extension
from tests.conftest import ProjectFactory, fduck

TOTALS = "{{ config(materialized='table') }}\nselect count(*) as n, sum(amount) as total from {{ source('lake', 'events') }}\n"


def _lake(catalog: Path, data: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_extension(con, "ducklake")
    options = "READ_ONLY" if read_only else f"DATA_PATH '{data}'"
    con.execute(f"ATTACH 'ducklake:{catalog}' AS lake ({options})")
    return con


def _versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [int(row[0]) for row in con.execute("SELECT snapshot_id FROM lake.snapshots() ORDER BY 1").fetchall()]


def _run(root: Path, *args: str) -> None:
    result = fduck("run", "--project-dir", str(root), *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_a_ducklake_source_latest_and_at_a_version(make_project: ProjectFactory, tmp_path: Path) -> None:
    catalog, data = tmp_path / "shop.ducklake", tmp_path / "lake_files"
    with _lake(catalog, data) as con:
        con.execute("CREATE TABLE lake.main.events AS SELECT range AS id, range * 1.0 AS amount, "
                    "TIMESTAMP '2024-01-01' + to_hours(range) AS ts FROM range(10)")
        first = _versions(con)[-1]
        con.execute("INSERT INTO lake.main.events SELECT range, range * 1.0, TIMESTAMP '2024-01-01' + to_hours(range) FROM range(10, 15)")
    sources = (
        "sources:\n  - name: lake\n    type: ducklake\n    connection: \"{{ env_var('SHOP_LAKE') }}\"\n    schema: main\n    tables:\n"
        f"      - name: events\n        timestamp_field: ts\n        incremental: true\n"
        f"      - name: events_then\n        identifier: events\n        version: {first}\n"
    )
    root = make_project({
        "sources/lake.yml": sources,
        "models/totals.sql": TOTALS,
        "models/totals_then.sql": TOTALS.replace("'events'", "'events_then'"),
        "models/copy.sql": "{{ config(materialized='incremental') }}\nselect id, ts from {{ source('lake', 'events') }}\n",
    })
    env = {"SHOP_LAKE": str(catalog)}
    result = fduck("run", "--project-dir", str(root), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _rows(root, "SELECT * FROM main.totals") == [(15, 105.0)]
    assert _rows(root, "SELECT * FROM main.totals_then") == [(10, 45.0)]
    compiled = (root / "target" / "compiled" / "dev" / "models" / "totals_then.sql").read_text()
    assert f"FROM lake.main.events AT (VERSION => {first})" in " ".join(compiled.split())
    unchanged = fduck("run", "--project-dir", str(root), env=env).stdout  # the lake's snapshot has not moved
    assert "0 ok, 3 cached" in unchanged, unchanged
    with _lake(catalog, data) as con:  # the lake moves on; the incremental copy reads only the new rows
        con.execute("INSERT INTO lake.main.events VALUES (15, 15.0, TIMESTAMP '2024-01-01 15:00:00')")
    moved = fduck("run", "--project-dir", str(root), env=env)
    assert moved.returncode == 0 and "CACHED table model main.totals_then" in moved.stdout  # pinned to a version
    assert _rows(root, "SELECT count(*), count(DISTINCT id), max(id) FROM main.copy") == [(16, 16, 15)]
    assert _rows(root, "SELECT * FROM main.totals") == [(16, 120.0)]
    assert _rows(root, "SELECT * FROM main.totals_then") == [(10, 45.0)]


@pytest.mark.slow
def test_a_ducklake_target_commits_each_build_as_a_snapshot(make_project: ProjectFactory) -> None:
    profile = "default:\n  target: lake\n  outputs:\n    lake:\n      type: ducklake\n      catalog: target/dev.ducklake\n"
    model = "{{ config(materialized='table') }}\nselect range as id, {{ var('gen') }} as gen from range(5)\n"
    root = make_project({"profiles.yml": profile, "models/gens.sql": model})
    _run(root, "--vars", "{gen: 1}")
    catalog = root / "target" / "dev.ducklake"
    with _lake(catalog, read_only=True) as con:
        assert con.execute("SELECT DISTINCT gen FROM lake.main.gens").fetchall() == [(1,)]
        after_first = _versions(con)[-1]
    _run(root, "--vars", "{gen: 2}")
    broken = root / "models" / "gens.sql"
    broken.write_text("{{ config(materialized='table') }}\nselect range as id, error('no') as gen from range(5)\n")
    failed = fduck("run", "--project-dir", str(root), "--vars", "{gen: 3}")
    assert failed.returncode == 1
    with _lake(catalog, read_only=True) as con:
        assert con.execute("SELECT DISTINCT gen FROM lake.main.gens").fetchall() == [(2,)]  # the failed build left it
        old = con.execute(f"SELECT DISTINCT gen FROM lake.main.gens AT (VERSION => {after_first})").fetchall()
        assert old == [(1,)]  # time travel to the first run's build


@pytest.mark.slow
def test_test_export_profile_and_explain_read_a_view_over_a_ducklake_source(make_project: ProjectFactory, tmp_path: Path) -> None:
    """test -s, export, export --query, profile and explain attach the lake a view reads, as run does."""
    catalog, data = tmp_path / "shop.ducklake", tmp_path / "lake_files"
    with _lake(catalog, data) as con:
        con.execute("CREATE TABLE lake.main.events AS SELECT range AS id, range * 1.0 AS amount FROM range(5)")
    root = make_project({
        "sources/lake.yml": "sources:\n  - name: lake\n    type: ducklake\n"
                            f"    connection: \"{catalog}\"\n    schema: main\n    tables:\n      - name: events\n",
        "models/events_view.sql": "{{ config(materialized='view') }}\nselect * from {{ source('lake', 'events') }}\n",
        "models/schema.yml": "models:\n  - name: events_view\n    columns:\n      - name: id\n        tests: [unique]\n",
    })
    _run(root)
    for command in (["test", "-s", "events_view"], ["export", "events_view", "--out", str(tmp_path / "e.csv")],
                    ["export", "--query", "select sum(amount) as total from {{ ref('events_view') }}", "--out", str(tmp_path / "t.csv")],
                    ["profile", "events_view"], ["explain", "events_view"]):
        result = fduck(*command, "--project-dir", str(root))
        assert result.returncode == 0, (command, result.stdout + result.stderr)
    assert (tmp_path / "t.csv").read_text().splitlines() == ["total", "10.0"]
