"""A division means what its project's dialect says on every target: the same model
built by `fduck run` on DuckDB and on Postgres gives the same rows, for random
integers (negative ones among them), decimals and doubles, in a project written in
Postgres's SQL (`/` by type, `div()` always the integer quotient) and in DuckDB's
(`/` always the fraction, `//` by type)."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile

pytestmark = pytest.mark.postgres

SEED_TYPES = "seeds:\n  - name: numbers\n    config: {column_types: {id: integer, a: integer, b: bigint, x: 'decimal(12, 2)', y: double}}\n"
MODELS = {  # each division of the dialect, of each kind of operand
    "postgres": "select id, a / b as ints, -a / b as negated, x / b as decimal_by_int, a / y as int_by_double, div(a, b) as quotient, "
                "div(x, b) as decimal_quotient, a / 4 as by_literal, 7 / 2 as literals, (a + 1) / b / 2 as nested "
                "from {{ ref('numbers') }}",
    "duckdb": "select id, a / b as ints, a // b as by_type, -a // b as negated, x // b as decimal_by_int, y // b as double_by_int, "
              "a // 4 as by_literal, 7 // 2 as literals, (a + 1) // b // 2 as nested from {{ ref('numbers') }}",
}


def _rows(root: Path, schema: str, target: str, pg_dsn: str) -> list[tuple[Any, ...]]:
    query = "select * from {}.divided order by id"
    if target == "pg":
        with psycopg.connect(pg_dsn) as con:
            return [tuple(r) for r in con.execute(query.format(schema)).fetchall()]
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return [tuple(r) for r in con.execute(query.format("main")).fetchall()]


def _same(first: Any, second: Any) -> bool:
    """Equal values: a fraction to 12 digits (Postgres's numeric against DuckDB's double)."""
    if first is None or second is None:
        return first is second
    if isinstance(first, (float, Decimal)) or isinstance(second, (float, Decimal)):
        return math.isclose(float(first), float(second), rel_tol=1e-12, abs_tol=1e-12)
    return bool(first == second)


@pytest.mark.parametrize("dialect", ["postgres", "duckdb"])
def test_a_division_gives_the_same_rows_on_each_target(make_project: ProjectFactory, pg_dsn: str, pg_schema: str, dialect: str) -> None:
    rng = random.Random(29)
    lines = ["id,a,b,x,y"]
    for key in range(300):
        lines.append(f"{key},{rng.randrange(-1000, 1000)},{rng.choice([-1, 1]) * rng.randrange(1, 50)},"
                     f"{rng.randrange(-10**6, 10**6) / 100:.2f},{rng.uniform(-100, 100) or 1.0!r}")
    root = make_project({
        "featureduck_project.yml": f"name: proj\ndialect: {dialect}\n", "profiles.yml": pg_profile(pg_schema),
        "seeds/numbers.csv": "\n".join(lines) + "\n", "seeds/seeds.yml": SEED_TYPES, "models/divided.sql": MODELS[dialect],
    })
    for target in ("dev", "pg"):
        built = fduck("build", "--target", target, cwd=root)
        assert built.returncode == 0, built.stdout + built.stderr
    on_duckdb, on_postgres = _rows(root, pg_schema, "dev", pg_dsn), _rows(root, pg_schema, "pg", pg_dsn)
    assert len(on_duckdb) == len(on_postgres) == 300
    for left, right in zip(on_duckdb, on_postgres, strict=True):
        assert all(_same(a, b) for a, b in zip(left, right, strict=True)), (left, right)
    # and what the dialect means, against Python: two integers' quotient toward zero, or their fraction
    pairs = [(int(line.split(",")[1]), int(line.split(",")[2])) for line in lines[1:]]
    by_type = [row[1 if dialect == "postgres" else 2] for row in on_duckdb]
    assert by_type == [int(a / b) for a, b in pairs]
    if dialect == "duckdb":
        assert all(_same(row[1], a / b) for row, (a, b) in zip(on_duckdb, pairs, strict=True))
    assert {row[8 if dialect == "postgres" else 7] for row in on_duckdb} == {3}  # 7 / 2 (Postgres), 7 // 2 (DuckDB)
