"""Run caching: `fduck run` skips models whose fingerprint and inputs are unchanged."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT, ProjectFactory, fduck, pg_profile, write_engine_profile


def _run(root: Path, *args: str) -> dict[str, str]:
    """Each model's status (OK, CACHED, ERROR, SKIP) as `fduck run` printed it."""
    result = fduck("run", "--project-dir", str(root), *args)
    statuses = dict((name, status) for status, name in re.findall(r"\d+ of \d+ (OK|CACHED|ERROR|SKIP) .*?\w+\.(\w+) ", result.stdout))
    assert statuses, result.stdout + result.stderr
    return statuses


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The project `fduck init` writes: two staging views over CSV files, two marts."""
    root = tmp_path / "shop"
    shutil.copytree(REPO_ROOT / "project_template", root)
    return root


def _in_database(root: Path, sql: str) -> None:
    """Run `sql` in the project's DuckDB database (made if it is not there yet)."""
    (root / "target").mkdir(exist_ok=True)
    with duckdb.connect(str(root / "target" / "dev.duckdb")) as con:
        con.execute(sql)


@pytest.mark.slow
def test_an_unchanged_project_is_not_built_again(shop: Path) -> None:
    assert set(_run(shop).values()) == {"OK"}
    second = fduck("run", "--project-dir", str(shop))
    assert "0 ok, 4 cached, 0 error, 0 skipped" in second.stdout, second.stdout
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert re.search(r"CACHED table model main\.customers \.+ \[CACHED, unchanged since " + stamp + r"\]", second.stdout)
    assert "START" not in second.stdout  # nothing is started that is not built
    assert set(_run(shop, "--no-cache").values()) == {"OK"}
    assert set(_run(shop, "--full-refresh").values()) == {"OK"}
    assert set(_run(shop).values()) == {"CACHED"}


def _orders_counted(root: Path) -> int:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return int(con.execute("SELECT sum(lifetime_orders) FROM main.customers").fetchone()[0])  # type: ignore[index]


@pytest.mark.slow
def test_changed_data_or_sql_rebuilds_what_depends_on_it(shop: Path) -> None:
    _run(shop)
    before = _orders_counted(shop)
    with (shop / "data" / "orders.csv").open("a") as orders:
        orders.write("9001,1,19.99,paid,2024-03-01 10:00:00\n")
    assert _run(shop) == {"stg_customers": "CACHED", "stg_orders": "OK", "customer_order_features": "OK", "customers": "OK"}
    assert _orders_counted(shop) == before + 1
    customers = shop / "models" / "marts" / "customers.sql"
    customers.write_text(customers.read_text().replace("c.country,", "c.country, 1 as version,"))
    assert _run(shop) == {"stg_customers": "CACHED", "stg_orders": "CACHED", "customer_order_features": "CACHED", "customers": "OK"}


@pytest.mark.slow
def test_a_parent_changed_but_not_rebuilt_leaves_its_children_cached(shop: Path) -> None:
    _run(shop)
    staging = shop / "models" / "staging" / "stg_customers.sql"
    staging.write_text(staging.read_text() + "\n-- a comment changes nothing\n")
    assert _run(shop, "-s", "stg_customers") == {"stg_customers": "CACHED"}
    staging.write_text(staging.read_text().replace("country,", "upper(country) as country,"))
    assert _run(shop, "-s", "customers") == {"customers": "CACHED"}  # the relation it reads is unchanged
    assert _run(shop, "-s", "stg_customers+") == {"stg_customers": "OK", "customer_order_features": "OK", "customers": "OK"}


@pytest.mark.slow
def test_a_dropped_relation_or_a_failed_build_is_built_again(shop: Path) -> None:
    _run(shop)
    with duckdb.connect(str(shop / "target" / "dev.duckdb")) as con:
        con.execute("DROP TABLE main.customers")
    assert _run(shop)["customers"] == "OK"
    features = shop / "models" / "marts" / "customer_order_features.sql"
    original = features.read_text()
    features.write_text(original.replace("d.orders,", "d.no_such_column,"))
    assert _run(shop)["customer_order_features"] == "ERROR"
    features.write_text(original)  # back to what the table was built from: still its last good build
    assert _run(shop)["customer_order_features"] == "CACHED"


@pytest.mark.slow
def test_volatile_sql_and_tables_in_the_database(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/stamped.sql": "{{ config(materialized='table') }}\nselect now() as built_at\n",
        "models/totals.sql": "{{ config(materialized='table') }}\nselect count(*) as n from {{ source('app', 'events') }}\n",
        "sources/app.yml": "sources:\n  - name: app\n    schema: raw\n    tables:\n      - name: events\n",
    })
    _in_database(root, "CREATE SCHEMA raw; CREATE TABLE raw.events AS SELECT range AS id FROM range(3)")
    assert _run(root) == {"stamped": "OK", "totals": "OK"}
    assert _run(root) == {"stamped": "OK", "totals": "CACHED"}  # now() differs from run to run
    with duckdb.connect(str(root / "target" / "dev.duckdb")) as con:
        con.execute("UPDATE raw.events SET id = id + 10 WHERE id = 0")  # same row count, other rows
    assert _run(root)["totals"] == "OK"
    assert _run(root)["totals"] == "CACHED"


def test_postgres_tables_are_versioned_by_count_and_newest_stamp(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """On a Postgres target: a source table with a timestamp_field is unchanged while its
    row count and newest stamp are; one without is read afresh every run."""
    import psycopg

    raw = f"{pg_schema}_raw"
    root = make_project({
        "profiles.yml": pg_profile(pg_schema),
        "sources/app.yml": f"sources:\n  - name: app\n    schema: {raw}\n    tables:\n"
                           "      - {name: events, timestamp_field: ts}\n      - {name: users}\n",
        "models/daily.sql": "{{ config(materialized='table') }}\n"
                            "select count(*) as n, max(ts) as newest from {{ source('app', 'events') }}\n",
        "models/people.sql": "{{ config(materialized='table') }}\nselect count(*) as n from {{ source('app', 'users') }}\n",
    })
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {raw}; CREATE TABLE {raw}.events (id int, ts timestamp); CREATE TABLE {raw}.users (id int)")
        con.execute(f"INSERT INTO {raw}.events VALUES (1, '2024-01-01'), (2, '2024-01-02'); INSERT INTO {raw}.users VALUES (1)")
    assert _run(root, "--target", "pg") == {"daily": "OK", "people": "OK"}
    assert _run(root, "--target", "pg") == {"daily": "CACHED", "people": "OK"}
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"INSERT INTO {raw}.events VALUES (3, '2024-01-03')")
    assert _run(root, "--target", "pg")["daily"] == "OK"
    assert _run(root, "--target", "pg")["daily"] == "CACHED"


def test_a_table_read_outside_refs_and_sources_is_never_cached(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/direct.sql": "{{ config(materialized='table') }}\nselect count(*) as n from raw.events\n",
        "models/counted.sql": "{{ config(materialized='table') }}\nwith numbers as (select * from range(5) as r(i))\n"
                                "select sum(i) as total from numbers\n",
    })
    _in_database(root, "CREATE SCHEMA raw; CREATE TABLE raw.events AS SELECT 1 AS id")
    assert _run(root) == {"direct": "OK", "counted": "OK"}
    assert _run(root) == {"direct": "OK", "counted": "CACHED"}  # raw.events is no source: its changes are invisible


@pytest.mark.spark
def test_spark_runs_are_cached_too(make_project: ProjectFactory, request: pytest.FixtureRequest) -> None:
    from featureduck.api import Project

    root = make_project({
        "models/base.sql": "{{ config(materialized='table') }}\nselect 1 as id, 'a' as kind\n",
        "models/kinds.sql": "{{ config(materialized='table') }}\nselect kind, count(*) as n from {{ ref('base') }} group by kind\n",
    })
    write_engine_profile("spark", root, request, "fd_cache")
    first = Project.load(root, target="spark").run()
    assert [r.status for r in first.results] == ["success", "success"]
    second = Project.load(root, target="spark").run()
    assert [r.status for r in second.results] == ["cached", "cached"]
    (root / "models" / "kinds.sql").write_text((root / "models" / "kinds.sql").read_text().replace("count(*)", "count(1)"))
    third = Project.load(root, target="spark").run()
    assert [(r.name, r.status) for r in third.results] == [("base", "cached"), ("kinds", "success")]


def _scalar(root: Path, sql: str) -> object:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchone()[0]  # type: ignore[index]


@pytest.mark.slow
def test_a_view_parent_reads_live_seeds_and_tables(make_project: ProjectFactory) -> None:
    """A view holds no rows: new rows under it rebuild the table that reads it,
    when only that table is selected (seed -> view -> table, source table -> view -> table)."""
    root = make_project({
        "seeds/orders.csv": "order_id,amount\n1,10\n2,20\n",
        "models/stg_orders.sql": "{{ config(materialized='view') }}\nselect * from {{ ref('orders') }}\n",
        "models/order_totals.sql": "{{ config(materialized='table') }}\nselect sum(amount) as total from {{ ref('stg_orders') }}\n",
        "models/stg_raw.sql": "{{ config(materialized='view') }}\nselect * from {{ source('raw', 'orders') }}\n",
        "models/raw_totals.sql": "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('stg_raw') }}\n",
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - name: orders\n",
    })
    _in_database(root, "CREATE SCHEMA raw; CREATE TABLE raw.orders AS SELECT range AS id FROM range(3)")
    assert fduck("seed", "--project-dir", str(root)).returncode == 0
    _run(root)
    with (root / "seeds" / "orders.csv").open("a") as seed:
        seed.write("3,30\n")
    assert _run(root, "-s", "order_totals") == {"order_totals": "CACHED"}  # the loaded seed is unchanged
    assert fduck("seed", "--project-dir", str(root)).returncode == 0
    assert _run(root, "-s", "order_totals") == {"order_totals": "OK"}
    assert _scalar(root, "SELECT total FROM main.order_totals") == 60
    with duckdb.connect(str(root / "target" / "dev.duckdb")) as con:
        con.execute("INSERT INTO raw.orders VALUES (7)")
    assert _run(root, "-s", "raw_totals") == {"raw_totals": "OK"}
    assert _scalar(root, "SELECT n FROM main.raw_totals") == 4
    assert _run(root, "-s", "raw_totals order_totals") == {"raw_totals": "CACHED", "order_totals": "CACHED"}


@pytest.mark.slow
def test_a_source_version_covers_its_columns(make_project: ProjectFactory) -> None:
    """Retyping a column with the same values, or swapping two column names, rebuilds."""
    root = make_project({
        "models/copied.sql": "{{ config(materialized='table') }}\nselect * from {{ source('raw', 'customers') }}\n",
        "sources/raw.yml": "sources:\n  - name: raw\n    tables:\n      - name: customers\n",
    })
    (root / "target").mkdir()
    database = str(root / "target" / "dev.duckdb")
    with duckdb.connect(database) as con:
        con.execute("CREATE SCHEMA raw; CREATE TABLE raw.customers (customer_id INTEGER, a INTEGER, b INTEGER)")
        con.execute("INSERT INTO raw.customers VALUES (1, 5, 5), (2, 6, 6)")
    assert _run(root) == {"copied": "OK"}
    with duckdb.connect(database) as con:
        con.execute("ALTER TABLE raw.customers ALTER customer_id TYPE BIGINT")
    assert _run(root) == {"copied": "OK"}
    assert _scalar(root, "SELECT data_type FROM information_schema.columns "
                         "WHERE table_name = 'copied' AND column_name = 'customer_id'") == "BIGINT"
    with duckdb.connect(database) as con:
        con.execute("ALTER TABLE raw.customers RENAME a TO c; ALTER TABLE raw.customers RENAME b TO a;"
                    "ALTER TABLE raw.customers RENAME c TO b")
    assert _run(root) == {"copied": "OK"}
    assert _scalar(root, "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                         "WHERE table_name = 'copied'") == "customer_id,b,a"
    assert _run(root) == {"copied": "CACHED"}
