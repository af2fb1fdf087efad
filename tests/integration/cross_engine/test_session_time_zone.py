"""A model's local times are the output's `time_zone` (UTC unless it names one) on
every engine: a zoned time cast to a date and to a naive time, and a naive time
read as zoned, give the same rows on DuckDB, PostgreSQL and Spark whatever the
machine's zone (TZ), the database's (PGTZ) or the Spark session's. (A view's
rows are computed when it is read, in the reader's zone: the model is a table.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile, spark_output

MODEL = ("{{ config(materialized='table') }} select cast(timestamptz '2024-03-11 02:00:00+00' as date) as d, "
         "cast(timestamptz '2024-03-11 02:00:00+00' as timestamp) as local_time, "
         "cast(timestamp '2024-03-11 02:00:00' as timestamptz) = timestamptz '2024-03-11 02:00:00+00' as naive_is_utc")
IN_UTC = (dt.date(2024, 3, 11), dt.datetime(2024, 3, 11, 2, 0), True)
IN_NEW_YORK = (dt.date(2024, 3, 10), dt.datetime(2024, 3, 10, 22, 0), False)
ELSEWHERE = {"TZ": "Asia/Kolkata", "PGTZ": "Asia/Tokyo"}  # the machine's and the database's zones, neither the session's


def _zoned(profiles: str, zone: str | None) -> str:
    """Every output of `profiles` given `time_zone: zone`."""
    return profiles if zone is None else profiles.replace("}\n", f", time_zone: '{zone}'}}\n")


def _rows_on_duckdb(root: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return con.execute("select * from main.zoned").fetchall()


@pytest.mark.parametrize(("zone", "expected"), [(None, IN_UTC), ("America/New_York", IN_NEW_YORK)])
def test_duckdb_and_postgres_read_local_times_in_the_outputs_zone(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                                  zone: str | None, expected: tuple[Any, ...]) -> None:
    root = make_project({"profiles.yml": _zoned(pg_profile(pg_schema), zone), "models/zoned.sql": MODEL})
    for target in ("dev", "pg"):
        built = fduck("run", "--target", target, cwd=root, env=ELSEWHERE)
        assert built.returncode == 0, built.stdout + built.stderr
    with psycopg.connect(pg_dsn) as con:
        on_postgres = con.execute(f"select * from {pg_schema}.zoned").fetchall()
    assert _rows_on_duckdb(root) == [expected]
    assert on_postgres == [expected]


@pytest.mark.parametrize(("zone", "expected"), [(None, IN_UTC), ("America/New_York", IN_NEW_YORK)])
def test_spark_reads_local_times_in_the_outputs_zone(make_project: ProjectFactory, spark_warehouse: Path, tmp_path: Path,
                                                     zone: str | None, expected: tuple[Any, ...]) -> None:
    from pyspark.sql import SparkSession

    from featureduck.api import Project

    schema = f"fd_zone_{tmp_path.name[-6:]}".replace("-", "_").lower()
    profiles = _zoned("default:\n  target: spark\n  outputs:\n" + spark_output(spark_warehouse, schema), zone)
    root = make_project({"profiles.yml": profiles, "models/zoned.sql": MODEL})
    active = SparkSession.getActiveSession()
    if active is not None:
        active.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")  # as a session another caller left
    results = Project.load(root).run()
    assert not results.failed, [r.message for r in results.results if r.status == "error"]
    spark = SparkSession.getActiveSession()
    assert spark is not None
    row = spark.sql(f"select cast(d as string), cast(local_time as string), naive_is_utc from {schema}.zoned").collect()[0]
    assert (dt.date.fromisoformat(row[0]), dt.datetime.fromisoformat(row[1]), row[2]) == expected


def test_an_unknown_zone_is_refused_naming_the_output(make_project: ProjectFactory) -> None:
    profiles = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb, time_zone: Mars/Olympus}\n"
    root = make_project({"profiles.yml": profiles, "models/zoned.sql": MODEL})
    built = fduck("run", cwd=root)
    assert built.returncode == 2, built.stdout + built.stderr
    assert "output 'dev': time_zone 'Mars/Olympus'" in built.stdout + built.stderr


def test_a_table_built_in_another_zone_is_built_again(make_project: ProjectFactory) -> None:
    """The run cache's fingerprint covers the session's zone: a changed time_zone rebuilds what it kept."""
    duck = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n"
    root = make_project({"profiles.yml": duck, "models/zoned.sql": MODEL})
    assert fduck("run", cwd=root).returncode == 0
    assert _rows_on_duckdb(root) == [IN_UTC]
    (root / "profiles.yml").write_text(_zoned(duck, "America/New_York"))
    rebuilt = fduck("run", cwd=root)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert _rows_on_duckdb(root) == [IN_NEW_YORK]
