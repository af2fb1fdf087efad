"""Materializations on real Spark (local mode, Hive catalog under the warehouse)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from tests.conftest import INCREMENTAL_MODEL, ProjectFactory, fduck, spark_output


def _spark() -> Any:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _rows(sql: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in _spark().sql(sql).collect())


@pytest.fixture
def schema() -> str:
    return f"fd_{uuid.uuid4().hex[:10]}"


def _project(make_project: ProjectFactory, warehouse: Path, schema: str, models: dict[str, str]) -> Path:
    return make_project({
        "profiles.yml": "default:\n  target: spark\n  outputs:\n" + spark_output(warehouse, schema),
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - name: events\n        path: data/events.csv\n",
        "data/events.csv": "id,val,ts\n1,a,2024-01-01 00:00:00\n2,b,2024-01-02 00:00:00\n",
        **models,
    })


def _run(root: Path, **kwargs: Any) -> dict[str, str]:
    results = Project.load(root, target="spark").run(**kwargs)
    return {r.name: r.status + (f": {r.message}" if r.status == "error" else "") for r in results.results}


def test_materializations_on_spark(make_project: ProjectFactory, spark_warehouse: Path, schema: str) -> None:
    root = _project(make_project, spark_warehouse, schema, {
        "models/base.sql": "select id, val from {{ source('raw', 'events') }}",
        "models/eph.sql": "{{ config(materialized='ephemeral') }} select id * 10 as id10 from {{ ref('base') }}",
        "models/wide.sql": "{{ config(materialized='table') }} select id10 from {{ ref('eph') }}",
        "models/mv.sql": "{{ config(materialized='materialized_view') }} select count(*) as n from {{ ref('base') }}",
        "models/app.sql": INCREMENTAL_MODEL.format(config="incremental_strategy='append'"),
        "models/mrg.sql": INCREMENTAL_MODEL.format(config="unique_key='id'"),
    })
    assert set(_run(root).values()) == {"success"}
    assert _rows(f"select * from {schema}.wide") == [(10,), (20,)]
    kinds = {row.tableName: row.isTemporary for row in _spark().sql(f"show tables in {schema}").collect()}
    assert set(kinds) >= {"base", "wide", "mv", "app", "mrg"}
    # the session's temporary views (a training set's entity rows) are listed too: only the schema's own count
    assert [row.viewName for row in _spark().sql(f"show views in {schema}").collect() if not row.isTemporary] == ["base"]
    with (root / "data" / "events.csv").open("a") as handle:
        handle.write("3,c,2024-01-03 00:00:00\n1,z,2024-01-04 00:00:00\n")
    assert set(_run(root).values()) == {"success"}
    assert _rows(f"select id, val from {schema}.app") == [(1, "a"), (1, "z"), (2, "b"), (3, "c")]
    assert _rows(f"select id, val from {schema}.mrg") == [(1, "z"), (2, "b"), (3, "c")]
    assert _rows(f"select n from {schema}.mv") == [(4,)]
    # a failed rebuild leaves the previous table
    (root / "models" / "wide.sql").write_text("{{ config(materialized='table') }} select no_such_column from {{ ref('eph') }}")
    assert _run(root, select="wide")["wide"].startswith("error")
    assert _rows(f"select * from {schema}.wide") == [(10,), (10,), (20,), (30,)]


@pytest.mark.spark
@pytest.mark.slow
def test_the_cli_keeps_the_jvms_output_off_the_terminal(make_project: ProjectFactory, spark_warehouse: Path) -> None:
    """Spark's banner, log4j's notices and the JVM's warnings go to target/spark.log; the
    terminal shows featureduck's lines only. Its own warehouse: a second JVM cannot share
    the session's Derby metastore."""
    root = make_project({"models/one.sql": "select 1 as id"})
    (root / "profiles.yml").write_text("default:\n  target: spark\n  outputs:\n" + spark_output(root / "target" / "wh", "quiet"))
    result = fduck("run", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "OK created view quiet.one" in result.stdout
    assert result.stderr == "" and "log4j" not in result.stdout and "WARN" not in result.stdout
    assert "log4j" in (root / "target" / "spark.log").read_text()
