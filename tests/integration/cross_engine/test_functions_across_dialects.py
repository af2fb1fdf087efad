"""A function gives on every engine what it gives on the project dialect's own, or
the compile refuses it: each expression below, written in its project's dialect,
is run with `Project.show` on DuckDB, PostgreSQL and Spark; its value on the
dialect's own engine is the reference, and another engine either gives the same
value or the query fails (the compile names the expression, or the engine refuses
what sqlglot wrote for it). Among them
every function found giving another value silently (compiler.function_meanings):
log(), the days of the week, day and month names, regexp_replace()'s first
match, flags and groups, left()/right() of a negative length, a date minus a
date, hash(), format(), weekday(), regexp_matches(), SIMILAR TO, a double's text
(compiler.double_texts); and functions
that agree, so that a rewrite breaking them shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from featureduck.errors import DatabaseError, UnsupportedSqlError
from tests.conftest import ProjectFactory, pg_profile, spark_output

SUNDAY, SATURDAY, MONDAY = "timestamp '2024-03-10 08:30:00'", "timestamp '2024-03-16 23:00:00'", "timestamp '2024-03-11 00:00:00'"
DAYS = (SUNDAY, SATURDAY, MONDAY)
EXPRESSIONS = {
    "duckdb": [
        "log(100)", "log(2, 8)", "ln(10)", "log10(1000)",
        *(f"extract(dow from {day})" for day in DAYS), *(f"dayofweek({day})" for day in DAYS),
        *(f"isodow({day})" for day in DAYS), *(f"extract(isodow from {day})" for day in DAYS),
        f"dayname({SUNDAY})", f"monthname({SUNDAY})", f"weekday({SUNDAY})",
        "regexp_replace('aaa', 'a', 'b')", "regexp_replace('aaa', 'a', 'b', 'g')", "regexp_replace('aXa', 'x', 'y', 'gi')",
        "regexp_replace('abc', '(b)', '[\\1]', 'g')", "regexp_matches('ABC', 'b', 'i')", "regexp_matches('abc', '^a')",
        "regexp_extract('abc123', '[0-9]+')", "regexp_extract('abc123', '([a-z]+)([0-9]+)', 2)",
        "left('hello', -2)", "right('hello', -2)", "left('hello', 2)", "right('hello', 7)", "left('hello', 0)",
        "hash(1)", "format('{}-{}', 1, 2)", "date '2024-03-10' - date '2024-03-01'", "current_date - current_date",
        "'abc' similar to 'a.*'",
        "concat('a', NULL, 'b')", "concat_ws(',', 'a', NULL, 'b')", "lpad('hello', 3, 'x')", "split_part('a,b,c', ',', -1)",
        "trim('xxhixx', 'x')", "instr('hello', 'l')", "replace('hello', 'l', 'L')", "translate('hello', 'lo', 'x')",
        "greatest(1, NULL, 3)", "-7 % 3", "-7 // 2", "7 / 2", "floor(-2.5)", "ceil(-2.5)",
        "date_trunc('week', timestamp '2024-03-07 10:00:00')", "last_day(date '2024-02-10')",
        "extract(week from timestamp '2024-12-30 00:00:00')", "extract(doy from timestamp '2024-12-30 00:00:00')",
        "cast(2.0::double as varchar)", "cast(abs(-2e0) as varchar)", "cast(abs(-0.5e0) as varchar)", "cast(abs(-1e15) as varchar)",
        "cast(abs(-7) as varchar)",
    ],
    "spark": [
        "log(100)", "log(10, 100)", *(f"dayofweek({day})" for day in DAYS), *(f"extract(dow from {day})" for day in DAYS),
        f"dayname({SUNDAY})", f"monthname({SUNDAY})", f"weekday({SUNDAY})",
        "regexp_replace('aaa', 'a', 'b')", "regexp_replace('abc', '(b)', '[$1]')", "'abc' rlike 'b'",
        "left('hello', -2)", "right('hello', -2)", "left('hello', 2)",
        "hash(1)", "format_string('%s-%s', 1, 2)", "instr('hello', 'l')", "nvl(NULL, 1)",
        "date '2024-03-10' - date '2024-03-01'", "cast(abs(cast(2 as double)) as string)", "cast(abs(-7) as string)",
    ],
    "postgres": [
        "log(100)", "ln(10)", *(f"extract(dow from {day})" for day in DAYS), *(f"extract(isodow from {day})" for day in DAYS),
        "regexp_replace('aaa', 'a', 'b')", "regexp_replace('aaa', 'a', 'b', 'g')", "regexp_replace('abc', '(b)', '[\\1]', 'g')",
        "left('hello', -2)", "right('hello', -2)", "format('%s-%s', 1, 2)", "'ABC' ~* 'b'",
        "'2024-03-10'::date - '2024-03-01'::date", "'abc' similar to 'a%'", "regexp_matches('abc1', '[0-9]')",
        "cast(abs(2::float8) as text)",
    ],
}
OWN_TARGET = {"duckdb": "dev", "postgres": "pg", "spark": "spark"}


def _value(value: Any) -> Any:
    """A value as the engines can agree on it: numbers by value, times without a zone (UTC), text as is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 9)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if type(value).__name__ == "MonthDayNano":  # Arrow's interval, as DuckDB's rows come
        return (value.months, dt.timedelta(days=value.days, microseconds=value.nanoseconds / 1000))
    if isinstance(value, dt.timedelta):  # Postgres's and Spark's
        return (0, value)
    return value


def _shown(root: Path, target: str, expression: str) -> Any:
    preview = Project.load(root, target=target).show(inline=f"select {expression} as v")
    return _value(preview.rows[0][0])


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_each_function_gives_its_dialects_value_or_is_refused(make_project: ProjectFactory, pg_schema: str,
                                                              spark_warehouse: Path, tmp_path: Path, dialect: str) -> None:
    schema = f"fd_functions_{dialect}_{tmp_path.name[-6:]}".replace("-", "_").lower()
    root = make_project({"featureduck_project.yml": f"name: proj\ndialect: {dialect}\n",
                         "profiles.yml": pg_profile(pg_schema) + spark_output(spark_warehouse, schema)})
    wrong, refused = [], 0
    for expression in EXPRESSIONS[dialect]:
        reference = _shown(root, OWN_TARGET[dialect], expression)
        for target in ("dev", "pg", "spark"):
            if target == OWN_TARGET[dialect]:
                continue
            try:
                value = _shown(root, target, expression)
            except UnsupportedSqlError as err:  # at compile time, naming the query
                assert err.location is not None and err.location.file == "<--inline>", err
                refused += 1
                continue
            except DatabaseError:  # the engine refused what it was given: an error too, not a wrong value
                continue
            if value != reference:
                wrong.append(f"{expression} on {target}: {value!r}, on {dialect}'s own engine {reference!r}")
    assert not wrong, "\n".join(wrong)
    assert refused > 0  # the refusals are part of what is pinned


def test_a_difference_of_date_columns_is_refused_where_spark_makes_it_an_interval(
        make_project: ProjectFactory, spark_warehouse: Path, tmp_path: Path) -> None:
    """The compile cannot tell two date columns from numbers; Spark's built column type can."""
    schema = f"fd_date_diff_{tmp_path.name[-6:]}".replace("-", "_").lower()
    duck = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n"
    root = make_project({
        "profiles.yml": duck + spark_output(spark_warehouse, schema),
        "seeds/spans.csv": "id,opened,closed\n1,2024-03-01,2024-03-10\n2,2024-02-28,2024-03-01\n",
        "seeds/seeds.yml": "seeds:\n  - name: spans\n    config: {column_types: {id: integer, opened: date, closed: date}}\n",
        "models/subtracted.sql": "{{ config(materialized='table') }} select id, closed - opened as days from {{ ref('spans') }}",
        "models/counted.sql": "{{ config(materialized='table') }} select id, date_diff('day', opened, closed) as days, "
                              "interval 3 day as grace from {{ ref('spans') }}",  # an interval meant is built
    })
    on_duckdb, _ = Project.load(root, target="dev").build()
    assert not on_duckdb.failed
    on_spark, _ = Project.load(root, target="spark").build()
    failed = {r.name: r.message for r in on_spark.results if r.status == "error"}
    assert set(failed) == {"subtracted"}
    assert "days came out as intervals of days on spark" in failed["subtracted"]
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    assert spark is not None
    assert sorted(tuple(r) for r in spark.sql(f"select id, days from {schema}.counted").collect()) == [(1, 9), (2, 2)]
