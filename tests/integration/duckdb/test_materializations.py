"""Every materialization built on a real DuckDB file, checked by reading the rows back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from featureduck.api import Project
from tests.conftest import INCREMENTAL_MODEL, ProjectFactory


def _query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _kind(root: Path, name: str) -> str | None:
    rows = _query(root, f"select table_type from information_schema.tables where table_name = '{name}'")
    return rows[0][0] if rows else None


def _statuses(results: Any) -> dict[str, str]:
    return {r.name: r.status for r in results.results}


def test_view_table_and_switching_kinds(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/base.sql": "select range as id from range(5)",
        "models/wide.sql": "{{ config(materialized='table') }} select id, id * 2 as double from {{ ref('base') }}",
    })
    results = Project.load(root).run()
    assert _statuses(results) == {"base": "success", "wide": "success"}
    assert _kind(root, "base") == "VIEW" and _kind(root, "wide") == "BASE TABLE"
    assert _query(root, "select sum(double) from wide") == [(20,)]
    assert [r.rows_affected for r in results.results if r.name == "wide"] == [5]
    # a table becoming a view (and back) replaces the relation
    (root / "models" / "wide.sql").write_text("select id from {{ ref('base') }}")
    Project.load(root).run()
    assert _kind(root, "wide") == "VIEW"


def test_failed_table_build_keeps_previous_table(make_project: ProjectFactory) -> None:
    root = make_project({"models/t.sql": "{{ config(materialized='table') }} select 1 as v union all select 2"})
    Project.load(root).run()
    (root / "models" / "t.sql").write_text("{{ config(materialized='table') }} select cast('x' as integer) as v")
    results = Project.load(root).run()
    assert _statuses(results) == {"t": "error"}
    assert "Conversion Error" in results.results[0].message
    assert _query(root, "select v from t order by v") == [(1,), (2,)]
    assert _query(root, "select count(*) from information_schema.tables where table_name like '%fduck%'") == [(0,)]


def _events_project(make_project: ProjectFactory, config: str) -> Path:
    return make_project({
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - name: events\n        path: data/events.csv\n",
        "data/events.csv": "id,val,ts\n1,a,2024-01-01\n2,b,2024-01-02\n",
        "models/inc.sql": INCREMENTAL_MODEL.format(config=config),
    })


def _add_events(root: Path, lines: str) -> None:
    with (root / "data" / "events.csv").open("a") as handle:
        handle.write(lines)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("incremental_strategy='append'", [(1, "a"), (1, "z"), (2, "b"), (3, "c")]),
        ("unique_key='id'", [(1, "z"), (2, "b"), (3, "c")]),
        ("unique_key=['id'], incremental_strategy='delete+insert'", [(1, "z"), (2, "b"), (3, "c")]),
    ],
)
def test_incremental_strategies(make_project: ProjectFactory, config: str, expected: list[tuple[Any, ...]]) -> None:
    root = _events_project(make_project, config)
    Project.load(root).run()
    assert _query(root, "select count(*) from inc") == [(2,)]
    _add_events(root, "3,c,2024-01-03\n1,z,2024-01-04\n")
    results = Project.load(root).run()
    assert results.results[0].status == "success"
    assert results.results[0].rows_affected == 2
    assert _query(root, "select id, val from inc order by id, val") == expected
    compiled = (root / "target" / "compiled" / "dev" / "models" / "inc.sql").read_text()
    assert "MAX(ts)" in compiled and "main.inc" in compiled  # the SQL actually sent, with {{ this }}


def test_incremental_full_refresh_rebuilds(make_project: ProjectFactory) -> None:
    root = _events_project(make_project, "incremental_strategy='append'")
    Project.load(root).run()
    _add_events(root, "3,c,2024-01-03\n")
    Project.load(root).run()
    Project.load(root).run(full_refresh=True)
    assert _query(root, "select count(*) from inc") == [(3,)]


def test_merge_without_unique_key_is_an_error(make_project: ProjectFactory) -> None:
    root = _events_project(make_project, "incremental_strategy='merge'")
    compiled = Project.load(root).compile()
    assert "needs a unique_key" in str(compiled.errors["inc"])


def test_materialized_view_on_duckdb_is_a_refreshed_table_with_bookkeeping(make_project: ProjectFactory) -> None:
    root = _events_project(make_project, "incremental_strategy='append'")
    mv_sql = "{{ config(materialized='materialized_view') }} select count(*) as n from {{ source('raw', 'events') }}"
    (root / "models" / "mv.sql").write_text(mv_sql)
    project = Project.load(root)
    project.run(select="mv")
    assert _kind(root, "mv") == "BASE TABLE" and _query(root, "select n from mv") == [(2,)]
    first = Project.load(root).last_builds()["model.proj.mv"]
    _add_events(root, "3,c,2024-01-03\n")
    Project.load(root).run(select="mv")
    assert _query(root, "select n from mv") == [(3,)]
    second = Project.load(root).last_builds()["model.proj.mv"]
    assert second.materialized == "materialized_view" and second.built_at > first.built_at


def test_failure_skips_dependents_only(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/ok.sql": "select 1 as id",
        "models/broken.sql": "select no_such_column from {{ ref('ok') }}",
        "models/after_broken.sql": "select * from {{ ref('broken') }}",
        "models/after_after.sql": "select * from {{ ref('after_broken') }}",
        "models/sibling.sql": "select id + 1 as id from {{ ref('ok') }}",
    })
    results = Project.load(root).run(threads=3)
    assert _statuses(results) == {
        "ok": "success", "broken": "error", "after_broken": "skipped", "after_after": "skipped", "sibling": "success",
    }
    assert results.failed
    assert _query(root, "select id from sibling") == [(2,)]


def test_parallel_threads_build_a_wide_dag(make_project: ProjectFactory) -> None:
    files = {"models/root.sql": "{{ config(materialized='table') }} select range as id from range(1000)"}
    for i in range(24):
        files[f"models/leaf_{i}.sql"] = f"{{{{ config(materialized='table') }}}} select id, id * {i} as v from {{{{ ref('root') }}}}"
    root = make_project(files)
    results = Project.load(root).run(threads=4)
    assert set(_statuses(results).values()) == {"success"}
    assert _query(root, "select sum(v) from leaf_23") == [(23 * 999 * 1000 // 2,)]


def test_one_thread_builds_on_the_calling_thread(make_project: ProjectFactory) -> None:
    """A failure on the calling thread is a failed model, as on a pool, and skips its dependents."""
    root = make_project({
        "models/a.sql": "{{ config(materialized='table') }} select 1 as x",
        "models/b.sql": "select * from nowhere",
        "models/c.sql": "select * from {{ ref('b') }}",
    })
    assert _statuses(Project.load(root).run(threads=1)) == {"a": "success", "b": "error", "c": "skipped"}


def test_catalog_of_several_schemas_in_one_lookup(make_project: ProjectFactory) -> None:
    from sqlglot import exp

    root = make_project({"models/a.sql": "{{ config(materialized='table', schema='features') }} select 1 as x",
                         "models/v.sql": "select 1 as x"})
    Project.load(root).run()
    with Project.load(root).session() as session:
        adapter = session.adapter
        tables = [exp.to_table(name) for name in ("main_features.a", "main.v", "main.missing", "nowhere.t")]
        adapter.preload_catalog(tables)
        assert [adapter.relation_kind(t) for t in tables] == ["table", "view", None, None]


def test_custom_schema_and_alias(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "{{ config(materialized='table', schema='features', alias='a_v1') }} select 1 as x"})
    Project.load(root).run()
    assert _query(root, "select x from main_features.a_v1") == [(1,)]


def test_run_results_file(make_project: ProjectFactory) -> None:
    import json

    root = make_project({"models/a.sql": "{{ config(materialized='table') }} select 1 as x", "models/b.sql": "select * from nowhere"})
    Project.load(root).run()
    payload = json.loads((root / "target" / "run_results.json").read_text())
    by_id = {r["unique_id"]: r for r in payload["results"]}
    assert by_id["model.proj.a"]["status"] == "success" and by_id["model.proj.a"]["rows_affected"] == 1
    assert by_id["model.proj.b"]["status"] == "error" and "nowhere" in by_id["model.proj.b"]["message"]
    timing, took = by_id["model.proj.a"]["timing"], by_id["model.proj.a"]["execution_time"]
    assert took == round(timing["completed_at"] - timing["started_at"], 6) and 0 < took <= payload["elapsed_time"]


def test_external_writes_a_file_and_a_view_over_it(make_project: ProjectFactory) -> None:
    """dbt-duckdb's `external`: the rows in a file under external_root, a view reading it;
    a failed rebuild leaves the previous file."""
    root = make_project({
        "profiles.yml": "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb, external_root: exports}\n",
        "models/shipped.sql": "{{ config(materialized='external', format='csv') }} select 1 as id, 'a' as v union all select 2, 'b'",
    })
    project = Project.load(root)
    assert not project.run().failed
    written = root / "exports" / "shipped.csv"
    assert written.read_text().splitlines() == ["id,v", "1,a", "2,b"]
    with project.session() as session:
        assert sorted(session.adapter.execute("select * from main.shipped")) == [(1, "a"), (2, "b")]
    (root / "models" / "shipped.sql").write_text("{{ config(materialized='external', format='csv') }} select 1 / 'x' as id")
    assert Project.load(root).run().failed
    assert written.read_text().splitlines() == ["id,v", "1,a", "2,b"]
