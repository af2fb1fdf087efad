"""`fduck snapshot` as a dbt user runs it: what each command builds, selection, errors
that name the snapshot, schema changes, and a failed or killed snapshot leaving the
previous history. tests/integration/cross_engine/test_snapshots.py checks the rows
against a reference on every engine."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import FIXTURES, fduck

HEADER = "id,region,status,amount,updated_at\n"
FIRST = HEADER + "1,north,placed,10,2024-01-01 10:00:00\n2,south,placed,20,2024-01-01 11:00:00\n3,north,shipped,30,2024-01-02 09:00:00\n"
SECOND = HEADER + "1,north,placed,10,2024-01-01 10:00:00\n2,south,shipped,25,2024-01-03 11:00:00\n4,south,placed,40,2024-01-03 12:00:00\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "snaps"
    shutil.copytree(FIXTURES / "dbt_snapshots", root)
    return root


def _ok(*args: str, cwd: Path) -> str:
    result = fduck(*args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "snaps.duckdb"), read_only=True) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def _step(root: Path, rows: str, *args: str) -> str:
    (root / "seeds" / "source_rows.csv").write_text(rows)
    _ok("seed", cwd=root)
    return _ok("snapshot", *args, cwd=root)


def test_snapshot_builds_snapshots_run_builds_models_build_builds_both(project: Path) -> None:
    _ok("seed", cwd=project)
    ran = fduck("run", cwd=project).stdout  # dbt run builds no snapshot: the model reads one not taken yet
    assert "Finished running 1 model " in ran and 'Table with name "main_history.ts_ignore" does not exist' in ran
    taken = _ok("snapshot", cwd=project)
    assert "START snapshot main_history.ts_ignore" in taken and "Finished running 7 snapshots" in taken
    assert "current_orders" not in taken
    results = json.loads((project / "target" / "run_results.json").read_text())
    assert {r["unique_id"] for r in results["results"]} >= {"snapshot.snaps.ts_ignore", "snapshot.snaps.from_yaml"}
    assert "1 ok" in _ok("run", cwd=project)
    built = _ok("build", cwd=project)
    assert "PASS unique_ts_ignore_dbt_scd_id" in built and "PASS not_null_from_yaml_id" in built
    assert "OK snapshotted main_history.ts_ignore" in built and "main.current_orders" in built
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["snapshot.snaps.from_yaml"]
    assert node["resource_type"] == "snapshot" and node["description"] == "dbt 1.9's YAML snapshot"


def test_snapshots_are_selected_listed_and_never_cached(project: Path) -> None:
    _ok("seed", cwd=project)
    assert "Finished running 1 snapshot " in _ok("snapshot", "-s", "ts_ignore", cwd=project)
    assert "Finished running 2 snapshots" in _ok("snapshot", "-s", "path:snapshots/checked", cwd=project)
    listed = _ok("ls", "--resource-type", "snapshot", cwd=project).split()
    assert listed == ["snapshot.snaps.check_all", "snapshot.snaps.check_listed", "snapshot.snaps.from_yaml",
                      "snapshot.snaps.ts_composite_current", "snapshot.snaps.ts_ignore", "snapshot.snaps.ts_invalidate",
                      "snapshot.snaps.ts_new_record"]
    assert _ok("ls", "-s", "resource_type:snapshot,ts_ignore+", cwd=project).split() == ["snapshot.snaps.ts_ignore"]
    again = _ok("snapshot", "-s", "ts_ignore", cwd=project)
    assert "cached" not in again.lower() and "OK snapshotted" in again  # a snapshot's rows depend on when it runs
    assert _rows(project, "SELECT count(*) FROM main_history.ts_ignore") == [(3,)]


def test_changes_close_versions_and_open_new_ones(project: Path) -> None:
    _step(project, FIRST)
    _step(project, SECOND)
    assert _rows(project, "SELECT id, status, dbt_valid_from, dbt_valid_to IS NULL FROM main_history.ts_ignore") == sorted([
        (1, "placed", _at("2024-01-01 10:00:00"), True), (2, "placed", _at("2024-01-01 11:00:00"), False),
        (2, "shipped", _at("2024-01-03 11:00:00"), True), (3, "shipped", _at("2024-01-02 09:00:00"), True),
        (4, "placed", _at("2024-01-03 12:00:00"), True)], key=repr)
    # invalidate: the deleted row's version is closed; new_record: and a deletion version opened
    assert _rows(project, "SELECT id, dbt_valid_to IS NULL FROM main_history.ts_invalidate WHERE id = 3") == [(3, False)]
    assert _rows(project, "SELECT id, dbt_is_deleted, dbt_valid_to IS NULL FROM main_history.ts_new_record WHERE id = 3") == [
        (3, "False", False), (3, "True", True)]
    # renamed meta columns; dbt_valid_to_current in place of null
    assert _rows(project, "SELECT count(*) FROM main_checks.check_all WHERE valid_to IS NULL") == [(3,)]
    assert _rows(project, "SELECT count(*) FROM main_history.ts_composite_current WHERE dbt_valid_to = TIMESTAMP '9999-12-31'") == [(4,)]


def _at(text: str) -> Any:
    import datetime

    return datetime.datetime.fromisoformat(text)


def test_a_new_source_column_is_added_and_the_check_strategy_versions_every_row(project: Path) -> None:
    _step(project, FIRST, "-s", "check_all ts_ignore")
    (project / "dbt_project.yml").write_text((project / "dbt_project.yml").read_text().replace(
        "amount: integer,", "amount: integer, channel: varchar,"))
    _step(project, FIRST.replace("updated_at\n", "updated_at,channel\n").replace(":00\n", ":00,web\n"), "-s", "check_all ts_ignore")
    with duckdb.connect(str(project / "snaps.duckdb"), read_only=True) as con:
        columns = [c[0] for c in con.execute("DESCRIBE main_checks.check_all").fetchall()]
    assert columns[-1] == "channel" and columns.index("valid_to") < columns.index("channel")
    # dbt: a column new to the check strategy's columns changes every row
    assert _rows(project, "SELECT id, channel, valid_to IS NULL FROM main_checks.check_all") == sorted([
        (1, None, False), (2, None, False), (3, None, False), (1, "web", True), (2, "web", True), (3, "web", True)], key=repr)
    assert _rows(project, "SELECT count(*), count(channel) FROM main_history.ts_ignore") == [(3, 0)]


@pytest.mark.parametrize(("config", "message"), [
    ("unique_key='id', updated_at='updated_at'", "snapshot 'broken': it has no strategy"),
    ("unique_key='id', strategy='fancy'", "strategy 'fancy' is not supported by featureduck"),
    ("unique_key='id', strategy='timestamp'", "the timestamp strategy needs updated_at"),
    ("unique_key='id', strategy='check'", "the check strategy needs check_cols"),
    ("strategy='check', check_cols='all'", "it has no unique_key"),
    ("unique_key='id', strategy='check', check_cols='all', hard_deletes='purge'", "hard_deletes 'purge' is not one of"),
    ("unique_key='id', strategy='check', check_cols='all', hard_deletes='invalidate', invalidate_hard_deletes=true",
     "both invalidate_hard_deletes and hard_deletes"),
])
def test_a_snapshot_dbt_would_refuse_is_a_compile_error_naming_it(project: Path, config: str, message: str) -> None:
    (project / "snapshots" / "broken.sql").write_text(
        f"\n{{% snapshot broken %}}\n{{{{ config({config}) }}}}\nselect * from {{{{ ref('source_rows') }}}}\n{{% endsnapshot %}}\n")
    result = fduck("compile", cwd=project)
    assert result.returncode != 0
    assert "snapshots/broken.sql" in result.stdout + result.stderr and message in result.stdout + result.stderr


def test_an_unclosed_block_and_a_bad_yaml_relation_name_their_file(project: Path) -> None:
    (project / "snapshots" / "open.sql").write_text("select 1\n\n{% snapshot open %}\nselect 1\n")
    result = fduck("compile", cwd=project)
    assert "snapshots/open.sql:3: a `{% snapshot name %}` block without its `{% endsnapshot %}`" in result.stdout + result.stderr
    (project / "snapshots" / "open.sql").unlink()
    (project / "snapshots" / "more.yml").write_text("snapshots:\n  - name: bad\n    relation: orders\n")
    result = fduck("compile", cwd=project)
    assert "snapshots/more.yml:2: snapshot 'bad': relation must be ref('...') or source('...', '...')" in result.stdout + result.stderr


def test_a_duplicate_or_null_key_fails_the_snapshot_and_keeps_the_history(project: Path) -> None:
    _step(project, FIRST, "-s", "ts_ignore")
    before = _rows(project, "SELECT * FROM main_history.ts_ignore")
    for rows, what in ((SECOND + "2,south,returned,25,2024-01-04 11:00:00\n", "unique_key 2 is held by 2 rows"),
                       (SECOND + ",south,returned,25,2024-01-04 11:00:00\n", "unique_key None is null")):
        (project / "seeds" / "source_rows.csv").write_text(rows)
        _ok("seed", cwd=project)
        result = fduck("snapshot", "-s", "ts_ignore", cwd=project)
        assert result.returncode == 1 and what in result.stdout, result.stdout
        assert _rows(project, "SELECT * FROM main_history.ts_ignore") == before


def test_a_failed_or_killed_snapshot_leaves_the_previous_history(project: Path) -> None:
    _step(project, FIRST, "-s", "ts_ignore")
    before = _rows(project, "SELECT * FROM main_history.ts_ignore")
    legacy = project / "snapshots" / "legacy" / "timestamped.sql"
    original = legacy.read_text()
    first = "select * from {{ ref('source_rows') }}"  # ts_ignore's query: the file's first
    legacy.write_text(original.replace(first, "select *, error('no') as broken from {{ ref('source_rows') }}", 1))
    (project / "seeds" / "source_rows.csv").write_text(SECOND)
    _ok("seed", cwd=project)
    failed = fduck("snapshot", "-s", "ts_ignore", cwd=project)
    assert failed.returncode == 1 and "ERROR building snapshot main_history.ts_ignore" in failed.stdout
    assert _rows(project, "SELECT * FROM main_history.ts_ignore") == before
    # slow enough to be killed while it builds: the kill leaves the history as it was
    legacy.write_text(original.replace(first, first + " where (select sum(hash(i)) from range(4000000000) t(i)) <> 0", 1))
    process = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "snapshot", "-s", "ts_ignore"], cwd=project,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "START snapshot" in line:
            break
    time.sleep(1.5)
    assert process.poll() is None, "the snapshot ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _rows(project, "SELECT * FROM main_history.ts_ignore") == before
    legacy.write_text(original)
    _ok("snapshot", "-s", "ts_ignore", cwd=project)
    assert len(_rows(project, "SELECT * FROM main_history.ts_ignore")) == 5


def test_backups_keep_and_restore_a_snapshot(project: Path) -> None:
    _step(project, FIRST, "-s", "ts_ignore")
    _step(project, SECOND, "-s", "ts_ignore")
    history = _rows(project, "SELECT * FROM main_history.ts_ignore")
    _ok("backup", "-s", "ts_ignore", cwd=project)
    with duckdb.connect(str(project / "snaps.duckdb")) as con:
        con.execute("DELETE FROM main_history.ts_ignore")
    restored = _ok("restore", "-s", "ts_ignore", cwd=project)
    assert "ts_ignore -> main_history.ts_ignore: 5 rows" in restored
    assert _rows(project, "SELECT * FROM main_history.ts_ignore") == history


def test_a_yaml_snapshot_of_a_source_and_an_interrupted_swap(project: Path) -> None:
    (project / "models" / "sources.yml").write_text(
        "sources:\n  - name: raw\n    schema: main\n    tables:\n      - name: source_rows\n")
    (project / "snapshots" / "more.yml").write_text(
        "snapshots:\n  - name: of_source\n    relation: source('raw', 'source_rows')\n"
        "    config: {unique_key: id, strategy: check, check_cols: [status]}\n")
    _step(project, FIRST, "-s", "of_source")
    assert _rows(project, "SELECT id, status FROM main.of_source") == [(1, "placed"), (2, "placed"), (3, "shipped")]
    # a history missing beside the newer one an engine without transactions was swapping in: named, not started afresh
    with duckdb.connect(str(project / "snaps.duckdb")) as con:
        con.execute("ALTER TABLE main.of_source RENAME TO of_source__fduck_tmp")
    result = fduck("snapshot", "-s", "of_source", cwd=project)
    assert result.returncode == 1
    assert "there is no history table but a newer one is at main.of_source__fduck_tmp" in result.stdout.replace("\n", " ")


def test_tests_are_listed_and_selected_by_name(project: Path) -> None:
    assert _ok("ls", "--resource-type", "test", cwd=project).split() == [
        "test.snaps.not_null_from_yaml_id", "test.snaps.not_null_ts_ignore_dbt_scd_id", "test.snaps.unique_ts_ignore_dbt_scd_id"]
    assert "test.snaps.not_null_from_yaml_id" in _ok("ls", cwd=project).split()  # as dbt ls lists them
    _ok("build", cwd=project)
    one = _ok("test", "-s", "not_null_from_yaml_id", cwd=project)
    assert "PASS not_null_from_yaml_id" in one and "Finished running 1 test " in one
    assert "Finished running 2 tests" in _ok("test", "-s", "ts_ignore", cwd=project)  # a node's tests, as before
    assert _ok("ls", "-s", "+not_null_from_yaml_id", cwd=project).split() == [
        "seed.snaps.source_rows", "snapshot.snaps.from_yaml", "test.snaps.not_null_from_yaml_id"]


def test_a_snapshot_renders_as_a_snapshot_node(tmp_path: Path) -> None:
    from featureduck.api import Project
    from tests.conftest import write_project

    root = write_project(tmp_path / "p", {
        "dbt_project.yml": "name: proj\n",
        "snapshots/s.sql": "{% snapshot s %}{{ config(unique_key='id', strategy='check', check_cols='all') }}\n"
                           "select 1 as id, '{{ model.unique_id }}' as node, '{{ model.resource_type }}' as kind\n{% endsnapshot %}\n",
    })
    sql = Project.load(root).compile().models["s"].sql
    assert "'snapshot.proj.s' AS node" in sql and "'snapshot' AS kind" in sql
