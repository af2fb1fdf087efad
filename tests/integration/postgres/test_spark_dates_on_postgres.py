"""A Spark project's date minus a date on Postgres: an interval of days in Spark, a
number of days in Postgres. Postgres has no typeof() its planner folds, so the test
is pg_typeof() per row: built through the CLI on a real server, the subtraction of
two date columns fails naming the model's line (the previous table kept), and every
other subtraction builds the values Spark gives."""

from __future__ import annotations

import datetime

import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile
from tests.integration.duckdb.test_spark_dates_on_duckdb import SEEDS, TABLE

pytestmark = pytest.mark.postgres


def test_a_spark_projects_difference_of_date_columns_fails_on_postgres_naming_the_line(
        make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = make_project({
        "featureduck_project.yml": "name: proj\ndialect: spark\n", "profiles.yml": pg_profile(pg_schema),
        "seeds/spans.csv": "id,opened,closed,n\n1,2024-03-01,2024-03-10,5\n2,2024-02-28,2024-03-01,7\n",
        "seeds/seeds.yml": SEEDS,
        "models/gaps.sql": TABLE + "select id,\n  datediff(closed, opened) as days from {{ ref('spans') }}",
        "models/others.sql": TABLE + "select id, n - id as k, closed - n as earlier, abs(n) - 1 as m, "
                                     "current_timestamp() - current_timestamp() as none from {{ ref('spans') }}",
    })
    built = fduck("build", "--target", "pg", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    (root / "models" / "gaps.sql").write_text(TABLE + "select id,\n  closed - opened as days from {{ ref('spans') }}")
    failed = fduck("run", "-s", "gaps", "--target", "pg", cwd=root)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "models/gaps.sql:3:" in output and "a date minus a date is an interval of days in spark" in output, output
    with psycopg.connect(pg_dsn) as con:
        assert con.execute(f"select id, days from {pg_schema}.gaps order by id").fetchall() == [(1, 9), (2, 2)]
        others = con.execute(f"select id, k, earlier, m, none from {pg_schema}.others order by id").fetchall()
    assert others == [(1, 4, datetime.date(2024, 3, 5), 4, datetime.timedelta(0)),
                      (2, 5, datetime.date(2024, 2, 23), 6, datetime.timedelta(0))]
