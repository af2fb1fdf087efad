"""The stores' rule for incremental writes, differentially: rows written in random
batches and orders, many sharing a feature timestamp, leave exactly what one full
write of their newest rows leaves (`latest_rows`' tie rule: the greatest features in
declared order, NULL lowest), on the embedded store and on the Postgres store."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow
import pytest
from sqlglot import exp

from featureduck.errors import DatabaseError, SourceLocation
from featureduck.online.base import OnlineStore, OnlineView
from featureduck.online.embedded import EmbeddedStore
from featureduck.online.materialize import latest_rows
from featureduck.project.nodes import Feature, FeatureView

VIEW = OnlineView("v@1", "v", 1, ("user_id",), ("score", "note"), ("double", "varchar"))
DECLARED = FeatureView("v", "user", "m", "ts", [Feature("score", "double"), Feature("note", "varchar")], SourceLocation("f.yml", 1))


def _rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    base = datetime.datetime(2026, 1, 1)
    return [{"user_id": rng.randrange(40), "ts": base + datetime.timedelta(minutes=rng.randrange(4)),
             "score": rng.choice([None, 1.0, 2.5, -3.0]), "note": rng.choice([None, "a", "B", "é", "ab"])} for _ in range(count)]


def _newest(rows: list[dict[str, Any]]) -> pyarrow.Table:
    """What a store is given: the newest row per entity, by `latest_rows` run in DuckDB."""
    table = pyarrow.Table.from_pylist(rows, pyarrow.schema([("user_id", pyarrow.int64()), ("ts", pyarrow.timestamp("us")),
                                                            ("score", pyarrow.float64()), ("note", pyarrow.string())]))
    with duckdb.connect() as con:
        con.register("rows", table)
        return con.execute(latest_rows(DECLARED, ["user_id"], exp.to_table("rows"), None).sql("duckdb")).to_arrow_table()


def _held(store: OnlineStore) -> dict[str, tuple[str, str]]:
    keys = [str(k) for k in range(40)]
    return {k: (row.feature_ts.replace("T", " "), row.features) for k, row in zip(keys, store.read(VIEW, keys), strict=True) if row}


def _differential(store: OnlineStore, other: OnlineStore, seed: int) -> None:
    rng = random.Random(seed)
    rows = _rows(rng, 600)
    other.write(VIEW, _newest(rows), full=True)
    rng.shuffle(rows)
    for start in range(0, len(rows), 37):
        store.write(VIEW, _newest(rows[start:start + 37]), full=False)
    assert store.write(VIEW, _newest(rows), full=False) == 0  # everything again: nothing changes
    assert _held(store) == _held(other)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_embedded_writes_in_any_order_leave_one_full_write(tmp_path: Path, seed: int) -> None:
    incremental, full = EmbeddedStore({"path": str(tmp_path / "a")}, tmp_path), EmbeddedStore({"path": str(tmp_path / "b")}, tmp_path)
    incremental.open()
    full.open()
    try:
        _differential(incremental, full, seed)
    finally:
        incremental.close()
        full.close()


def test_embedded_refuses_an_incremental_write_with_an_entity_twice(tmp_path: Path) -> None:
    """Each row is compared with the stored one alone: two of one entity would leave
    whichever came last, so the write is refused and nothing of it kept."""
    store = EmbeddedStore({"path": str(tmp_path / "a")}, tmp_path)
    store.open()
    try:
        store.write(VIEW, _newest(_rows(random.Random(5), 50)), full=True)
        before = _held(store)
        twice = _newest(_rows(random.Random(6), 50))
        with pytest.raises(DatabaseError, match="repeated an entity"):
            store.write(VIEW, pyarrow.concat_tables([twice, twice.slice(0, 1)]), full=False)
        assert _held(store) == before
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [1, 2])
def test_postgres_writes_in_any_order_leave_one_full_write(tmp_path: Path, pg_dsn: str, pg_schema: str, seed: int) -> None:
    from featureduck.online.postgres import PostgresStore

    incremental = PostgresStore({"dsn": pg_dsn, "schema": pg_schema + "_a"}, tmp_path)
    full = PostgresStore({"dsn": pg_dsn, "schema": pg_schema + "_b"}, tmp_path)
    incremental.open()
    full.open()
    try:
        first = _rows(random.Random(seed), 1)  # the table made by a first full write, then incremental ones
        incremental.write(VIEW, _newest(first), full=True)
        _differential(incremental, full, seed)
    finally:
        incremental.close()
        full.close()
