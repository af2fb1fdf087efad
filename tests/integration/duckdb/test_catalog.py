"""What the DuckDB adapter knows of its catalog, on real database files."""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlglot import exp

from featureduck.config.profiles import TargetConfig
from featureduck.engines.duckdb import DuckDBAdapter, _is_local_file


def _adapter(path: Path) -> DuckDBAdapter:
    return DuckDBAdapter(TargetConfig("dev", "duckdb", {"path": str(path), "schema": "main"}))


def test_a_new_database_is_known_empty_until_a_statement_runs(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path / "new.duckdb")
    adapter.open()
    try:
        assert adapter.list_catalog("", ["main"]) == {"main": {}}
        adapter.execute("CREATE TABLE main.made AS SELECT 1 AS x")
        assert adapter.list_catalog("", ["main"]) == {"main": {"made": "table"}}  # asked again once anything ran
    finally:
        adapter.close()


def test_an_existing_database_is_always_asked(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("CREATE TABLE main.kept AS SELECT 1 AS x")
        con.execute("CREATE VIEW main.seen AS SELECT * FROM main.kept")
    adapter = _adapter(tmp_path / "old.duckdb")
    adapter.open()
    try:
        assert adapter.list_catalog("", ["main"]) == {"main": {"kept": "table", "seen": "view"}}
        assert adapter.relation_kind(exp.to_table("main.kept")) == "table"
    finally:
        adapter.close()


def test_service_databases_are_not_taken_for_missing_files() -> None:
    assert _is_local_file("target/dev.duckdb") and _is_local_file("C:\\data\\dev.duckdb")
    assert not _is_local_file("md:analytics") and not _is_local_file("s3://bucket/dev.duckdb")
