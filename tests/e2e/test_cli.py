"""`fduck` driven as a user would, in subprocesses, on real DuckDB files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES, OFFLINE_PROFILES, REPO_ROOT, ProjectFactory, copy_example_project, fduck


def test_init_then_run_builds_the_starter_project(tmp_path: Path) -> None:
    created = fduck("init", "demo", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "demo"
    assert "name: demo" in (project / "featureduck_project.yml").read_text()
    ran = fduck("run", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "4 ok, 0 error, 0 skipped" in ran.stdout
    assert "START table model main.customers" in ran.stdout
    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from customers").fetchone() == (5,)
        assert con.execute("select count(*) from customer_order_features where orders_7d >= orders").fetchone()[0] > 0
    assert fduck("init", "demo", cwd=tmp_path).returncode == 2  # never overwrites


@pytest.mark.slow
def test_repository_root_example_project_runs(tmp_path: Path) -> None:
    copy = copy_example_project(tmp_path / "example")
    ran = fduck("run", cwd=copy)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    cached = fduck("run", "-s", "user_purchases", cwd=copy)
    assert cached.returncode == 0 and "1 of 1 CACHED incremental model main.user_purchases" in cached.stdout
    again = fduck("run", "-s", "user_purchases", "--no-cache", cwd=copy)
    assert again.returncode == 0 and "merge into incremental table" in again.stdout
    with duckdb.connect(str(copy / "target" / "dev.duckdb"), read_only=True) as con:
        purchases = con.execute("select count(*), count(distinct event_id) from user_purchases").fetchone()
        assert purchases[0] == purchases[1] > 0
        assert con.execute("select max(purchases_7d) from user_activity_daily").fetchone()[0] >= 1


@pytest.mark.slow
def test_dbt_project_compiles_and_runs_unchanged(tmp_path: Path) -> None:
    project = tmp_path / "jaffle"
    shutil.copytree(FIXTURES / "dbt_jaffle", project)
    compiled = fduck("compile", cwd=project)
    assert compiled.returncode == 0, compiled.stderr
    ran = fduck("run", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    with duckdb.connect(str(project / "target" / "jaffle.duckdb"), read_only=True) as con:
        rows = con.execute("select order_id, credit_card_amount, coupon_amount, amount from orders order by 1").fetchall()
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
    assert [(r[0], float(r[1]), float(r[2]), float(r[3])) for r in rows] == [(1, 10.0, 0.0, 10.0), (2, 7.5, 2.5, 10.0), (3, 0.0, 0.0, 12.0)]
    assert kinds["stg_orders"] == "VIEW" and kinds["orders"] == "BASE TABLE"
    listed = fduck("ls", "-s", "tag:nightly", cwd=project)
    assert listed.stdout.split() == ["model.jaffle.orders"]


@pytest.mark.slow
def test_compile_exit_codes_and_error_messages(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1 as x", "models/b.sql": "select * from {{ ref('aa') }}"})
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1
    assert "models/b.sql:1: unknown ref 'aa'" in result.stderr and "did you mean 'a'?" in result.stderr
    assert "Traceback" not in result.stderr
    (root / "models" / "b.sql").write_text("select * from {{ ref('a') }}")
    ok = fduck("compile", "--project-dir", str(root))
    assert ok.returncode == 0 and "Compiled 2 models" in ok.stdout
    cached = fduck("compile", "--project-dir", str(root))
    assert "(cached)" in cached.stdout


def test_invalid_project_exits_2_naming_file_and_line(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1", "models/schema.yml": "models:\n  - name: a\n    colums: []\n"})
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 2
    assert "models/schema.yml:3: unknown key 'models.0.colums'" in result.stderr
    assert "did you mean 'columns'?" in result.stderr


def test_cycle_exits_1_with_path(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select * from {{ ref('b') }}", "models/b.sql": "select * from {{ ref('a') }}"})
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1 and "dependency cycle: model.proj." in result.stderr


def test_run_exit_code_and_skips(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/a.sql": "select 1 as x",
        "models/bad.sql": "select nope from {{ ref('a') }}",
        "models/child.sql": "select * from {{ ref('bad') }}",
    })
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 1
    assert "1 ok, 1 error, 1 skipped" in result.stdout
    assert "Failure in model bad" in result.stdout and "nope" in result.stdout
    assert fduck("run", "--project-dir", str(root), "-s", "a").returncode == 0


def test_missing_env_var_in_profile(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/a.sql": "select 1",
        "profiles.yml": (
            "default:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            "      path: \"{{ env_var('FD_NO_SUCH_VAR') }}\"\n"
        ),
    })
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 2
    assert "profiles.yml:6: env var 'FD_NO_SUCH_VAR' is not set" in result.stderr


@pytest.mark.slow
def test_ls_selectors_and_state_modified(make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project({
        "featureduck_project.yml": "name: proj\nmodels:\n  marts: {+tags: [daily]}\n",
        "models/staging/s.sql": "select 1 as x",
        "models/marts/m.sql": "select * from {{ ref('s') }}",
        "models/marts/n.sql": "select 2 as y",
    })
    assert fduck("ls", "--project-dir", str(root), "-s", "+m").stdout.split() == ["model.proj.m", "model.proj.s"]
    assert fduck("ls", "--project-dir", str(root), "-s", "tag:daily", "--exclude", "n").stdout.split() == ["model.proj.m"]
    assert fduck("ls", "--project-dir", str(root), "-s", "path:models/staging").stdout.split() == ["model.proj.s"]
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(root / "target" / "manifest.json", state / "manifest.json")
    (root / "models" / "staging" / "s.sql").write_text("select 2 as x")
    modified = fduck("ls", "--project-dir", str(root), "-s", "state:modified+", "--state", str(state))
    assert modified.stdout.split() == ["model.proj.m", "model.proj.s"]
    as_json = fduck("ls", "--project-dir", str(root), "-s", "m", "--output", "json")
    record = json.loads(as_json.stdout)
    assert record["materialized"] == "view" and record["tags"] == ["daily"]


def test_locked_database_is_a_clear_error(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1 as x"})
    database = root / "target" / "dev.duckdb"
    database.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(database)!r}); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = fduck("run", "--project-dir", str(root))
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert "is locked by another process" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_debug_and_clean(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1 as x"})
    debug = fduck("debug", "--project-dir", str(root))
    assert debug.returncode == 0 and "connection: OK" in debug.stdout and "duckdb 1.5.5" in debug.stdout
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    assert (root / "target" / "compiled").is_dir()
    clean = fduck("clean", "--project-dir", str(root))
    assert clean.returncode == 0
    assert not (root / "target" / "compiled").exists() and (root / "target" / "dev.duckdb").exists()
    assert fduck("clean", "--all", "--project-dir", str(root)).returncode == 0
    assert not (root / "target").exists()


def test_unknown_target_exits_2(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1"})
    result = fduck("run", "--project-dir", str(root), "--target", "prod")
    assert result.returncode == 2 and "target 'prod'" in result.stderr


@pytest.mark.slow
def test_ls_views_and_materialized_views_with_state(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/base.sql": "{{ config(materialized='table') }} select 1 as id",
        "models/v.sql": "select id from {{ ref('base') }}",
        "models/mv.sql": "{{ config(materialized='materialized_view') }} select count(*) as n from {{ ref('v') }}",
    })
    before = fduck("ls", "--project-dir", str(root), "--resource-type", "view", "--output", "json")
    assert json.loads(before.stdout)["state"] == "not built"
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    listed_views = fduck("ls", "--project-dir", str(root), "--resource-type", "view", "--output", "json")
    views = [json.loads(line) for line in listed_views.stdout.splitlines()]
    assert [(v["name"], v["state"], v["depends_on"]) for v in views] == [("v", "current", ["model.proj.base"])]
    assert views[0]["last_built"] is not None
    (root / "models" / "mv.sql").write_text("{{ config(materialized='materialized_view') }} select count(*) + 0 as n from {{ ref('v') }}")
    listed = fduck("ls", "--project-dir", str(root), "--resource-type", "materialized_view")
    assert listed.returncode == 0
    assert listed.stdout.split()[0] == "mv" and listed.stdout.split()[-1] == "changed"


@pytest.mark.slow
def test_example_and_template_compile_for_every_target_without_servers(tmp_path: Path) -> None:
    for name, source in (("example", REPO_ROOT), ("template", REPO_ROOT / "project_template")):
        copy = copy_example_project(tmp_path / name, source)
        (copy / "profiles.yml").write_text(OFFLINE_PROFILES)
        for target in ("dev", "pg", "spark"):
            result = fduck("compile", "--target", target, cwd=copy)
            assert result.returncode == 0, f"{name} on {target}: {result.stderr}"
            assert (copy / "target" / "compiled" / target).is_dir()
