"""`fduck export`: models and queries to CSV, Parquet, JSON and Excel files, on DuckDB and Postgres."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import ProjectFactory, fduck, write_engine_profile

ROWS = ", ".join(f"({i}, '{'ab'[i % 2]}', {i * 1.5})" for i in range(10))  # id, kind a/b, amount: sum 67.5
MODEL = f"{{{{ config(materialized='table') }}}}\nselect * from (values {ROWS}) as t(id, kind, amount)\n"


@pytest.mark.parametrize("target", ["dev", "pg"])
def test_export_formats_options_and_queries(make_project: ProjectFactory, request: pytest.FixtureRequest, target: str) -> None:
    root = make_project({"models/items.sql": MODEL})
    write_engine_profile(target, root, request, "fd_export")
    assert fduck("run", "--project-dir", str(root), "--target", target).returncode == 0
    out = root / "out"

    def export(*args: str) -> str:
        result = fduck("export", "--project-dir", str(root), "--target", target, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "Exported 10 rows" in export("items", "--out", str(out / "items.parquet"))
    assert duckdb.sql(f"SELECT count(*), sum(amount) FROM '{out / 'items.parquet'}'").fetchone() == (10, 67.5)
    export("items", "--out", str(out / "items.csv.gz"), "--delimiter", ";")
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{out / 'items.csv.gz'}', delim=';', header=true)").fetchone() == (10,)
    export("--query", "select kind, count(*) as n from {{ ref('items') }} group by kind order by kind", "--out", str(out / "kinds.json"),
           "--json-array")
    assert json.loads((out / "kinds.json").read_text()) == [{"kind": "a", "n": 5}, {"kind": "b", "n": 5}]
    export("items", "--out", str(out / "parts"), "--format", "parquet", "--partition-by", "kind")
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["kind=a", "kind=b"]
    export("items", "--out", str(out / "items.xlsx"))
    assert (out / "items.xlsx").read_bytes()[:2] == b"PK"  # a zip, as xlsx files are
    bad = fduck("export", "items", "--project-dir", str(root), "--out", str(out / "items.xlsx"), "--compression", "gzip")
    assert bad.returncode == 2 and "xlsx files take no gzip compression" in bad.stderr
