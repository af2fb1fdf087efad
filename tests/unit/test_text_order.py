"""A Spark project on a DuckDB file whose default collation is not byte order stops
before it builds (real DuckDB: its `default_collation` setting from the profile)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import ProjectFactory, fduck

PROFILES = ("default:\n  target: dev\n  outputs:\n"
            "    dev: {{type: duckdb, path: target/dev.duckdb, settings: {{default_collation: nocase}}{extra}}}\n")


FIRST_NAME = "{{ config(materialized='table') }} select min(name) as first from (values ('a'), ('B')) as t(name)"


def _project(make_project: ProjectFactory, dialect: str, extra: str = "") -> Path:
    return make_project({"featureduck_project.yml": f"name: proj\ndialect: {dialect}\n", "profiles.yml": PROFILES.format(extra=extra),
                         "models/first_name.sql": FIRST_NAME})


def test_a_spark_project_on_a_nocase_duckdb_is_refused_unless_accepted(make_project: ProjectFactory) -> None:
    refused = fduck("run", cwd=_project(make_project, "spark"))
    assert refused.returncode == 2 and "the collation nocase" in refused.stdout + refused.stderr
    accepted = _project(make_project, "spark", extra=", text_order: database")
    assert fduck("run", cwd=accepted).returncode == 0
    with duckdb.connect(str(accepted / "target/dev.duckdb"), read_only=True) as con:
        assert con.execute("select first from main.first_name").fetchone() == ("a",)  # nocase's order, as accepted


def test_a_duckdb_project_means_its_own_targets_collation(make_project: ProjectFactory) -> None:
    assert fduck("run", cwd=_project(make_project, "duckdb")).returncode == 0
