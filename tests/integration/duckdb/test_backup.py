"""`fduck backup` and `fduck restore`: incremental snapshots, point in time, checksums, another engine."""

from __future__ import annotations

import datetime
import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import REPO_ROOT, fduck, pg_profile


def _ok(*args: str) -> str:
    result = fduck(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _snapshot_id(output: str) -> str:
    found = re.search(r"Snapshot (\S+):", output)
    assert found, output
    return found.group(1)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(REPO_ROOT / "project_template", root)
    _ok("run", "--project-dir", str(root))
    return root


@pytest.mark.slow
def test_snapshots_copy_only_what_changed_and_restore_by_time(shop: Path) -> None:
    first = _ok("backup", "--project-dir", str(shop))
    assert "2 relations, 2 copied, 0 unchanged" in first  # the two tables; views hold no rows
    manifest = json.loads((shop / "backups" / "snapshots" / f"{_snapshot_id(first)}.json").read_text())
    customers = manifest["relations"]["customers"]
    assert customers["rows"] == 5 and ["lifetime_orders", "BIGINT"] in customers["columns"]
    second = _ok("backup", "--project-dir", str(shop))
    assert "0 copied, 2 unchanged" in second
    between = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    with (shop / "data" / "orders.csv").open("a") as orders:
        orders.write("9001,1,19.99,paid,2024-03-01 10:00:00\n")
    _ok("run", "--project-dir", str(shop))
    counted = _rows(shop, "SELECT sum(lifetime_orders) FROM main.customers")
    assert "2 copied, 0 unchanged" in _ok("backup", "--project-dir", str(shop))
    listing = _ok("backup", "--list", "--project-dir", str(shop))
    assert listing.count("dev (duckdb)") == 3

    restored = _ok("restore", "--at", between.isoformat(sep=" "), "--project-dir", str(shop))
    assert f"Restoring snapshot {_snapshot_id(second)} " in restored and "customers -> main.customers: 5 rows" in restored
    assert _rows(shop, "SELECT sum(lifetime_orders) FROM main.customers") == [(counted[0][0] - 1,)]
    # what was restored is older than its inputs: the next run rebuilds it
    assert "2 ok, 2 cached" in _ok("run", "--project-dir", str(shop))
    assert _rows(shop, "SELECT sum(lifetime_orders) FROM main.customers") == counted


@pytest.mark.slow
def test_restore_one_relation_and_refuse_a_damaged_snapshot(shop: Path) -> None:
    snapshot = _snapshot_id(_ok("backup", "--project-dir", str(shop)))
    with duckdb.connect(str(shop / "target" / "dev.duckdb")) as con:
        con.execute("DELETE FROM main.customers; DELETE FROM main.customer_order_features WHERE customer_id = 1")
    only = _ok("restore", snapshot, "-s", "customers", "--project-dir", str(shop))
    assert "customers -> main.customers: 5 rows" in only and "customer_order_features" not in only
    assert _rows(shop, "SELECT count(*) FROM main.customers") == [(5,)]
    assert _rows(shop, "SELECT count(*) FROM main.customer_order_features WHERE customer_id = 1") == [(0,)]

    manifest = json.loads((shop / "backups" / "snapshots" / f"{snapshot}.json").read_text())
    damaged = shop / "backups" / "objects" / f"{manifest['relations']['customer_order_features']['object']}.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    refused = fduck("restore", snapshot, "--project-dir", str(shop))
    assert refused.returncode == 2
    assert f"snapshot {snapshot} is damaged: the rows of 'customer_order_features'" in refused.stderr
    assert "nothing was restored" in refused.stderr
    assert _rows(shop, "SELECT count(*) FROM main.customer_order_features WHERE customer_id = 1") == [(0,)]  # untouched
    assert "no snapshot 'nope'" in fduck("restore", "nope", "--project-dir", str(shop)).stderr


def test_a_duckdb_snapshot_restores_into_postgres(shop: Path, pg_dsn: str, pg_schema: str) -> None:
    (shop / "profiles.yml").write_text(pg_profile(pg_schema))
    _ok("backup", "--project-dir", str(shop))
    restored = _ok("restore", "--project-dir", str(shop), "--target", "pg")
    assert f"customers -> {pg_schema}.customers: 5 rows" in restored
    expected = _rows(shop, "SELECT customer_id, lifetime_orders, lifetime_cents, last_order_at FROM main.customers ORDER BY 1")
    with psycopg.connect(pg_dsn) as con:
        rows = con.execute(f"SELECT customer_id, lifetime_orders, lifetime_cents, last_order_at FROM {pg_schema}.customers ORDER BY 1")
        assert [tuple(r) for r in rows.fetchall()] == expected
    # and back: a snapshot of the Postgres relations (streamed out through DuckDB) into a fresh DuckDB file
    from_pg = _snapshot_id(_ok("backup", "--project-dir", str(shop), "--target", "pg", "--dir", str(shop / "pg_backups")))
    (shop / "target" / "dev.duckdb").unlink()
    _ok("restore", from_pg, "--project-dir", str(shop), "--dir", str(shop / "pg_backups"))
    assert _rows(shop, "SELECT customer_id, lifetime_orders, lifetime_cents, last_order_at FROM main.customers ORDER BY 1") == expected


@pytest.mark.spark
def test_backup_and_restore_on_spark(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """In process: the test session's Spark holds the warehouse's metastore."""
    from featureduck.api import Project
    from tests.conftest import write_engine_profile

    root = tmp_path / "shop"
    shutil.copytree(REPO_ROOT / "project_template", root)
    write_engine_profile("spark", root, request, "fd_backup")
    project = Project.load(root, target="spark")
    assert not project.run().failed
    snapshot = project.backup()
    assert sorted(snapshot.relations) == ["customer_order_features", "customers"] and snapshot.copied == 2
    with project.session() as session:
        adapter = session.adapter
        relation = project.compile().models["customers"].relation.sql("spark")
        expected = sorted(adapter.execute(f"SELECT customer_id, lifetime_orders FROM {relation}"))
        adapter.execute(f"DROP TABLE {relation}")
    chosen, restored = project.restore(snapshot.id, select="customers")
    assert chosen.id == snapshot.id and [(r.name, r.rows) for r in restored] == [("customers", 5)]
    with project.session() as session:
        adapter = session.adapter
        assert sorted(adapter.execute(f"SELECT customer_id, lifetime_orders FROM {relation}")) == expected
