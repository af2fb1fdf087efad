"""`fduck export`: models and queries to CSV, Parquet, JSON and Excel files, on DuckDB and Postgres."""

from __future__ import annotations

import datetime
import gzip
import json

import duckdb
import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, ProjectFactory, fduck, write_engine_profile

ROWS = ", ".join(f"({i}, '{'ab'[i % 2]}', {i * 1.5})" for i in range(10))  # id, kind a/b, amount: sum 67.5
MODEL = f"{{{{ config(materialized='table') }}}}\nselect * from (values {ROWS}) as t(id, kind, amount)\n"


@pytest.mark.slow
@pytest.mark.parametrize("target", ENGINE_TARGETS[:2])
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


@pytest.mark.slow
def test_export_csv_in_another_encoding(make_project: ProjectFactory) -> None:
    root = make_project({"models/names.sql": "select * from (values (1, 'Zoë'), (2, 'Ångström')) as t(id, name)\n"})
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    out = root / "out"
    done = fduck("export", "names", "--project-dir", str(root), "--out", str(out / "names.csv.gz"), "--encoding", "latin-1")
    assert done.returncode == 0, done.stderr
    rows = duckdb.sql(f"SELECT name FROM read_csv('{out / 'names.csv.gz'}', encoding='latin-1') ORDER BY id").fetchall()
    assert rows == [("Zoë",), ("Ångström",)]
    assert "Zoë".encode("latin-1") in gzip.decompress((out / "names.csv.gz").read_bytes())
    parts = fduck("export", "names", "--project-dir", str(root), "--out", str(out / "parts"), "--format", "csv",
                  "--partition-by", "id", "--encoding", "utf-16")
    assert parts.returncode == 0, parts.stderr
    assert (out / "parts" / "id=1" / "data_0.csv").read_bytes().decode("utf-16").splitlines() == ["name", "Zoë"]
    unencodable = fduck("export", "--query", "select 'naïve', '東京' as city", "--project-dir", str(root),
                        "--out", str(out / "city.csv"), "--encoding", "latin-1")
    assert unencodable.returncode == 2 and "line 2 of the export holds '東京', which latin-1 cannot encode" in unencodable.stderr
    assert not (out / "city.csv").exists() and not list(out.glob(".city*"))  # nothing half-written is left behind
    assert "--encoding is for CSV files" in fduck("export", "names", "--project-dir", str(root), "--out", str(out / "n.parquet"),
                                                 "--encoding", "latin-1").stderr


@pytest.mark.spark
def test_export_from_spark_streams_partitions(make_project: ProjectFactory, request: pytest.FixtureRequest) -> None:
    """In process: the test session's Spark holds the warehouse's metastore (Derby admits one process)."""
    root = make_project({"models/items.sql": MODEL})
    write_engine_profile("spark", root, request, "fd_export")
    project = Project.load(root, target="spark")
    assert not project.run().failed
    out = root / "out"
    query = "select *, timestamp '2024-01-01 10:00:00' + to_days(id) as ts from {{ ref('items') }} order by kind, id"
    assert project.export(out / "items.parquet", query=query) == 10
    assert duckdb.sql(f"SELECT count(*), sum(amount), count(DISTINCT kind), max(ts) FROM '{out / 'items.parquet'}'").fetchone() == (
        10, 67.5, 2, datetime.datetime(2024, 1, 10, 10, 0))
    assert project.export(out / "none.csv", query="select * from {{ ref('items') }} where id < 0") == 0
