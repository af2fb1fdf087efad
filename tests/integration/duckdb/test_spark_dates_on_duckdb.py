"""A Spark project's date minus a date on DuckDB: an interval of days in Spark, a
number of days in DuckDB, and two date columns look like numbers to the compile.
Built through the CLI on a real DuckDB file, the subtraction of two dates fails
naming the model's line (the previous table kept), and every other subtraction
builds the values Spark gives."""

from __future__ import annotations

import duckdb

from tests.conftest import ProjectFactory, fduck

SEEDS = "seeds:\n  - name: spans\n    config: {column_types: {id: integer, opened: date, closed: date, n: integer}}\n"
TABLE = "{{ config(materialized='table') }}\n"


def test_a_spark_projects_difference_of_date_columns_fails_on_duckdb_naming_the_line(make_project: ProjectFactory) -> None:
    root = make_project({
        "featureduck_project.yml": "name: proj\ndialect: spark\n",
        "seeds/spans.csv": "id,opened,closed,n\n1,2024-03-01,2024-03-10,5\n2,2024-02-28,2024-03-01,7\n",
        "seeds/seeds.yml": SEEDS,
        "models/gaps.sql": TABLE + "select id,\n  datediff(closed, opened) as days from {{ ref('spans') }}",
        "models/others.sql": TABLE + "select id, n - id as k, closed - n as earlier, n - 1 as m from {{ ref('spans') }}",
    })
    assert fduck("seed", cwd=root).returncode == 0
    built = fduck("run", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    (root / "models" / "gaps.sql").write_text(TABLE + "select id,\n  closed - opened as days from {{ ref('spans') }}")
    failed = fduck("run", "-s", "gaps", cwd=root)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "models/gaps.sql:3:" in output and "a date minus a date is an interval of days in spark" in output, output
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as db:
        assert db.execute("select id, days from gaps order by id").fetchall() == [(1, 9), (2, 2)]  # the previous build
        others = db.execute("select id, k, earlier, m from others order by id").fetchall()
    assert [(i, k, str(earlier), m) for i, k, earlier, m in others] == [(1, 4, "2024-03-05", 4), (2, 5, "2024-02-23", 6)]
