"""Sources read on DuckDB: tables already in the database and files in place."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from featureduck.api import Project
from tests.conftest import ProjectFactory, fduck

SOURCES = """
sources:
  - name: warehouse            # no path: tables already in the target database
    schema: landing
    tables:
      - name: customers
        identifier: customers_v2
  - name: files
    tables:
      - name: orders
        path: data/orders/*.parquet
      - name: clicks
        path: data/clicks.jsonl
      - name: refunds
        path: data/refunds.csv
        options: {delim: ';', header: true}
"""


def test_database_tables_and_file_globs(make_project: ProjectFactory) -> None:
    root = make_project({
        "sources/all.yml": SOURCES,
        "data/refunds.csv": "order_id;amount\n1;5\n",
        "models/joined.sql": """
            {{ config(materialized='table') }}
            select c.name, count(distinct o.order_id) as orders, count(k.order_id) as clicks, sum(r.amount) as refunded
            from {{ source('warehouse', 'customers') }} as c
            join {{ source('files', 'orders') }} as o on o.customer_id = c.id
            left join {{ source('files', 'clicks') }} as k on k.order_id = o.order_id
            left join {{ source('files', 'refunds') }} as r on r.order_id = o.order_id
            group by c.name
        """,
    })
    database = root / "target" / "dev.duckdb"
    database.parent.mkdir()
    (root / "data" / "orders").mkdir()
    with duckdb.connect(str(database)) as con:
        con.execute("create schema landing; create table landing.customers_v2 as select 1 as id, 'ada' as name")
        for part in (1, 2):
            con.execute(f"copy (select {part} as order_id, 1 as customer_id) to '{root}/data/orders/part{part}.parquet'")
    (root / "data" / "clicks.jsonl").write_text("\n".join(json.dumps({"order_id": i}) for i in (1, 1, 2)) + "\n")
    results = Project.load(root).run()
    assert [r.status for r in results.results] == ["success"], results.results[0].message
    with duckdb.connect(str(database), read_only=True) as con:
        # order 1 has two clicks, so its refund of 5 is joined twice
        assert con.execute("select name, orders, clicks, refunded from joined").fetchall() == [("ada", 2, 3, 10)]


def test_cli_vars_override(make_project: ProjectFactory) -> None:
    root = make_project({
        "featureduck_project.yml": "name: proj\nvars: {n: 1}\n",
        "models/a.sql": "{{ config(materialized='table') }} select {{ var('n') }} as n",
    })
    assert fduck("run", "--project-dir", str(root), "--vars", "{n: 7}").returncode == 0
    with duckdb.connect(str(Path(root) / "target" / "dev.duckdb"), read_only=True) as con:
        assert con.execute("select n from a").fetchall() == [(7,)]
    bad = fduck("run", "--project-dir", str(root), "--vars", "[1, 2]")
    assert bad.returncode == 2 and "--vars must be a YAML mapping" in bad.stderr
