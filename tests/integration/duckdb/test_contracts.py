"""Model contracts and incremental models' on_schema_change, on real DuckDB through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import ProjectFactory, fduck

CONTRACT = """models:
  - name: orders
    config:
      contract: {enforced: true}
    columns:
      - {name: order_id, data_type: integer}
      - {name: status, data_type: varchar(20)}
      - {name: amount, data_type: double}
"""
ORDERS = "{{ config(materialized='table') }}\nselect 1 as order_id, 'placed' as status, 2.5::double as amount\n"


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _run(root: Path, *args: str) -> Any:
    return fduck("run", "--project-dir", str(root), *args)


@pytest.mark.slow
def test_a_broken_contract_fails_before_the_swap(make_project: ProjectFactory) -> None:
    root = make_project({"models/orders.sql": ORDERS, "models/orders.yml": CONTRACT})
    assert _run(root).returncode == 0
    model = root / "models" / "orders.sql"
    model.write_text(ORDERS.replace("2.5::double as amount", "'2.5' as amount, 7 as extra").replace("1 as order_id", "2 as order_id"))
    result = _run(root)
    assert result.returncode == 1
    assert ("models/orders.yml: model 'orders' breaks its contract: column 'extra' is not in the contract; "
            "column 'amount' is VARCHAR, the contract says double") in result.stdout
    assert _rows(root, "SELECT order_id, amount FROM main.orders") == [(1, 2.5)]  # the previous table stays
    model.write_text(ORDERS.replace("1 as order_id", "1::bigint as order_id"))
    result = _run(root)
    assert result.returncode == 1 and "column 'order_id' is BIGINT, the contract says integer" in result.stdout
    (root / "models" / "orders.yml").write_text(CONTRACT.replace("{name: amount, data_type: double}", "{name: amount}"))
    result = _run(root)
    assert result.returncode == 1 and "every column needs a data_type (missing on amount)" in result.stdout + result.stderr


INCREMENTAL = """{{{{ config(materialized='incremental', on_schema_change='{mode}') }}}}
select {columns} from range({{{{ var('start', 0) }}}}, {{{{ var('start', 0) }}}} + 2) as t(id)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "outcome", "columns"), [
    ("ignore", 0, ["id", "a", "b"]),
    ("fail", 1, ["id", "a", "b"]),
    ("append_new_columns", 0, ["id", "a", "b", "c"]),
    ("sync_all_columns", 0, ["id", "a", "c"]),
])
def test_on_schema_change(make_project: ProjectFactory, mode: str, outcome: int, columns: list[str]) -> None:
    model = INCREMENTAL.format(mode=mode, columns="id, id * 10 as a, 'x' as b")
    root = make_project({"models/events.sql": model})
    assert _run(root).returncode == 0
    (root / "models" / "events.sql").write_text(INCREMENTAL.format(mode=mode, columns="id, id * 10 as a, id + 0.5 as c"))
    result = _run(root, "--vars", "{start: 10}")
    assert result.returncode == outcome, result.stdout
    described = [row[0] for row in _rows(root, "DESCRIBE main.events")]
    assert described == columns
    if mode == "fail":
        assert "changed (added c; removed b) and its on_schema_change is fail" in result.stdout
        assert _rows(root, "SELECT count(*) FROM main.events") == [(2,)]
    else:
        assert _rows(root, "SELECT count(*) FROM main.events") == [(4,)]
    if mode in ("append_new_columns", "sync_all_columns"):
        assert _rows(root, "SELECT id, c FROM main.events ORDER BY id") == [(0, None), (1, None), (10, 10.5), (11, 11.5)]
