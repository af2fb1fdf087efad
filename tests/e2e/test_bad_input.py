"""Bad input gets a clear error naming the file and line, never a traceback or a
silent repair (issue: no silent wrong answers)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, copy_example_project, fduck


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(REPO_ROOT / "project_template", root)
    return root


def _error(root: Path, *args: str) -> str:
    result = fduck(*args, "--project-dir", str(root))
    assert result.returncode != 0, result.stdout
    output = result.stdout + result.stderr
    assert "internal error" not in output and "Traceback" not in output, output
    return output


@pytest.mark.parametrize("relative", [
    "featureduck_project.yml", "models/staging/stg_customers.sql", "macros/cents.sql", "sources/raw.yml",
    "models/marts/schema.yml", "profiles.yml",
])
def test_a_file_that_is_not_utf8_is_named_with_its_line(shop: Path, relative: str) -> None:
    path = shop / relative
    if not path.exists():
        path.write_text("default:\n  outputs:\n    dev: {type: duckdb}\n")
    path.write_bytes(path.read_bytes() + b"\n-- caf\xe9\n")
    line = path.read_bytes().count(b"\n")
    assert f"{relative}:{line}:" in _error(shop, "compile")


def test_folder_configs_are_checked_where_they_are_written(shop: Path) -> None:
    project = shop / "featureduck_project.yml"
    project.write_text("name: starter\nvars: {min_order_amount: 0}\nmodels:\n  +materialized: 7\n")
    assert "featureduck_project.yml:4: 'models.+materialized' must be a text, not 7" in _error(shop, "compile")
    project.write_text("name: starter\nvars: {min_order_amount: 0}\nmodels:\n  marts:\n    +materialized[\n")
    assert "featureduck_project.yml:4: 'models.marts' is neither a config nor a folder" in _error(shop, "compile")
    project.write_text("name: starter\nvars: {min_order_amount: 0}\nmodels:\n  marts:\n    +materialized: tabel\n")
    output = _error(shop, "compile")
    assert output.count("featureduck_project.yml:5: unknown materialization 'tabel'") == 1, output
    assert "did you mean 'table'?" in output


def test_an_empty_list_item_is_a_syntax_error_not_a_repair(shop: Path) -> None:
    model = shop / "models" / "staging" / "stg_customers.sql"
    model.write_text(model.read_text().replace("name,", "name,,"))
    assert "models/staging/stg_customers.sql:3:10: SQL syntax error: an empty item in a list" in _error(shop, "compile")


def test_syntax_errors_speak_sql_not_the_parser(shop: Path) -> None:
    (shop / "models" / "broken.sql").write_text("select 1 as x\nfrom {{ ref('customers') }}\nwhere\n")
    output = _error(shop, "compile")
    assert "models/broken.sql:3" in output and "WHERE is incomplete" in output
    assert "sqlglot" not in output and "Required keyword" not in output


def test_a_dependency_cycle_names_each_file(shop: Path) -> None:
    (shop / "models" / "loop_a.sql").write_text("select * from {{ ref('loop_b') }}\n")
    (shop / "models" / "loop_b.sql").write_text("select * from {{ ref('loop_a') }}\n")
    output = _error(shop, "compile")
    assert "(models/loop_a.sql)" in output and "(models/loop_b.sql)" in output


def test_compile_checks_singular_tests(shop: Path) -> None:
    (shop / "tests").mkdir()
    (shop / "tests" / "orphans.sql").write_text("select * from {{ ref('custmers') }} where 1 = 0\n")
    output = _error(shop, "compile")
    assert "tests/orphans.sql:1: unknown ref 'custmers'" in output and "1 tests failed to compile" in output


@pytest.mark.slow
def test_commands_before_the_first_run_name_what_is_not_built(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "example")
    (root / "entities.csv").write_text("user_id,event_timestamp\n1,2024-03-01\n")
    for command in (["materialize"], ["explain", "user_activity_daily"], ["profile", "user_activity_daily"],
                    ["export", "user_activity_daily", "--out", str(tmp_path / "x.csv")],
                    ["export", "--query", "select * from {{ ref('user_activity_daily') }}", "--out", str(tmp_path / "x.csv")],
                    ["training-set", "--entities", str(root / "entities.csv"), "--features", "user_activity:purchases_7d",
                     "--out", str(tmp_path / "t.csv")]):
        output = _error(root, *command)
        assert "is not built (main." in output and "run `fduck run` first" in output, (command, output)
        assert "Catalog Error" not in output
    result = fduck("test", "--project-dir", str(root))
    assert result.returncode == 1
    assert "model 'user_purchases' is not built (main.user_purchases); run `fduck run` first" in result.stdout


def test_a_closed_pipe_ends_the_listing_quietly(tmp_path: Path) -> None:
    files = {f"models/m{i:04}.sql": "select 1 as x\n" for i in range(2000)}
    root = tmp_path / "wide"
    (root / "models").mkdir(parents=True)
    (root / "featureduck_project.yml").write_text("name: wide\n")
    for relative, text in files.items():
        (root / relative).write_text(text)
    listing = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "ls", "--project-dir", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.readline()
    listing.stdout.close()  # as `| head -1` does
    stderr = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 0 and stderr == ""
