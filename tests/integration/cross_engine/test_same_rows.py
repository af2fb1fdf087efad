"""One project, every engine, the same rows: DuckDB is the oracle.

Each project is built on DuckDB and on PostgreSQL through the CLI, then every
model's rows are read back from both and compared (order-independent, numbers
compared to 9 significant digits, timestamps without time zone).
"""

from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import FIXTURES, REPO_ROOT, copy_example_project, fduck, pg_profile, spark_output

PROJECTS = {
    "example": REPO_ROOT,
    "template": REPO_ROOT / "project_template",
    "dbt_jaffle": FIXTURES / "dbt_jaffle",
    "feature_sql": FIXTURES / "feature_sql",
    "date_math": FIXTURES / "date_math",  # date_diff and subscripted calls, rewritten per engine
}


def _normal(value: Any) -> Any:
    if isinstance(value, (float, decimal.Decimal)):
        return float(f"{float(value):.9g}")
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return value


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_postgres_builds_the_same_rows_as_duckdb(name: str, tmp_path: Path, pg_dsn: str, pg_schema: str) -> None:
    project = copy_example_project(tmp_path / name, PROJECTS[name])
    (project / "profiles.yml").write_text(pg_profile(pg_schema))
    if (project / "dbt_project.yml").exists():  # dbt projects name their profile
        text = (project / "dbt_project.yml").read_text().replace("profile: jaffle", "profile: default")
        (project / "dbt_project.yml").write_text(text)
    env = {"FDUCK_TEST_PG_DSN": pg_dsn}
    for target in ("dev", "pg"):
        result = fduck("run", "--target", target, cwd=project, env=env)
        assert result.returncode == 0, f"{target}: {result.stdout}{result.stderr}"
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    built = {
        node["name"]: (node["compiled"]["dev"]["relation"], node["compiled"]["pg"]["relation"])
        for node in manifest["nodes"].values()
        if node["config"].get("materialized") != "ephemeral"
    }
    assert built, "the project built nothing"
    database = next((project / "target").glob("*.duckdb"))
    with duckdb.connect(str(database), read_only=True) as duck, psycopg.connect(pg_dsn) as pg:
        for model, (duck_relation, pg_relation) in sorted(built.items()):
            expected = _rows(duck.execute(f"select * from {duck_relation}").fetchall())
            actual = _rows(pg.execute(f"select * from {pg_relation}").fetchall())
            assert actual == expected, f"{name}: model {model} differs on postgres"
            assert expected, f"{name}: model {model} is empty, which proves nothing"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_spark_builds_the_same_rows_as_duckdb(name: str, tmp_path: Path, spark_warehouse: Path) -> None:
    """In process: a JVM holds one Spark session, shared through the test run's warehouse."""
    from pyspark.sql import SparkSession

    from featureduck.api import Project

    project = copy_example_project(tmp_path / name, PROJECTS[name])
    schema = f"fd_{name}_{tmp_path.name[-6:]}".replace("-", "_").lower()
    (project / "profiles.yml").write_text(
        "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n" + spark_output(spark_warehouse, schema)
    )
    if (project / "dbt_project.yml").exists():
        text = (project / "dbt_project.yml").read_text().replace("profile: jaffle", "profile: default")
        (project / "dbt_project.yml").write_text(text)
    built = {}
    for target in ("dev", "spark"):
        loaded = Project.load(project, target=target)
        results = loaded.run()
        assert not results.failed, [r.message for r in results.results if r.status == "error"]
        for model in loaded.compile().models.values():
            if model.materialized != "ephemeral":
                built.setdefault(model.name, {})[target] = model.relation.sql(loaded.target.dialect)
    spark = SparkSession.getActiveSession()
    database = next((project / "target").glob("*.duckdb"))
    with duckdb.connect(str(database), read_only=True) as duck:
        for model, relations in sorted(built.items()):
            expected = _rows(duck.execute(f"select * from {relations['dev']}").fetchall())
            actual = _rows([tuple(row) for row in spark.sql(f"select * from {relations['spark']}").collect()])
            assert actual == expected, f"{name}: model {model} differs on spark"
            assert expected, f"{name}: model {model} is empty, which proves nothing"
