"""round() and a cast to an integer mean what the project's dialect says on every
engine: the same models built on DuckDB, Postgres and Spark give the same rows, and
the dialect's rounding computed in Python, for doubles at and beside halves,
decimals and averages.

Postgres rounds a double's half to even and a numeric's away from zero (an average
of integers is a numeric there, a double on DuckDB and Spark); DuckDB rounds every
half away from zero, and to digits rounds a double's product with the power of ten
(`round(1.005, 2)` is 1.0; Spark's own round gives 1.01). A cast of a fraction to
an integer rounds a double's half to even and a decimal's away on DuckDB and
Postgres, and truncates on Spark."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile, spark_output

SEEDS = "seeds:\n  - name: numbers\n    config: {column_types: {id: integer, g: integer, a: integer, x: 'decimal(12, 2)', y: double}}\n"
ROUNDED_ELSEWHERE = {
    "rounded": "select id, round(y) as y0, round(y, 0) as y00, round(x) as x0, round(a) as a0, round(y / 4) as quarter "
               "from {{ ref('numbers') }}",
    "averaged": "select g, round(avg(a)) as avg_a, round(avg(y)) as avg_y, round(avg(x)) as avg_x from {{ ref('numbers') }} group by g",
}
CAST_AVERAGES = "select g, cast(avg(a) as int) as avg_a, cast(avg(x) as int) as avg_x, cast(avg(y) as int) as avg_y " \
                "from {{ ref('numbers') }} group by g"
MODELS = {
    "postgres": {
        "rounded": "select id, round(y) as y0, round(x) as x0, round(y::float8 / 4) as quarter, round(a / 2.0) as a_half, "
                   "round(a::numeric(12, 2) / 4) as a_quarter, round(sqrt((x * x)::numeric(24, 4))) as x_root from {{ ref('numbers') }}",
        "averaged": "select g, round(avg(a)) as avg_a, round(avg(y)) as avg_y, round(avg(x)) as avg_x from {{ ref('numbers') }} group by g",
        "cast_rows": "select id, y::int as yi, x::int as xi, (y::float8 / 4)::bigint as quarter, (a / 4.0)::int as a_quarter, "
                     "(a::float8 / 4)::int as a_fquarter, sqrt((x * x)::numeric(24, 4))::int as x_root from {{ ref('numbers') }}",
        "cast_averaged": CAST_AVERAGES,
    },
    "duckdb": ROUNDED_ELSEWHERE | {
        "cast_rows": "select id, cast(y as int) as yi, cast(x as int) as xi, cast(y / 4 as bigint) as quarter, "
                     "cast(a / 4 as int) as a_quarter, cast(a as smallint) as a_small, "
                     "cast(avg(a) over (partition by g) as int) as a_mean from {{ ref('numbers') }}",
        "cast_averaged": CAST_AVERAGES,
    },
    "spark": ROUNDED_ELSEWHERE | {
        "cast_rows": "select id, cast(cast(y as double) as int) as yi, cast(cast(x as decimal(12, 2)) as int) as xi, "
                     "cast(cast(y / 4 as double) as bigint) as quarter, cast(cast(a / 4 as double) as int) as a_quarter, "
                     "cast(cast(a as int) as smallint) as a_small from {{ ref('numbers') }}",
        "cast_untyped": "select id, cast(y as int) as yi, cast(x as int) as xi, cast(a / 4 as int) as a_quarter, "
                        "cast(a > 0 as int) as positive, cast(a > 0 and y > 0 as int) as both_positive, "
                        "cast(cast(a as string) as int) as a_text, cast(a as bigint) as a_big from {{ ref('numbers') }}",
        "cast_averaged": CAST_AVERAGES,
    },
}
# to digits: Postgres has no round of a double to digits (its error says so); Spark rounds another way
TO_DIGITS = "select id, round(y, 2) as y2, round(y, -1) as y_tens, round(x, 1) as x1 from {{ ref('numbers') }}"


def _away(value: float | Decimal) -> Decimal:
    """Half away from zero, of the exact value."""
    return Decimal(value).quantize(Decimal(1), ROUND_HALF_UP)


def _duckdb_digits(value: float, places: int) -> float:
    """DuckDB's round of a double to digits: the product with the power of ten rounded."""
    power = 10.0 ** abs(places)
    return float(_away(value * power)) / power if places > 0 else float(_away(value / power)) * power


def _numbers(rng: random.Random) -> list[dict[str, Any]]:
    halves = [k + 0.5 for k in range(-6, 6)]
    beside = [math.nextafter(h, d) for h in halves for d in (-math.inf, math.inf)]
    odd = [0.49999999999999994, -0.49999999999999994, 1.005, 0.285, 2.675, -2.675, 1234567.125, 0.0, -0.0]
    doubles = halves + beside + odd + [float(f"{rng.uniform(-1000, 1000):.3f}") for _ in range(120)]
    rows = []
    for key, y in enumerate(doubles):
        x = Decimal(rng.randrange(-2000, 2000)) / (2 if rng.random() < 0.5 else 100)
        rows.append({"id": key, "g": key // 2, "a": rng.randrange(-50, 50), "x": x.quantize(Decimal("0.01")), "y": y})
    return rows


def _by_group(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    by_group: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_group.setdefault(row["g"], []).append(row)
    return by_group


def _expected(dialect: str, rows: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    by_group = _by_group(rows)
    if dialect == "postgres":
        rounded = [(r["id"], round(r["y"]), _away(r["x"]), round(r["y"] / 4), _away(Decimal(r["a"]) / 2), _away(Decimal(r["a"]) / 4),
                    _away(abs(r["x"]))) for r in rows]  # its sqrt() of a numeric is a numeric
        averaged = [(g, _away(Decimal(sum(r["a"] for r in group)) / len(group)), round(sum(r["y"] for r in group) / len(group)),
                     _away(sum(r["x"] for r in group) / len(group))) for g, group in by_group.items()]
        cast_rows = [(r["id"], round(r["y"]), _away(r["x"]), round(r["y"] / 4), _away(Decimal(r["a"]) / 4), round(r["a"] / 4),
                      _away(abs(r["x"]))) for r in rows]
        return {"rounded": rounded, "averaged": averaged, "cast_rows": cast_rows,
                "cast_averaged": _cast_averages(by_group, _away, Decimal, round)}
    rounded = [(r["id"], _away(r["y"]), _away(r["y"]), _away(r["x"]), r["a"], _away(r["y"] / 4)) for r in rows]
    averaged = [(g, _away(sum(r["a"] for r in group) / len(group)), _away(sum(r["y"] for r in group) / len(group)),
                 _away(sum(r["x"] for r in group) / len(group))) for g, group in by_group.items()]
    expected = {"rounded": rounded, "averaged": averaged}
    if dialect == "duckdb":  # an average is a double, rounded half to even like any double
        means = {g: sum(r["a"] for r in group) / len(group) for g, group in by_group.items()}
        expected["cast_rows"] = [(r["id"], round(r["y"]), _away(r["x"]), round(r["y"] / 4), round(r["a"] / 4), r["a"],
                                  round(means[r["g"]])) for r in rows]
        expected["cast_averaged"] = _cast_averages(by_group, round, float, round)
    else:  # Spark truncates
        expected["cast_rows"] = [(r["id"], math.trunc(r["y"]), int(r["x"]), math.trunc(r["y"] / 4), math.trunc(r["a"] / 4), r["a"])
                                 for r in rows]
        expected["cast_untyped"] = [(r["id"], math.trunc(r["y"]), int(r["x"]), math.trunc(r["a"] / 4), int(r["a"] > 0),
                                     int(r["a"] > 0 and r["y"] > 0), r["a"], r["a"]) for r in rows]
        expected["cast_averaged"] = _cast_averages(by_group, int, Decimal, math.trunc)
    return expected


def _cast_averages(by_group: dict[int, list[dict[str, Any]]], of_exact: Callable[[Any], Any], exact: Callable[[Any], Any],
                   of_double: Callable[[float], Any]) -> list[tuple[Any, ...]]:
    """cast(avg(..) as int) per group: an average of integers and of decimals rounded by `of_exact` (of the value made by
    `exact`), of doubles by `of_double`."""
    return [(g, of_exact(exact(sum(r["a"] for r in group)) / len(group)), of_exact(exact(sum(r["x"] for r in group)) / len(group)),
             of_double(sum(r["y"] for r in group) / len(group))) for g, group in by_group.items()]


def _project(make_project: ProjectFactory, dialect: str, rows: list[dict[str, Any]], profiles: str) -> Path:
    lines = ["id,g,a,x,y", *(f"{r['id']},{r['g']},{r['a']},{r['x']},{r['y']!r}" for r in rows)]
    files = {"featureduck_project.yml": f"name: proj\ndialect: {dialect}\n", "profiles.yml": profiles,
             "seeds/numbers.csv": "\n".join(lines) + "\n", "seeds/seeds.yml": SEEDS}
    return make_project(files | {f"models/{name}.sql": sql for name, sql in MODELS[dialect].items()})


def _values(rows: list[tuple[Any, ...]]) -> list[tuple[float, ...]]:
    """Rows as numbers, in key order: the engines' types differ (a numeric, a double), the values must not."""
    return sorted(tuple(float(v) for v in row) for row in rows)


def _duckdb_rows(root: Path, model: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return con.execute(f"select * from main.{model}").fetchall()


@pytest.mark.parametrize("dialect", ["postgres", "duckdb", "spark"])
def test_round_gives_the_dialects_rows_on_duckdb_and_postgres(make_project: ProjectFactory, pg_dsn: str, pg_schema: str,
                                                              dialect: str) -> None:
    rows = _numbers(random.Random(41))
    root = _project(make_project, dialect, rows, pg_profile(pg_schema))
    for target in ("dev", "pg"):
        built = fduck("build", "--target", target, cwd=root)
        assert built.returncode == 0, built.stdout + built.stderr
    expected = _expected(dialect, rows)
    with psycopg.connect(pg_dsn) as con:
        for model, reference in expected.items():
            on_postgres = con.execute(f"select * from {pg_schema}.{model}").fetchall()
            assert _values(_duckdb_rows(root, model)) == _values(on_postgres) == _values(reference), model


@pytest.mark.parametrize("dialect", ["postgres", "duckdb", "spark"])
def test_round_gives_the_dialects_rows_on_spark(make_project: ProjectFactory, spark_warehouse: Path, tmp_path: Path,
                                               dialect: str) -> None:
    from pyspark.sql import SparkSession

    from featureduck.api import Project

    rows = _numbers(random.Random(43))
    schema = f"fd_round_{dialect}_{tmp_path.name[-6:]}".replace("-", "_").lower()
    duck = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n"
    profiles = duck + spark_output(spark_warehouse, schema)
    root = _project(make_project, dialect, rows, profiles)
    expected = _expected(dialect, rows)
    if dialect == "duckdb":
        (root / "models/to_digits.sql").write_text(TO_DIGITS)
        expected["to_digits"] = [(r["id"], _duckdb_digits(r["y"], 2), _duckdb_digits(r["y"], -1),
                                  r["x"].quantize(Decimal("0.1"), ROUND_HALF_UP)) for r in rows]
    for target in ("dev", "spark"):
        results, _ = Project.load(root, target=target).build()
        assert not results.failed, [r.message for r in results.results if r.status == "error"]
    spark = SparkSession.getActiveSession()
    assert spark is not None
    for model, reference in expected.items():
        on_spark = [tuple(r) for r in spark.sql(f"select * from {schema}.{model}").collect()]
        assert _values(_duckdb_rows(root, model)) == _values(on_spark) == _values(reference), model
