"""A dbt-duckdb profile's `extensions:`, `settings:` and `attach:` applied at connect, on
real DuckDB files; a setting featureduck does not apply is an error naming it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from featureduck.api import Project
from featureduck.errors import ProfileError
from tests.conftest import ProjectFactory


def _project(make_project: ProjectFactory, output: str) -> Path:
    return make_project({
        "profiles.yml": "default:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/dev.duckdb\n" + output,
        "models/from_attached.sql": "select count(*) as n, current_setting('threads') as threads from lookup.main.codes",
    })


def test_extensions_settings_and_attach_apply(make_project: ProjectFactory, tmp_path: Path) -> None:
    other = tmp_path / "lookup.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table codes as select * from range(3) as t(code)")
    root = _project(make_project, f"      extensions: [json, {{name: parquet}}]\n      settings: {{threads: 1}}\n"
                                  f"      attach:\n        - path: '{other}'\n          read_only: true\n")
    project = Project.load(root)
    results = project.run()
    assert not results.failed, [r.message for r in results.results]
    with project.session() as session:
        assert session.adapter.execute("select n, threads from main.from_attached") == [(3, 1)]
        loaded = session.adapter.execute("select extension_name from duckdb_extensions() where loaded and extension_name = 'json'")
    assert loaded == [("json",)]


def test_a_dbt_duckdb_setting_featureduck_does_not_apply_is_named(make_project: ProjectFactory) -> None:
    root = _project(make_project, "      secrets: [{type: s3}]\n      plugins: [{module: excel}]\n")
    with pytest.raises(ProfileError, match="target 'dev' sets plugins, secrets, which featureduck does not apply"):
        Project.load(root).run()
