"""A dbt-duckdb project, unchanged, through `fduck seed`, `run` and `test`; the tables are
the ones dbt-duckdb builds (benchmarks/compare_dbt.py shows it side by side with dbt).
dbt features featureduck does not apply are errors naming them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import FIXTURES, fduck


@pytest.fixture
def parity(tmp_path: Path) -> Path:
    root = tmp_path / "parity"
    shutil.copytree(FIXTURES / "dbt_parity", root)
    return root


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "parity.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_a_dbt_project_seeds_runs_and_tests_unchanged(parity: Path) -> None:
    for command in ("seed", "run", "test"):
        result = fduck(command, "--project-dir", str(parity))
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    # seeds typed as dbt-duckdb types them: whole numbers INTEGER, the project's column_types applied
    assert _rows(parity, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'raw_orders' "
                         "ORDER BY ordinal_position") == [
        ("id", "INTEGER"), ("customer_id", "INTEGER"), ("country_code", "VARCHAR"), ("amount_cents", "INTEGER"),
        ("status", "VARCHAR"), ("ordered_at", "TIMESTAMP")]
    # set/for blocks, the macro, the var from the project's own scope, the custom schema
    assert _rows(parity, "SELECT * FROM main.orders_by_country ORDER BY country_code") == [
        ("DE", "EU", 2, 0, 2, 0, 92.5), ("FR", "EU", 2, 0, 1, 1, 77.6), ("JP", "APAC", 1, 0, 1, 0, 30.0), ("US", "NA", 2, 1, 1, 0, 1044.0)]
    assert _rows(parity, "SELECT count(*) FROM main.stg_orders WHERE is_big") == [(3,)]
    assert _rows(parity, "SELECT * FROM main_finance.revenue ORDER BY region") == [("APAC", 30.0, 1), ("EU", 164.5, 3), ("NA", 999.0, 1)]
    assert _rows(parity, "SELECT table_type FROM information_schema.tables WHERE table_name = 'stg_orders'") == [("VIEW",)]
    manifest = json.loads((parity / "target" / "manifest.json").read_text())
    columns = manifest["nodes"]["model.parity.stg_orders"]["columns"]
    assert columns["status"]["description"] == "Where an order is: `placed`, `completed` or `returned`."  # {{ doc() }}


@pytest.mark.parametrize(("change", "message"), [
    (("dbt_project.yml", "quoting:\n  identifier: true\n"), "dbt's `quoting` (quoting configs) is not supported"),
    (("packages.yml", "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"),
     "packages.yml:2: package dbt-labs/dbt_utils (1.3.0) is not installed in dbt_packages/"),
])
def test_dbt_project_features_featureduck_lacks_are_named(parity: Path, change: tuple[str, str], message: str) -> None:
    path = parity / change[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + change[1])
    result = fduck("run", "--project-dir", str(parity))
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_dbt_model_configs_featureduck_lacks_fail_the_model(parity: Path) -> None:
    model = parity / "models" / "marts" / "finance" / "revenue.sql"
    original = model.read_text()
    model.write_text("{{ config(grants={'select': ['reporter']}) }}\n" + original)
    assert fduck("seed", "--project-dir", str(parity)).returncode == 0
    result = fduck("run", "--project-dir", str(parity))
    assert result.returncode == 1
    assert "models/marts/finance/revenue.sql: dbt's `grants` config (grants) is not supported by featureduck" in result.stdout
    # a hook is run, and DuckDB's answer to a statement it lacks fails the model, naming the hook (as in dbt-duckdb)
    model.write_text("{{ config(post_hook='grant select on {{ this }} to reporter') }}\n" + original)
    result = fduck("run", "--project-dir", str(parity))
    assert result.returncode == 1
    assert "post-hook 1 of model 'revenue' failed" in result.stdout


def test_an_unknown_doc_names_the_file(parity: Path) -> None:
    schema = parity / "models" / "schema.yml"
    schema.write_text(schema.read_text().replace("doc('order_status')", "doc('order_statuses')"))
    result = fduck("compile", "--project-dir", str(parity))
    assert result.returncode == 2
    assert "models/schema.yml: unknown doc 'order_statuses'" in result.stderr and "order_status" in result.stderr
