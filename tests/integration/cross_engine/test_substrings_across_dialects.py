"""substring() means what the project's dialect says on every engine: the same
models built on DuckDB, Postgres and Spark give the same rows, and the dialect's
rule computed in Python, for every start from -8 to 8 and length from -3 to 7 of
strings shorter and longer than those (NULLs too).

DuckDB counts a negative start from the end and takes a negative length's
characters before the start; Spark counts a negative start from the end, reads 0
as 1 and gives '' for a negative length; Postgres takes the positions as given
(and refuses a negative length, so its models skip those rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile, spark_output

STRINGS = ["hello", "héllo wörld", "ab", "x"]
SEEDS = "seeds:\n  - name: texts\n    config: {column_types: {id: integer, s: varchar, a: integer, n: integer}}\n"
BY_DIALECT = {
    "duckdb": "select id, substring(s, a, n) as sub, substring(s, a) as tail, substring(s, -3) as last3, "
              "substring(s, 0, 2) as zero2, substring(s, 3, -2) as before, substr(s, 2, length(s) - 2) as inner_part "
              "from {{ ref('texts') }}",
    "postgres": "select id, substring(s from a for n) as sub, substring(s from a) as tail, substring(s from -3) as last3, "
                "substring(s from 0 for 2) as zero2 from {{ ref('texts') }} where n >= 0",
}
BY_DIALECT["spark"] = BY_DIALECT["duckdb"]


def _rows() -> list[tuple[int, str, int | None, int | None]]:
    rows: list[tuple[int, str, int | None, int | None]] = []
    for text in STRINGS:
        for start in [*range(-8, 9), None]:
            for length in [*range(-3, 8), None]:
                rows.append((len(rows), text, start, length))
    return rows


def _positions(dialect: str, size: int, start: int, length: int | None) -> tuple[int, float]:
    """[low, high) of 1-based positions the dialect reads."""
    first = size + start + 1 if start < 0 and dialect != "postgres" else 1 if start == 0 and dialect == "spark" else start
    if length is None:
        return first, float("inf")
    if length < 0:
        return (first + length, first) if dialect == "duckdb" else (first, first)
    return first, first + length


def _substring(dialect: str, text: str, start: int | None, length: int | None, with_length: bool = True) -> str | None:
    if start is None or (with_length and length is None):
        return None
    low, high = _positions(dialect, len(text), start, length if with_length else None)
    low = max(low, 1)
    return text[low - 1:int(min(high, len(text) + 1)) - 1] if high > low else ""


def _expected(dialect: str, rows: list[tuple[int, str, int | None, int | None]]) -> list[tuple[Any, ...]]:
    expected = []
    for key, text, start, length in rows:
        shared = (key, _substring(dialect, text, start, length), _substring(dialect, text, start, None, with_length=False),
                  _substring(dialect, text, -3, None, with_length=False), _substring(dialect, text, 0, 2))
        if dialect == "postgres":
            if length is not None and length >= 0:
                expected.append(shared)
        else:
            expected.append((*shared, _substring(dialect, text, 3, -2), _substring(dialect, text, 2, len(text) - 2)))
    return sorted(expected, key=_key)


def _key(row: tuple[Any, ...]) -> int:
    return int(row[0])


def _project(make_project: ProjectFactory, dialect: str, profiles: str) -> Path:
    lines = ["id,s,a,n", *(f"{key},{text},{'' if a is None else a},{'' if n is None else n}" for key, text, a, n in _rows())]
    return make_project({"featureduck_project.yml": f"name: proj\ndialect: {dialect}\n", "profiles.yml": profiles,
                         "seeds/texts.csv": "\n".join(lines) + "\n", "seeds/seeds.yml": SEEDS,
                         "models/substrings.sql": BY_DIALECT[dialect]})


def _on_duckdb(root: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return sorted(con.execute("select * from main.substrings").fetchall(), key=_key)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_substring_gives_the_dialects_rows_on_duckdb_and_postgres(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                                  dialect: str) -> None:
    root = _project(make_project, dialect, pg_profile(pg_schema))
    for target in ("dev", "pg"):
        built = fduck("build", "--target", target, cwd=root)
        assert built.returncode == 0, built.stdout + built.stderr
    with psycopg.connect(pg_dsn) as con:
        on_postgres = sorted(con.execute(f"select * from {pg_schema}.substrings").fetchall(), key=_key)
    reference = _expected(dialect, _rows())
    assert _on_duckdb(root) == reference
    assert on_postgres == reference


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_substring_gives_the_dialects_rows_on_spark(make_project: ProjectFactory, spark_warehouse: Path, tmp_path: Path,
                                                    dialect: str) -> None:
    from pyspark.sql import SparkSession

    from featureduck.api import Project

    schema = f"fd_substr_{dialect}_{tmp_path.name[-6:]}".replace("-", "_").lower()
    duck = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n"
    root = _project(make_project, dialect, duck + spark_output(spark_warehouse, schema))
    for target in ("dev", "spark"):
        results, _ = Project.load(root, target=target).build()
        assert not results.failed, [r.message for r in results.results if r.status == "error"]
    spark = SparkSession.getActiveSession()
    assert spark is not None
    on_spark = sorted((tuple(row) for row in spark.sql(f"select * from {schema}.substrings").collect()), key=_key)
    reference = _expected(dialect, _rows())
    assert _on_duckdb(root) == reference
    assert on_spark == reference
