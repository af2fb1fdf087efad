"""A new engine is one file and one row: registered, it builds the example project
with nothing else in featureduck touched, and builds what DuckDB builds."""

from __future__ import annotations

from pathlib import Path

import duckdb

from featureduck.api import Project
from featureduck.engines.traits import register_engine
from featureduck.materializations.registry import builds_relation
from tests.conftest import copy_example_project
from tests.integration.duckdb.folder_engine import TRAITS

register_engine(TRAITS)  # as the code adding an engine does, once


def _rows(database: Path, relation: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(con.execute(f"SELECT * FROM {relation}").fetchall(), key=repr)


def test_a_registered_engine_builds_the_example_project(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "example")
    (root / "profiles.yml").write_text(
        "default:\n  target: dev\n  outputs:\n"
        "    dev: {type: duckdb, path: target/dev.duckdb}\n"
        "    lake: {type: duckdb_folder, folder: warehouse}\n"
    )
    reference = Project.load(root)
    assert not reference.run().failed
    project = Project.load(root, target="lake")
    assert project.target.settings["folder"] == str(root / "warehouse") + "/"  # its path setting, from its row
    results = project.run()
    assert not results.failed, [r.message for r in results.results if r.status == "error"]
    assert {r.status for r in results.results} == {"success"}
    tests = project.test()
    assert tests and all(t.status == "pass" for t in tests), "the example's tests pass on the new engine"
    assert (root / "warehouse" / "lake.duckdb").exists()
    for model in project.compile().models.values():
        if not builds_relation(model.materialized):
            continue
        relation = model.relation.sql("duckdb")
        assert _rows(root / "warehouse" / "lake.duckdb", relation) == _rows(root / "target" / "dev.duckdb", relation), relation
    assert len(project.run().results) == len(results.results)  # a second run: cached on the new engine too
    assert {r.status for r in project.run().results} == {"cached"}
