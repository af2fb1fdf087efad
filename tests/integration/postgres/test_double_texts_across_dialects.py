"""A double cast to text gives on Postgres the text DuckDB gives: one DuckDB project's
model built by `fduck build` on DuckDB and on Postgres, over seeded random doubles of
every magnitude (whole ones, the edges of plain notation, subnormals, negatives) and
the infinities and NaN, gives the same texts; an integer's and a string's casts are
untouched. (On Spark a double's text is Java's and the cast is refused: tests/unit.)"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import psycopg
import pytest

from tests.conftest import ProjectFactory, fduck, pg_profile

pytestmark = pytest.mark.postgres

SEED_TYPES = "seeds:\n  - name: numbers\n    config: {column_types: {id: integer, y: double, n: bigint, s: varchar}}\n"
MODELS = {
    "texts.sql": "select id, cast(y as varchar) as y_text, cast(n as varchar) as n_text, cast(s as varchar) as s_text, "
                 "cast(-y as text) as negated from {{ ref('numbers') }}",
    "named.sql": "select 1 as id, cast(cast('inf' as double) as varchar) as inf, cast(-cast('inf' as double) as varchar) as minus_inf, "
                 "cast(cast('nan' as double) as varchar) as nan, cast(1e15 as varchar) as big, cast(2.0::double as varchar) as two, "
                 "cast(abs(-7) as varchar) as seven",  # a constant the planner folds: its refusal must not be
}


def _doubles(rng: random.Random) -> list[float]:
    edges = [0.0, 1.0, -1.0, 1e-4, 9.999e-5, 1e-5, 1e15, 9999999999999998.0, 1e22, 1.2345e15, -1.2345678901234567e15,
             123456789.0, 5e-324, 1.7976931348623157e308, 2.0 ** 53, 0.1, 1 / 3, 0.1 + 0.2]
    drawn = [rng.uniform(1, 10) * 10.0 ** rng.randrange(-320, 308) for _ in range(300)]
    whole = [float(rng.randrange(10 ** rng.randrange(1, 18))) for _ in range(100)]
    near_plain_edges = [rng.uniform(1, 10) * 10.0 ** rng.choice([-6, -5, -4, -3, 14, 15, 16]) for _ in range(100)]
    # from 1e16 to 1e22 Postgres's digits are not always the shortest: refused there (below)
    return [v * rng.choice([1, -1]) for v in edges + drawn + whole + near_plain_edges if not 1e16 <= v < 1e22]


def _rows(root: Path, schema: str, target: str, pg_dsn: str, table: str) -> list[tuple[object, ...]]:
    query = f"select * from {{}}.{table} order by id"
    if target == "pg":
        with psycopg.connect(pg_dsn) as con:
            return [tuple(r) for r in con.execute(query.format(schema)).fetchall()]
    with duckdb.connect(str(root / "target/dev.duckdb"), read_only=True) as con:
        return [tuple(r) for r in con.execute(query.format("main")).fetchall()]


def test_a_doubles_text_on_postgres_is_duckdbs(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    rng = random.Random(41)
    values = _doubles(rng)
    lines = ["id,y,n,s"] + [f"{i},{v!r},{rng.randrange(-10 ** 12, 10 ** 12)},t{i}" for i, v in enumerate(values)]
    root = make_project({
        "featureduck_project.yml": "name: proj\ndialect: duckdb\n", "profiles.yml": pg_profile(pg_schema),
        "seeds/numbers.csv": "\n".join(lines) + "\n", "seeds/seeds.yml": SEED_TYPES,
        **{f"models/{name}": sql for name, sql in MODELS.items()},
    })
    for target in ("dev", "pg"):
        built = fduck("build", "--target", target, cwd=root)
        assert built.returncode == 0, built.stdout + built.stderr
    for table in ("texts", "named"):
        on_duckdb, on_postgres = _rows(root, pg_schema, "dev", pg_dsn, table), _rows(root, pg_schema, "pg", pg_dsn, table)
        assert len(on_duckdb) == len(on_postgres) > 0
        wrong = [(d, p) for d, p in zip(on_duckdb, on_postgres, strict=True) if d != p]
        assert not wrong, wrong[:5]
    assert _rows(root, pg_schema, "pg", pg_dsn, "named") == [(1, "inf", "-inf", "nan", "1000000000000000.0", "2.0", "7")]
    # 2^54 and up: Postgres writes 30768979552546112, the shortest digits are 3076897955254611
    (root / "models" / "refused.sql").write_text("{{ config(materialized='table') }}\n"
                                                  "select cast(cast('3.0768979552546112e16' as double) as varchar) as t")
    refused = fduck("run", "-s", "refused", "--target", "pg", cwd=root)
    assert refused.returncode != 0
    assert "models/refused.sql:2:" in refused.stdout and "a double from 1e16 to 1e22" in refused.stdout, refused.stdout
    assert fduck("run", "-s", "refused", cwd=root).returncode == 0
