"""Constructs that would change meaning on a target are compile errors with their line."""

from __future__ import annotations

import pytest

from featureduck.api import Project
from featureduck.errors import UnsupportedSqlError
from tests.conftest import OFFLINE_PROFILES, ProjectFactory

CASES = [
    ("select a.k\nfrom t as a\nasof join u as b on a.k = b.k and a.ts >= b.ts", "ASOF JOIN", {"pg", "spark"}, 3),
    ("select *\nfrom t\nqualify row_number() over (partition by k order by ts) = 1", "SELECT * with QUALIFY", {"pg", "spark"}, 1),
    ("select k,\n  x::hugeint as big\nfrom t", "HUGEINT", {"pg", "spark"}, 2),
    ("select epoch_ms(ts) as ms from t", "epoch_ms()", {"pg", "spark"}, 1),
    ("select k,\n  dayofweek(ts) as dow\nfrom t", "dayofweek()", {"pg"}, 2),
    ("select k, count(*) as n from t group by all", "GROUP BY ALL", {"pg"}, 1),
    ("select arg_max(k, ts) as latest from t", "arg_max()/arg_min()", {"pg"}, 1),
    ("select {'a': k} as s from t", "STRUCT", {"pg"}, 1),
    ("select * exclude (k) from t", "* EXCLUDE / * REPLACE", {"pg"}, None),
    ("select time_bucket(interval 1 day, ts) as b from t", "time_bucket()", {"pg"}, 1),
    ("select k, array_agg(x order by ts) as xs from t group by k", "array_agg(... ORDER BY ...)", {"spark"}, 1),
    ("select extract(epoch from ts) as e from t", "extract(epoch from ...)", {"spark"}, 1),
    ("select date_diff('week', a, b) as d from t", "date_diff()", {"spark"}, 1),
    ("select l[-1] as last from t", "a negative list index", {"pg"}, 1),
]


@pytest.mark.parametrize(("sql", "construct", "rejected_on", "line"), CASES, ids=[c[1] for c in CASES])
def test_rejected_where_meaning_would_change(
    make_project: ProjectFactory, sql: str, construct: str, rejected_on: set[str], line: int | None
) -> None:
    root = make_project({"profiles.yml": OFFLINE_PROFILES, "models/m.sql": sql})
    for target in ("dev", "pg", "spark"):
        errors = Project.load(root, target=target).compile(use_cache=False).errors
        if target in rejected_on:
            error = errors["m"]
            assert isinstance(error, UnsupportedSqlError)
            assert f"{construct} cannot be compiled for" in error.message
            assert error.location is not None and error.location.file == "models/m.sql"
            if line is not None:
                assert error.location.line == line
            assert error.hint
        else:
            assert "m" not in errors, f"{construct} wrongly rejected on {target}: {errors.get('m')}"


def test_list_length_and_date_arithmetic_are_rewritten_faithfully(make_project: ProjectFactory) -> None:
    root = make_project({
        "profiles.yml": OFFLINE_PROFILES,
        "models/m.sql": "select len(array_agg(k)) as n, cast(ts as date) + interval 1 day as next_day, ts + to_days(2) as later\n"
                       "from t group by ts",
    })
    sql = {}
    for target in ("dev", "pg", "spark"):
        sql[target] = " ".join(Project.load(root, target=target).compile(use_cache=False).models["m"].sql.split())
    assert "LENGTH(ARRAY_AGG(k))" in sql["dev"]  # DuckDB keeps its own spelling
    assert "ARRAY_LENGTH(ARRAY_AGG(k), 1)" in sql["pg"]
    assert "SIZE(COLLECT_LIST(k))" in sql["spark"]
    # DuckDB and Postgres give a timestamp for date + interval; Spark a date, unless cast
    assert "CAST(CAST(ts AS DATE) + INTERVAL '1' DAY AS TIMESTAMP_NTZ)" in sql["spark"]
    assert "CAST(CAST(ts AS DATE) + INTERVAL '1 DAY' AS" not in sql["pg"]
    # DuckDB's interval constructors become products with a one-unit interval
    assert "TO_DAYS(2)" in sql["dev"]
    assert "ts + ( 2 * INTERVAL '1 DAY' )" in sql["pg"] and "ts + ( 2 * INTERVAL '1' DAY )" in sql["spark"]


@pytest.mark.parametrize(("sql", "spark", "postgres"), [
    ("select l[1] as a, l[-1] as b, l[i + 1] as c, m['k'] as d from t",
     "ELEMENT_AT(l, 1) AS a, ELEMENT_AT(l, -1) AS b, ELEMENT_AT(l, i + 1) AS c, m['k'] AS d", None),
    ("select string_split(s, '-')[2] as p from t", "ELEMENT_AT(SPLIT(s,", "(STRING_TO_ARRAY(s, '-'))[2] AS p"),
    ("select date_diff('month', a, b) as m from t", "CAST(((YEAR(b) * 12 + MONTH(b)) - (YEAR(a) * 12 + MONTH(a))) AS BIGINT)", None),
])
def test_lists_and_date_parts_are_rewritten_as_duckdb_counts_them(sql: str, spark: str, postgres: str | None) -> None:
    """Run on the engines by tests/integration/cross_engine (fixtures/date_math, fixtures/dbt_packages)."""
    import sqlglot

    from featureduck.compiler.portability import make_portable
    from featureduck.engines.traits import engine_traits

    for engine, expected in (("spark", spark), ("postgres", postgres)):
        if expected is None:
            continue
        tree = sqlglot.parse_one(sql, read="duckdb")
        make_portable(tree, "duckdb", engine_traits(engine), "m.sql")
        assert expected in tree.sql(engine_traits(engine).dialect)


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    ("postgres", "duckdb", "select a / b, div(a, b) from t", "SELECT a // b, CAST(TRUNC(a // b) AS DECIMAL) FROM t"),
    ("postgres", "spark", "select a::int / 2, x::double / b, count(*) / 2 from t",
     "SELECT CAST(a AS INT) DIV 2, CAST(x AS DOUBLE) / b, COUNT(*) DIV 2 FROM t"),
    ("duckdb", "postgres", "select a // b, a / b from t", "SELECT a / b, CAST(a AS DOUBLE PRECISION) / b FROM t"),
    ("duckdb", "spark", "select 7 // 2, 7.5 // 2 from t", "SELECT 7 DIV 2, CAST(7.5 AS DOUBLE) / 2 FROM t"),
    ("spark", "duckdb", "select a div b from t", "SELECT TRUNC(a // b) FROM t"),
    ("spark", "postgres", "select a div b from t", "SELECT DIV(a, b) FROM t"),
])
def test_a_division_is_written_as_the_target_spells_its_meaning(dialect: str, target: str, sql: str, expected: str) -> None:
    """Postgres's `/` and DuckDB's `//` divide by the operands' types, Postgres's div() and
    Spark's DIV give the integer quotient always (run on the engines by
    tests/integration/postgres/test_division_across_dialects.py)."""
    import sqlglot

    from featureduck.compiler.portability import make_portable
    from featureduck.engines.traits import engine_traits

    tree = sqlglot.parse_one(sql, read=dialect)
    make_portable(tree, dialect, engine_traits(target), "m.sql")
    assert tree.sql(target) == expected


@pytest.mark.parametrize(("dialect", "sql"), [("postgres", "select a / b from t"), ("duckdb", "select a // b::int from t")])
def test_a_division_by_type_spark_cannot_tell_is_refused(dialect: str, sql: str) -> None:
    import sqlglot

    from featureduck.compiler.portability import make_portable
    from featureduck.engines.traits import engine_traits
    from featureduck.errors import UnsupportedSqlError

    with pytest.raises(UnsupportedSqlError) as raised:
        make_portable(sqlglot.parse_one(sql, read=dialect), dialect, engine_traits("spark"), "m.sql")
    assert f"divides by its operands' types in {dialect}" in str(raised.value) and "m.sql:1:" in str(raised.value)
    assert "cast both operands to an integer type" in str(raised.value.hint)
