"""Constructs that would change meaning on a target are compile errors with their line."""

from __future__ import annotations

import pytest

from featureduck.api import Project
from featureduck.errors import UnsupportedSqlError
from tests.conftest import OFFLINE_PROFILES, ProjectFactory, fduck

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

# a cast of `x` to INT on Spark as DuckDB and Postgres mean it: a double's half to even, a decimal's away
SPARK_HALVES = ("IF(TYPEOF(x) IN ('double', 'float'), CAST(BROUND(CAST(x AS DOUBLE)) AS INT), IF(TYPEOF(x) IN ('tinyint', "
                "'smallint', 'int', 'bigint', 'boolean'), CAST(x AS INT), CAST(ROUND(CAST(x AS DECIMAL(38, 18))) AS INT)))")


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
    ("postgres", "duckdb", "select a / b, div(a, b) from t", "SELECT a // b, CAST(TRUNC(a // b) AS DECIMAL(38, 0)) FROM t"),
    ("postgres", "spark", "select a::int / 2, x::double / b, count(*) / 2 from t",
     f"SELECT {SPARK_HALVES.replace('x', 'a')} DIV 2, CAST(x AS DOUBLE) / b, COUNT(*) DIV 2 FROM t"),
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


def _portable(sql: str, dialect: str, target: str) -> str:
    from featureduck.compiler.parse import parse_model_sql
    from featureduck.compiler.portability import make_portable
    from featureduck.compiler.time_formats import write_formats_as_written
    from featureduck.engines.traits import engine_traits

    tree = parse_model_sql(sql, dialect, "m.sql")
    if dialect == target:  # as the compiler does
        write_formats_as_written(tree)
    else:
        make_portable(tree, dialect, engine_traits(target), "m.sql")
    return tree.sql(target)


HALF_AWAY_ON_POSTGRES = "(ROUND(x) + SIGN(x) * CAST(ABS(x) - ABS(ROUND(x)) = 0.5 AS INT))"


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    # Postgres: a double's half to even, a numeric's away from zero
    ("postgres", "duckdb", "select round(x::float8), round(x::numeric(9, 2)), round(2.5) from t",
     "SELECT ROUND_EVEN(CAST(x AS DOUBLE), 0), ROUND(CAST(x AS DECIMAL(9, 2))), ROUND(2.5) FROM t"),
    ("postgres", "duckdb", "select round(avg(x)) from t",
     "SELECT ROUND(AVG(x)) - SIGN(AVG(x)) * CAST(TYPEOF(SUM(x)) IN ('DOUBLE', 'FLOAT') AND ABS(ROUND(AVG(x))) - ABS(AVG(x)) = 0.5 "
     "AND ROUND(AVG(x)) % 2 <> 0 AS INT) FROM t"),
    ("postgres", "spark", "select round(x::float8), round(x / 2.0) from t",
     "SELECT BROUND(CAST(x AS DOUBLE)), IF(TYPEOF(x * 2.0) IN ('double', 'float'), BROUND(CAST(x AS DOUBLE) / 2.0), "
     "ROUND(CAST(x AS DOUBLE) / 2.0)) FROM t"),
    ("postgres", "duckdb", "select round(x::numeric(9, 3), 2), round(x, 0) from t",  # to digits: a numeric's, half away
     "SELECT ROUND(CAST(x AS DECIMAL(9, 3)), 2), ROUND(x, 0) FROM t"),
    # DuckDB and Spark: every half away from zero
    ("duckdb", "postgres", "select round(x), round(x, 0), round(x::decimal(9, 2)) from t",
     f"SELECT {HALF_AWAY_ON_POSTGRES}, {HALF_AWAY_ON_POSTGRES}, ROUND(CAST(x AS DECIMAL(9, 2))) FROM t"),
    ("spark", "postgres", "select round(x) from t", f"SELECT {HALF_AWAY_ON_POSTGRES} FROM t"),
    ("duckdb", "spark", "select round(x), round(x, 2), round(x, -1) from t",
     "SELECT ROUND(x), ROUND(ROUND(x * CAST(100 AS DECIMAL(3, 0))) / CAST(100 AS DECIMAL(3, 0)), 2), "
     "ROUND(ROUND(x / CAST(10 AS DECIMAL(2, 0))) * CAST(10 AS DECIMAL(2, 0)), -1) FROM t"),
    # DuckDB and Postgres round a fraction by its type (a double's half to even), Spark truncates it
    ("duckdb", "spark", "select cast(x as int), cast(x::double as bigint), cast(2.5 as int), cast(a as int) + 1 from t",
     f"SELECT {SPARK_HALVES}, CAST(BROUND(CAST(x AS DOUBLE)) AS BIGINT), CAST(ROUND(CAST(2.5 AS DECIMAL(38, 18))) AS INT), "
     f"{SPARK_HALVES.replace('x', 'a')} + 1 FROM t"),
    ("duckdb", "spark", "select cast(avg(a) as int), cast(1 as int), cast(a > 0 as int), cast('7' as int) from t",
     "SELECT CAST(BROUND(CAST(AVG(a) AS DOUBLE)) AS INT), CAST(1 AS INT), CAST(a > 0 AS INT), CAST('7' AS INT) FROM t"),
    ("postgres", "spark", "select avg(a)::int from t",  # Postgres's average of integers is a numeric: half away
     "SELECT IF(TYPEOF(SUM(a)) IN ('double', 'float'), CAST(BROUND(CAST(AVG(a) AS DOUBLE)) AS INT), IF(TYPEOF(AVG(a)) IN "
     "('tinyint', 'smallint', 'int', 'bigint', 'boolean'), CAST(AVG(a) AS INT), CAST(ROUND(CAST(AVG(a) AS DECIMAL(38, 18))) AS INT))) "
     "FROM t"),
    ("spark", "duckdb", "select cast(x as int), cast(cast(x as double) as int), try_cast(s as bigint) from t",
     "SELECT TRY_CAST(TRUNC(TRY_CAST(x AS DECIMAL(38, 18))) AS INT), TRY_CAST(TRUNC(TRY_CAST(x AS DOUBLE)) AS INT), "
     "TRY_CAST(TRUNC(TRY_CAST(s AS DECIMAL(38, 18))) AS BIGINT) FROM t"),
    ("spark", "postgres", "select cast(x as int), cast(2.5 as int) from t",
     "SELECT CAST(CASE CAST(x AS TEXT) WHEN 'true' THEN 1 WHEN 'false' THEN 0 ELSE TRUNC(CAST(CAST(x AS TEXT) AS DECIMAL)) END AS INT), "
     "CAST(TRUNC(2.5) AS INT) FROM t"),
    # between DuckDB and Postgres only an average's type differs
    ("duckdb", "postgres", "select cast(avg(a) as int), cast(x as int) from t",
     "SELECT CAST(CAST(AVG(a) AS DOUBLE PRECISION) AS INT), CAST(x AS INT) FROM t"),
    ("duckdb", "postgres", "select cast(avg(a) over (partition by k) as int), cast(avg(a) filter (where a > 0) as int) from t",
     "SELECT CAST(CAST(AVG(a) OVER (PARTITION BY k) AS DOUBLE PRECISION) AS INT), "
     "CAST(CAST(AVG(a) FILTER(WHERE a > 0) AS DOUBLE PRECISION) AS INT) FROM t"),
    ("postgres", "duckdb", "select avg(a)::int, x::int from t",
     "SELECT CASE WHEN TYPEOF(SUM(a)) IN ('DOUBLE', 'FLOAT') THEN CAST(AVG(a) AS INT) ELSE CAST(ROUND(AVG(a)) AS INT) END, "
     "CAST(x AS INT) FROM t"),
])
def test_a_rounding_is_written_as_the_target_spells_its_meaning(dialect: str, target: str, sql: str, expected: str) -> None:
    """Run on the engines by tests/integration/cross_engine/test_rounding_across_dialects.py."""
    assert _portable(sql, dialect, target) == expected


@pytest.mark.parametrize(("dialect", "target", "sql", "refusal"), [
    ("duckdb", "postgres", "select round(random() * 10) from t", "rounds a random value"),
    ("postgres", "duckdb", "select round(random()) from t", "rounds a random value"),
    ("duckdb", "spark", "select round(x, n) from t", "rounds to a number of digits the SQL does not show"),
    ("spark", "duckdb", "select round(x, 2) from t", "the decimal it prints as"),
])
def test_a_rounding_the_target_cannot_mean_is_refused(dialect: str, target: str, sql: str, refusal: str) -> None:
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable(sql, dialect, target)
    assert refusal in str(raised.value) and "m.sql:1:" in str(raised.value)


def test_a_postgres_math_function_of_an_unshown_type_is_refused_around_a_rounding() -> None:
    """Postgres's sqrt() of a numeric is a numeric (its half rounded away), a double elsewhere."""
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable("select k,\n  round(sqrt(x)) from t", "postgres", "duckdb")
    assert "gives a numeric of a numeric" in str(raised.value) and "m.sql:2:" in str(raised.value)
    assert "sqrt(x::float8)" in str(raised.value.hint)
    assert "CAST(NULL AS DECIMAL(38, 10))" in _portable("select sqrt(6.25)::int, round(power(x::numeric(9, 2), 2)) from t",
                                                       "postgres", "duckdb")


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    # DuckDB counts a negative start from the end; Postgres takes it as given
    ("duckdb", "postgres", "select substring(s, -3), substring(s, 2, 3), substring(s, 0, 2) from t",
     "SELECT SUBSTRING(s FROM CASE WHEN LENGTH(s) - 2 < 1 THEN 1 ELSE LENGTH(s) - 2 END), SUBSTRING(s FROM 2 FOR 3), "
     "SUBSTRING(s FROM 1 FOR 1) FROM t"),
    # Spark reads a start of 0 as 1 and a negative length as none
    ("spark", "duckdb", "select substring(s, 0, 2), substr(s, 1, n) from t",
     "SELECT SUBSTRING(s, 1, 2), SUBSTRING(s, 1, CASE WHEN (1 + (CASE WHEN n < 0 THEN 0 ELSE n END)) - 1 < 0 THEN 0 "
     "ELSE (1 + (CASE WHEN n < 0 THEN 0 ELSE n END)) - 1 END) FROM t"),
    ("postgres", "spark", "select substring(s from 0 for 2), substring(s from 2) from t",
     "SELECT SUBSTRING(s, 1, 1), SUBSTRING(s, 2) FROM t"),
])
def test_a_substring_keeps_its_dialects_positions(dialect: str, target: str, sql: str, expected: str) -> None:
    """Run on the engines by tests/integration/cross_engine/test_substrings_across_dialects.py."""
    assert _portable(sql, dialect, target) == expected


def test_a_substring_at_random_positions_is_refused_elsewhere() -> None:
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable("select k,\n  substring(s, floor(random() * 3)) from t", "duckdb", "postgres")
    assert "at random positions" in str(raised.value) and "m.sql:2:" in str(raised.value)


def test_truncating_a_random_value_on_postgres_is_refused() -> None:
    """Postgres's truncation of a value of unknown type reads the value twice."""
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable("select k,\n  cast(rand() * 10 as int) from t", "spark", "postgres")
    assert "truncates a random value" in str(raised.value) and "m.sql:2:" in str(raised.value)


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    ("spark", "duckdb", "select cast(x as decimal) from t", "SELECT TRY_CAST(x AS DECIMAL(10, 0)) FROM t"),
    ("duckdb", "spark", "select cast(x as decimal) from t", "SELECT CAST(x AS DECIMAL(18, 3)) FROM t"),
    ("duckdb", "postgres", "select cast(x as numeric) from t", "SELECT CAST(x AS DECIMAL(18, 3)) FROM t"),
    ("postgres", "duckdb", "select 2.50::numeric, 12::numeric, x::int::numeric, div(a, b) from t",
     "SELECT CAST(2.50 AS DECIMAL(3, 2)), CAST(12 AS DECIMAL(38, 0)), CAST(CAST(x AS INT) AS DECIMAL(38, 0)), "
     "CAST(TRUNC(a // b) AS DECIMAL(38, 0)) FROM t"),
])
def test_a_bare_decimal_keeps_its_dialects_size(dialect: str, target: str, sql: str, expected: str) -> None:
    """DuckDB's DECIMAL is DECIMAL(18, 3), Spark's DECIMAL(10, 0): each written out."""
    assert _portable(sql, dialect, target) == expected


@pytest.mark.parametrize("target", ["duckdb", "spark"])
def test_a_postgres_numeric_without_a_size_is_refused_elsewhere(target: str) -> None:
    """Postgres's `numeric` keeps every digit; any fixed size would round some value."""
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable("select k,\n  round(x::numeric, 2) from t", "postgres", target)
    assert "a numeric without a precision" in str(raised.value) and "m.sql:2:" in str(raised.value)
    assert "numeric(38, 6)" in str(raised.value.hint)


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    # letters are literal text in DuckDB, patterns in Postgres and Spark: quoted there
    ("duckdb", "postgres", "select strftime(ts, '%Y-%m-%dT%H:%M:%S') from t", "SELECT TO_CHAR(ts, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM t"),
    ("duckdb", "spark", "select strftime(ts, 'week of %d %B') from t", "SELECT DATE_FORMAT(ts, '\\'week of \\'dd MMMM') FROM t"),
    # sqlglot writes %p unchanged, %u as Postgres's D (Sunday 1), %j as Spark's DD (two digits)
    ("duckdb", "postgres", "select strftime(ts, '%I %p, %u') from t", "SELECT TO_CHAR(ts, 'HH12 AM, ID') FROM t"),
    ("duckdb", "spark", "select strftime(ts, '%j') from t", "SELECT DATE_FORMAT(ts, 'DDD') FROM t"),
    # quoted text as the model wrote it, not as sqlglot read its letters
    ("spark", "postgres", "select date_format(ts, \"yyyy-MM-dd'T'HH:mm:ss'Z'\") from t",
     "SELECT TO_CHAR(CAST(ts AS TIMESTAMP), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM t"),
    ("postgres", "duckdb", "select to_char(ts, '\"Day \"DD, ID AM') from t", "SELECT STRFTIME(ts, 'Day %d, %u %p') FROM t"),
    ("spark", "spark", "select date_format(ts, \"'Day 'dd\") from t", "SELECT DATE_FORMAT(ts, '\\'Day \\'dd') FROM t"),
    ("postgres", "spark", "select to_timestamp(s, 'DD/MM/YYYY HH24:MI') from t", "SELECT TO_TIMESTAMP(s, 'd/M/yyyy H:m') FROM t"),
    ("spark", "duckdb", "select date_format(ts, \"'at' 'x'yyyy\") from t", "SELECT STRFTIME(CAST(ts AS TIMESTAMP), 'at x%Y') FROM t"),
    ("spark", "postgres", "select date_format(ts, \"'at' 'x'yyyy\") from t",
     "SELECT TO_CHAR(CAST(ts AS TIMESTAMP), '\"at x\"YYYY') FROM t"),
])
def test_a_date_format_is_written_in_the_targets_patterns(dialect: str, target: str, sql: str, expected: str) -> None:
    """Run on the engines by tests/integration/cross_engine/test_time_formats_across_dialects.py."""
    assert _portable(sql, dialect, target) == expected


@pytest.mark.parametrize(("dialect", "target", "sql", "refusal"), [
    ("duckdb", "postgres", "select k,\n  strftime(ts, '%U') from t", "`%U` does not mean the same on postgres"),
    ("duckdb", "postgres", "select k,\n  strftime(ts, '%w') from t", "`%w` does not mean the same on postgres"),
    ("duckdb", "spark", "select k,\n  strftime(ts, '%G-%V') from t", "`%G` does not mean the same on spark"),
    ("duckdb", "spark", "select k,\n  strftime(ts, '%u') from t", "`%u` does not mean the same on spark"),
    ("duckdb", "postgres", "select k,\n  strftime(ts, '100%% of %Y') from t", "a literal % cannot be written there"),
    ("postgres", "duckdb", "select k,\n  to_char(ts, 'D') from t", "`D` does not mean the same on duckdb"),
    ("postgres", "duckdb", "select k,\n  to_char(ts, 'WW') from t", "`WW` does not mean the same on duckdb"),
    ("postgres", "spark", "select k,\n  to_char(ts, 'YYYY-Q') from t", "`Q` in the format is a pattern"),
    ("postgres", "duckdb", "select k,\n  to_char(ts, 'YYYY\"-Q') from t", "is not closed"),
    ("spark", "duckdb", "select k,\n  date_format(ts, 'DD') from t", "`DD` does not mean the same on duckdb"),
    ("spark", "postgres", "select k,\n  date_format(ts, 'yyyy QQ') from t", "`Q` in the format is a pattern"),
    ("duckdb", "postgres", "select k,\n  strftime(ts, fmt) from t", "takes its format from a value"),
])
def test_a_date_format_the_target_cannot_mean_is_refused(dialect: str, target: str, sql: str, refusal: str) -> None:
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable(sql, dialect, target)
    assert refusal in str(raised.value) and "m.sql:2:" in str(raised.value), str(raised.value)


def test_fduck_compile_names_a_date_format_the_target_cannot_mean(make_project: ProjectFactory) -> None:
    root = make_project({"profiles.yml": OFFLINE_PROFILES,
                         "models/weekly.sql": "select k,\n  strftime(ts, 'week %U of %Y') as week from t"})
    compiled = fduck("compile", "--target", "pg", cwd=root)
    assert compiled.returncode != 0
    assert "models/weekly.sql:2:" in compiled.stdout + compiled.stderr
    assert "`%U` does not mean the same on postgres" in compiled.stdout + compiled.stderr
    assert fduck("compile", cwd=root).returncode == 0  # DuckDB's own strftime


@pytest.mark.parametrize(("dialect", "target", "sql", "expected"), [
    ("duckdb", "spark", "select log(x), extract(dow from ts), dayname(ts) from t",
     "SELECT LOG(10, x), (EXTRACT(DOW FROM ts) + -1), DATE_FORMAT(ts, 'EEEE') FROM t"),
    ("spark", "duckdb", "select dayofweek(ts), monthname(ts), left(s, n) from t",
     "SELECT (DAYOFWEEK(CAST(ts AS DATE)) + 1), STRFTIME(ts, '%b'), "
     "LEFT(s, CASE WHEN n IS NULL OR 0 IS NULL THEN NULL ELSE GREATEST(n, 0) END) FROM t"),
    ("duckdb", "spark", "select isodow(ts), right(s, n) from t",
     "SELECT EXTRACT(DOW_ISO FROM ts), RIGHT(s, CASE WHEN n < 0 THEN GREATEST(LENGTH(s) + n, 0) ELSE n END) FROM t"),
    ("duckdb", "spark", "select regexp_replace(s, 'a+', '-', 'g') from t", "SELECT REGEXP_REPLACE(s, 'a+', '-') FROM t"),
    ("duckdb", "spark", "select current_date - cast(d as date), d1 - d2 from t",
     "SELECT CAST((DATEDIFF(CAST(CURRENT_DATE AS DATE), CAST(d AS DATE))) AS BIGINT), d1 - d2 FROM t"),
    ("spark", "duckdb", "select current_date() - date '2024-01-01' from t",
     "SELECT ((CURRENT_DATE - CAST('2024-01-01' AS DATE)) * INTERVAL '1' DAY) FROM t"),
    # two columns that may be dates: DuckDB's folded typeof() picks the subtraction or an error naming the line
    ("spark", "duckdb", "select d1 - d2, n - 1, ts - interval 1 day from t",
     "SELECT CASE WHEN NOT (CAST(TYPEOF(d1) AS TEXT) IN ('DATE') AND CAST(TYPEOF(d2) AS TEXT) IN ('DATE')) THEN d1 - d2 "
     "WHEN ERROR('m.sql:1:9: a date minus a date is an interval of days in spark and a number of days on duckdb, so it cannot "
     "be built there; write datediff(end, start) for the days') IS NULL THEN d1 - d2 END, n - 1, ts - INTERVAL '1' DAY FROM t"),
    # on Postgres by pg_typeof() per row; a function of numbers only is no date
    ("spark", "postgres", "select d1 - d2, abs(x) - 1 from t",
     "SELECT CASE WHEN NOT (CAST(PG_TYPEOF(d1) AS TEXT) IN ('date') AND CAST(PG_TYPEOF(d2) AS TEXT) IN ('date')) THEN d1 - d2 "
     "WHEN CAST(CAST('m.sql:1:9: a date minus a date is an interval of days in spark and a number of days on postgres, so it "
     "cannot be built there; write datediff(end, start) for the days' || CAST(d1 AS TEXT) || LEFT(CURRENT_SETTING("
     "'extra_float_digits'), 0) AS INT) AS TEXT) IS NULL THEN d1 - d2 END, ABS(x) - 1 FROM t"),
    # the inner rewrite kept inside the outer one
    ("duckdb", "spark", "select log(length(left(s, -1))) from t",
     "SELECT LOG(10, LENGTH(LEFT(s, CASE WHEN -1 < 0 THEN GREATEST(LENGTH(s) + -1, 0) ELSE -1 END))) FROM t"),
])
def test_a_function_of_two_meanings_is_written_as_the_project_dialect_means_it(dialect: str, target: str, sql: str,
                                                                               expected: str) -> None:
    """Run on the engines by tests/integration/cross_engine/test_functions_across_dialects.py."""
    assert _portable(sql, dialect, target) == expected


@pytest.mark.parametrize(("dialect", "target", "sql", "written"), [
    # the cast of a value the SQL shows is no double is untouched
    ("duckdb", "spark", "select cast(1 as varchar), cast('a' as varchar), cast(d::date as varchar) from t",
     "SELECT CAST(1 AS STRING), CAST('a' AS STRING), CAST(CAST(d AS DATE) AS STRING) FROM t"),
    # else the target's folded typeof() refuses a double's when built
    ("duckdb", "spark", "select cast(x as varchar) from t",
     "SELECT CASE WHEN CAST(TYPEOF(x) AS STRING) IN ('double', 'float') THEN RAISE_ERROR('m.sql:1:13: a double cast to "
     "text is written another way on spark than in duckdb (a whole number, a large one, infinity), so it cannot be built "
     "there; cast it to a DECIMAL first, e.g. cast(cast(x as decimal(18, 4)) as varchar)') ELSE CAST(x AS STRING) END FROM t"),
])
def test_a_double_cast_to_text_is_refused_where_the_target_writes_it_otherwise(dialect: str, target: str, sql: str,
                                                                                 written: str) -> None:
    assert _portable(sql, dialect, target) == written


@pytest.mark.parametrize(("dialect", "target", "sql"), [
    ("duckdb", "spark", "select k,\n  cast(x::double as varchar) from t"),
    ("duckdb", "postgres", "select k,\n  cast(x::float as varchar) from t"),  # a real's digits are written apart
    ("spark", "postgres", "select k,\n  cast(2.5e0 as string) from t"),
])
def test_a_visible_double_cast_to_text_is_refused_at_compile_time(dialect: str, target: str, sql: str) -> None:
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable(sql, dialect, target)
    assert "a double cast to text is written another way" in str(raised.value) and "m.sql:2:" in str(raised.value)


def test_a_duckdb_doubles_text_on_postgres_is_rewritten_and_guarded_by_pg_typeof() -> None:
    """Run on Postgres by tests/integration/postgres/test_double_texts_across_dialects.py."""
    written = _portable("select cast(x as varchar), cast(abs(-2e0) as varchar) from t", "duckdb", "postgres")
    assert written.startswith("SELECT CASE WHEN CAST(PG_TYPEOF(x) AS TEXT) = 'double precision' THEN ")
    assert "WHEN CAST(PG_TYPEOF(x) AS TEXT) = 'real' THEN " in written and "ELSE CAST(x AS TEXT) END" in written
    assert "ABS(-CAST(2e0 AS DOUBLE PRECISION))" in written  # a double in DuckDB's text, a numeric in Postgres's


@pytest.mark.parametrize(("dialect", "target", "sql", "refusal"), [
    ("duckdb", "spark", "select k,\n  regexp_replace(s, 'a', 'b') from t", "duckdb replaces the first match, spark every match"),
    ("duckdb", "spark", "select k,\n  regexp_replace(s, '(a)', '<\\1>', 'g') from t", "a group is \\1 in DuckDB and Postgres"),
    ("spark", "postgres", "select k,\n  regexp_replace(s, '(a)', '<$1>') from t", "a group is \\1 in DuckDB and Postgres"),
    ("duckdb", "spark", "select k,\n  regexp_matches(s, 'a', 'i') from t", "spark takes no flags"),
    ("duckdb", "postgres", "select k,\n  hash(user_id) from t", "hash() on postgres is a hash of another function"),
    ("spark", "duckdb", "select k,\n  weekday(ts) from t", "from Monday in Spark"),
    ("duckdb", "spark", "select k,\n  format('{}', x) from t", "a template of another syntax"),
    ("postgres", "duckdb", "select k,\n  s similar to 'a%' from t", "read SIMILAR TO's pattern differently"),
    ("postgres", "duckdb", "select k,\n  regexp_matches(s, 'a') from t", "gives the set of matches"),
])
def test_a_function_the_target_means_otherwise_is_refused(dialect: str, target: str, sql: str, refusal: str) -> None:
    with pytest.raises(UnsupportedSqlError) as raised:
        _portable(sql, dialect, target)
    assert refusal in str(raised.value) and "m.sql:2:" in str(raised.value), str(raised.value)
