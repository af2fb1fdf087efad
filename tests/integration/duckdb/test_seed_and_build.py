"""`fduck seed`, `Project.load_table` and `fduck build` on real DuckDB, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from featureduck.api import Project
from tests.conftest import ProjectFactory, fduck

STATUSES = "code,label,rank\nplaced,Placed,1\nshipped,Shipped,2\nlost,Lost,3\n"
SEEDS_YML = """seeds:
  - name: statuses
    config: {column_types: {rank: varchar}}
    columns:
      - name: code
        tests: [unique, not_null]
"""
ORDERS = """{{ config(materialized='table') }}
select o.*, s.label from (values (1, 'placed'), (2, 'shipped'), (3, 'lost')) as o(order_id, status)
join {{ ref('statuses') }} as s on s.code = o.status
"""
ORDERS_YML = """models:
  - name: orders
    columns:
      - name: order_id
        tests: [unique]
      - name: status
        tests:
          - accepted_values: {values: [placed, shipped, lost]}
"""
DAILY = "{{ config(materialized='table') }}\nselect status, count(*) as n from {{ ref('orders') }} group by status\n"


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project({
        "seeds/statuses.csv": STATUSES, "seeds/seeds.yml": SEEDS_YML,
        "models/orders.sql": ORDERS, "models/orders.yml": ORDERS_YML, "models/daily.sql": DAILY,
    })


@pytest.mark.slow
def test_seed_loads_typed_tables_and_a_bad_row_names_its_line(project: Path) -> None:
    result = fduck("seed", "--project-dir", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK loaded seed main.statuses" in result.stdout and "[OK 3 rows" in result.stdout
    assert _rows(project, "SELECT code, rank FROM main.statuses ORDER BY code") == [("lost", "3"), ("placed", "1"), ("shipped", "2")]
    assert _rows(project, "SELECT data_type FROM information_schema.columns WHERE table_name = 'statuses' AND column_name = 'rank'") == [
        ("VARCHAR",)]
    (project / "seeds" / "statuses.csv").write_text(STATUSES + "refunded,Refunded,4\n")
    (project / "seeds" / "seeds.yml").write_text(SEEDS_YML.replace("rank: varchar", "rank: integer"))
    (project / "seeds" / "statuses.csv").write_text(STATUSES + "refunded,Refunded,fourth\n")
    result = fduck("seed", "--project-dir", str(project), "--full-refresh")
    assert result.returncode == 1
    assert "seeds/statuses.csv:5: seed 'statuses': Original Line: refunded,Refunded,fourth" in result.stdout
    assert 'Could not convert string "fourth"' in result.stdout
    assert _rows(project, "SELECT count(*) FROM main.statuses") == [(3,)]  # the previous table is intact


def test_load_table_takes_pandas_arrow_and_files(project: Path, tmp_path: Path) -> None:
    loaded = Project.load(project)
    assert loaded.load_table("frame", pd.DataFrame({"a": [1, 2, 3]})) == 3
    assert loaded.load_table("arrow", pa.table({"b": ["x", "y"]}), schema="raw") == 2
    csv = tmp_path / "rows.csv"
    csv.write_text("c,d\n1,2\n3,4\n")
    assert loaded.load_table("from_csv", csv) == 2
    assert _rows(project, "SELECT sum(a) FROM main.frame") == [(6,)]
    assert _rows(project, "SELECT b FROM raw.arrow ORDER BY b") == [("x",), ("y",)]
    assert _rows(project, "SELECT c + d FROM main.from_csv ORDER BY 1") == [(3,), (7,)]


def test_build_seeds_runs_and_tests_in_dag_order(project: Path) -> None:
    result = fduck("build", "--project-dir", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    # the name before the dots of each START line: seeds, models and tests in the order they began
    order = [
        next(t for t, after in zip(tokens, tokens[1:], strict=False) if after.startswith("..."))
        for tokens in (line.split() for line in result.stdout.splitlines() if " START " in line)
    ]
    assert order.index("main.statuses") < order.index("unique_statuses_code") < order.index("main.orders")
    assert order.index("main.orders") < order.index("unique_orders_order_id") < order.index("main.daily")
    assert _rows(project, "SELECT * FROM main.daily ORDER BY status") == [("lost", 1), ("placed", 1), ("shipped", 1)]
    assert "Finished running 4 tests" in result.stdout and "4 pass, 0 warn, 0 fail, 0 error" in result.stdout


@pytest.mark.slow
def test_a_failing_test_skips_the_dependents_of_what_it_tests(project: Path) -> None:
    (project / "models" / "orders.yml").write_text(ORDERS_YML.replace("[placed, shipped, lost]", "[placed, shipped]"))
    result = fduck("build", "--project-dir", str(project))
    assert result.returncode == 1
    assert "FAIL 1 accepted_values_orders_status__placed__shipped" in result.stdout
    assert "SKIP main.daily" in result.stdout
    assert _rows(project, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'daily'") == [(0,)]
    # a failing seed test holds back every model downstream of the seed
    (project / "seeds" / "statuses.csv").write_text(STATUSES + "lost,Lost again,4\n")
    result = fduck("build", "--project-dir", str(project), "--select", "statuses+")
    assert result.returncode == 1
    assert "FAIL 1 unique_statuses_code" in result.stdout and "SKIP main.orders" in result.stdout
    assert "START table model main.orders" not in result.stdout
    selected = fduck("build", "--project-dir", str(project), "--select", "daily")
    assert "START seed" not in selected.stdout and "START table model main.daily" in selected.stdout


def test_build_orders_tests_as_dbt_does(make_project: ProjectFactory) -> None:
    """A `models:` entry naming a seed describes the seed; a singular test reading an
    ephemeral model waits for what it inlines; a failing singular test holds back the
    dependents of what it reads (dbt's build, found by benchmarks/compare_adapter_suites.py)."""
    root = make_project({
        "seeds/statuses.csv": STATUSES,
        "seeds/schema.yml": "models:\n  - name: statuses\n    columns:\n      - name: code\n        data_tests: [not_null]\n",
        "models/eph.sql": "{{ config(materialized='ephemeral') }} select * from {{ ref('statuses') }}",
        "models/ranked.sql": "select code from {{ ref('statuses') }}",
        "models/after_ranked.sql": "select * from {{ ref('ranked') }}",
        "tests/eph_has_rows.sql": "select 1 as bad from (select count(*) as n from {{ ref('eph') }}) as t where n = 0",
        "tests/ranked_is_empty.sql": "select * from {{ ref('ranked') }}",
    })
    fduck("build", cwd=root)
    results = {r["unique_id"]: r["status"] for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert results["test.proj.not_null_statuses_code"] == "pass"
    assert results["test.proj.eph_has_rows"] == "pass"
    assert results["test.proj.ranked_is_empty"] == "fail"
    assert results["model.proj.after_ranked"] == "skipped"


def test_a_failing_singular_test_of_an_ephemeral_model_holds_back_its_children(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/base.sql": "{{ config(materialized='table') }}\nselect 1 as id union all select 2",
        "models/thin.sql": "{{ config(materialized='ephemeral') }}\nselect id from {{ ref('base') }}",
        "models/over_thin.sql": "select * from {{ ref('thin') }}",
        "models/beside.sql": "select * from {{ ref('base') }}",
        "tests/no_twos.sql": "select * from {{ ref('thin') }} where id = 2",
    })
    assert fduck("build", cwd=root).returncode == 1
    results = {r["unique_id"]: r for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert results["test.proj.no_twos"]["status"] == "fail"
    # as dbt: the ephemeral's children are held back, its parent's other children are not
    assert results["model.proj.over_thin"]["status"] == "skipped"
    assert "test no_twos of an ephemeral model it reads failed" in results["model.proj.over_thin"]["message"]
    assert results["model.proj.beside"]["status"] == "success" and results["model.proj.base"]["status"] == "success"
