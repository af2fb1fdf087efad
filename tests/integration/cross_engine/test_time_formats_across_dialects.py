"""A date format means what the project's dialect says on every engine: for each
pair of project dialect and target, a model formats 360 timestamps (year ends,
leap days, every hour of the clock's halves) with every code both dialects list
as meant alike (compiler.dialect_facts), in the project dialect's own spelling,
and with literal text; the rows built on the target are strftime's, computed in
Python. Parsing what was formatted gives the time back. A code outside those
lists is refused at compile time (tests/unit/test_time_formats.py)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from sqlglot.dialects.dialect import Dialect

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from tests.conftest import ProjectFactory, fduck, pg_profile, spark_output

DIALECTS = ("duckdb", "postgres", "spark")
SEEDS = "seeds:\n  - name: stamps\n    config: {column_types: {id: integer, ts: timestamp}}\n"
# Spark's formats quote with ', so its model's strings are written in double quotes.
FORMAT_CALL = {"duckdb": "strftime({value}, '{format}')", "postgres": "to_char({value}, '{format}')",
               "spark": 'date_format({value}, "{format}")'}
PARSE_CALL = {"duckdb": "strptime({value}, '{format}')", "postgres": "to_timestamp({value}, '{format}')",
              "spark": 'to_timestamp({value}, "{format}")'}
# Literal text beside codes, each in its dialect's quoting, and what strftime prints for it.
LITERALS = {
    "duckdb": ("Day %d of %B, %Y at %H:%M (T%j)", "Day %d of %B, %Y at %H:%M (T%j)"),
    "postgres": ('"Day "DD" of "TMMonth", "YYYY" at "HH24:MI" (T"DDD")"', "Day %d of %B, %Y at %H:%M (T%j)"),
    "spark": ("'Day 'dd' of 'MMMM', 'yyyy' at 'HH:mm (DDD), hh 'o''clock' a", "Day %d of %B, %Y at %H:%M (%j), %I o'clock %p"),
}
# A time formatted and parsed back with the same format, in each dialect's spelling of the strftime format on the right.
ROUND_TRIPS = {
    "duckdb": ("%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"),
    "postgres": ("DD/MM/YYYY HH24:MI:SS", "YYYY-MM-DD HH24:MI:SS.US"),
    "spark": ("dd/MM/yyyy HH:mm:ss", "yyyy-MM-dd HH:mm:ss.SSSSSS"),
}
TRIPPED = ("%Y%m%d%H%M%S", "%Y%m%d%H%M%S%f")  # what each round trip keeps of the time
_PYTHON = {"%mstrict": "%m", "%dstrict": "%d", "%Hstrict": "%H", "%Istrict": "%I", "%Mstrict": "%M", "%Sstrict": "%S"}


def _stamps() -> list[dt.datetime]:
    rng = random.Random(20261207)
    stamps = []
    for year in range(1998, 2032):
        for month, day in ((1, 1), (1, 2), (1, 3), (1, 4), (1, 7), (2, 28), (6, 15), (12, 29), (12, 30), (12, 31)):
            stamps.append(dt.datetime(year, month, day, rng.choice([0, 1, 11, 12, 13, 23]), rng.randint(0, 59),
                                      rng.randint(0, 59), rng.choice([0, 5, 123456, 999999])))
        if year % 4 == 0:
            stamps.append(dt.datetime(year, 2, 29, 12, 0, 0))
    return stamps


def _strftime(code: str, stamp: dt.datetime) -> str:
    """strftime's meaning of a sqlglot format code (C locale), as the dialects' rows claim it."""
    if code == "%Aenlower":
        return stamp.strftime("%A").lower()
    if code == "%aenlower":
        return stamp.strftime("%a").lower()
    if code == "%Ythree":
        return stamp.strftime("%Y")[-3:]
    if code == "%g":
        return f"{stamp.microsecond // 1000:03d}"
    if code == "%n":
        return f"{stamp.microsecond * 1000:09d}"
    return stamp.strftime(_PYTHON.get(code, code))


def _means(facts: DialectFacts) -> set[str]:
    return set(facts.format_codes) | set(facts.format_spellings)


def _codes(source: str, target: str) -> list[str]:
    read, written = dialect_facts(source), dialect_facts(target)
    assert read is not None and written is not None
    return sorted(code for code in _means(read) & _means(written))


def _spelling(dialect: str, code: str) -> str:
    facts = dialect_facts(dialect)
    assert facts is not None
    return facts.format_spellings.get(code) or Dialect.get_or_raise(dialect).INVERSE_TIME_MAPPING.get(code, code)


def _model(source: str, codes: list[str]) -> str:
    columns = [FORMAT_CALL[source].format(value="ts", format=_spelling(source, code)) + f" as c{index}"
               for index, code in enumerate(codes)]
    literal = LITERALS[source][0] if source == "spark" else LITERALS[source][0].replace("'", "''")
    columns.append(FORMAT_CALL[source].format(value="ts", format=literal) + " as literal")
    for index, (written, kept) in enumerate(zip(ROUND_TRIPS[source], TRIPPED, strict=True)):
        parsed = PARSE_CALL[source].format(value=FORMAT_CALL[source].format(value="ts", format=written), format=written)
        kept_format = {"duckdb": kept, "postgres": "YYYYMMDDHH24MISS" + "US" * kept.endswith("%f"),
                       "spark": "yyyyMMddHHmmss" + "SSSSSS" * kept.endswith("%f")}[source]
        columns.append(FORMAT_CALL[source].format(value=f"cast({parsed} as timestamp)", format=kept_format) + f" as trip{index}")
    return "select id, " + ", ".join(columns) + " from {{ ref('stamps') }}"


def _reference(source: str, codes: list[str]) -> list[tuple[Any, ...]]:
    return [(key, *(_strftime(code, stamp) for code in codes), stamp.strftime(LITERALS[source][1]),
             *(stamp.strftime(kept) for kept in TRIPPED)) for key, stamp in enumerate(_stamps())]


def _project(make_project: ProjectFactory, source: str, codes: list[str], profiles: str) -> Path:
    lines = ["id,ts", *(f"{key},{stamp.isoformat(sep=' ')}" for key, stamp in enumerate(_stamps()))]
    return make_project({"featureduck_project.yml": f"name: proj\ndialect: {source}\n", "profiles.yml": profiles,
                         "seeds/stamps.csv": "\n".join(lines) + "\n", "seeds/seeds.yml": SEEDS,
                         "models/formatted.sql": _model(source, codes)})


def _key(row: tuple[Any, ...]) -> int:
    return int(row[0])


@pytest.mark.parametrize("source", DIALECTS)
@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_formats_give_strftimes_text_on_duckdb_and_postgres(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                           source: str, target: str) -> None:
    codes = _codes(source, target)
    root = _project(make_project, source, codes, pg_profile(pg_schema))
    built = fduck("build", "--target", {"duckdb": "dev", "postgres": "pg"}[target], cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    if target == "duckdb":
        with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
            rows = con.execute("select * from main.formatted").fetchall()
    else:
        with psycopg.connect(pg_dsn) as con:
            rows = con.execute(f"select * from {pg_schema}.formatted").fetchall()
    assert sorted(rows, key=_key) == _reference(source, codes)


@pytest.mark.parametrize("source", DIALECTS)
def test_formats_give_strftimes_text_on_spark(make_project: ProjectFactory, spark_warehouse: Path, tmp_path: Path,
                                             source: str) -> None:
    from pyspark.sql import SparkSession

    from featureduck.api import Project

    schema = f"fd_formats_{source}_{tmp_path.name[-6:]}".replace("-", "_").lower()
    duck = "default:\n  target: spark\n  outputs:\n"
    codes = _codes(source, "spark")
    root = _project(make_project, source, codes, duck + spark_output(spark_warehouse, schema))
    results, _ = Project.load(root, target="spark").build()
    assert not results.failed, [r.message for r in results.results if r.status == "error"]
    spark = SparkSession.getActiveSession()
    assert spark is not None
    rows = [tuple(row) for row in spark.sql(f"select * from {schema}.formatted").collect()]
    assert sorted(rows, key=_key) == _reference(source, codes)
