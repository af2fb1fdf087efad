"""The stores' rule for incremental writes, differentially: rows written in random
batches and orders, many sharing a feature timestamp, leave exactly what one full
write of their newest rows leaves (`latest_rows`' tie rule: the greatest features in
declared order, NULL lowest), on the embedded store and on the Postgres store."""

from __future__ import annotations

import datetime
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow
import pytest
from sqlglot import exp

from featureduck.errors import DatabaseError, ProfileError, SourceLocation
from featureduck.online.base import FEATURE_TS, OnlineStore, OnlineView
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
@pytest.mark.parametrize("settings", [{}, {"sync": False, "writemap": True, "map_size": 1 << 26}], ids=["default", "writemap"])
def test_embedded_writes_in_any_order_leave_one_full_write(tmp_path: Path, seed: int, settings: dict[str, Any]) -> None:
    incremental = EmbeddedStore({"path": str(tmp_path / "a"), **settings}, tmp_path)
    full = EmbeddedStore({"path": str(tmp_path / "b")}, tmp_path)
    incremental.open()
    full.open()
    try:
        _differential(incremental, full, seed)
    finally:
        incremental.close()
        full.close()


def _rising(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """A live stream's rows: stamps rising with the arrival order, some a few minutes late,
    some alike (a write's rows stamped after the view's newest are put without reading
    the stored ones: `embedded._after`)."""
    base = datetime.datetime(2026, 1, 1)
    rows = []
    for index in range(count):
        late = rng.choice([0, 0, 0, 1, 3, 20])
        rows.append({"user_id": rng.randrange(40), "ts": base + datetime.timedelta(minutes=max(0, index // 8 - late)),
                     "score": rng.choice([None, 1.0, 2.5, -3.0]), "note": rng.choice([None, "a", "B", "é", "ab"])})
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("zone", [None, "UTC"], ids=["naive", "utc"])
def test_embedded_a_stream_of_rising_stamps_leaves_one_full_write(tmp_path: Path, seed: int, zone: str | None) -> None:
    rng = random.Random(seed)
    rows = _rising(rng, 800)
    incremental = EmbeddedStore({"path": str(tmp_path / "a")}, tmp_path)
    full = EmbeddedStore({"path": str(tmp_path / "b")}, tmp_path)
    incremental.open()
    full.open()
    try:
        full.write(VIEW, _newest(rows), full=True)
        start = 0
        while start < len(rows):
            size = rng.randrange(1, 60)
            batch = _newest(rows[start:start + size])
            stamps = batch.column(FEATURE_TS).cast(pyarrow.timestamp("us", tz=zone))
            incremental.write(VIEW, batch.set_column(batch.schema.get_field_index(FEATURE_TS), FEATURE_TS, stamps), full=False)
            start += size
        assert _held(incremental) == _held(full)
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


def test_embedded_writemap_needs_a_chosen_map_size_which_sizes_its_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="writemap: true needs a map_size"):
        EmbeddedStore({"writemap": True}, tmp_path)
    for wrong in ("16GB", 0, True):
        with pytest.raises(ProfileError, match="map_size must be a positive number of bytes"):
            EmbeddedStore({"map_size": wrong}, tmp_path)
    with pytest.raises(ProfileError, match="writemap must be true or false"):
        EmbeddedStore({"writemap": "yes", "map_size": 1 << 26}, tmp_path)
    store = EmbeddedStore({"path": str(tmp_path / "a"), "writemap": True, "map_size": 1 << 26}, tmp_path)
    store.open()
    try:
        store.write(VIEW, _newest(_rows(random.Random(4), 50)), full=True)
    finally:
        store.close()
    assert (tmp_path / "a" / "data.mdb").stat().st_size == 1 << 26  # as the README says: the whole map, up front


HOLDER = """
import sys
from pathlib import Path
from featureduck.online.embedded import EmbeddedStore
store = EmbeddedStore({"path": sys.argv[1], "writemap": sys.argv[2] == "true", "map_size": 1 << 26}, Path("."))
store.open()
print("open", flush=True)
sys.stdin.read()
store.close()
"""


@pytest.mark.parametrize("held", [True, False], ids=["held-with-writemap", "held-without"])
def test_a_store_open_in_another_process_the_other_way_is_refused(tmp_path: Path, held: bool) -> None:
    """LMDB's durability does not hold for processes mixing writemap and not on one
    store: while one has it open one way, opening it the other way is an error, the
    same way is not, and once the other process is gone either way opens."""
    folder = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), str(held).lower()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        other = EmbeddedStore({"path": str(folder), "writemap": not held, "map_size": 1 << 26}, tmp_path)
        with pytest.raises(DatabaseError, match=f"open in another process {'with' if held else 'without'} writemap"):
            other.open()
        same = EmbeddedStore({"path": str(folder), "writemap": held, "map_size": 1 << 26}, tmp_path)
        same.open()
        same.write(VIEW, _newest(_rows(random.Random(8), 20)), full=True)
        same.close()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=10) == 0
    other.open()
    assert _held(other)
    other.close()


@pytest.mark.parametrize("writemap", [False, True])
def test_a_write_that_fills_the_map_is_an_error_naming_map_size_and_keeps_the_store(tmp_path: Path, writemap: bool) -> None:
    store = EmbeddedStore({"path": str(tmp_path / "a"), "map_size": 1 << 20, "writemap": writemap}, tmp_path)
    store.open()
    try:
        store.write(VIEW, _newest(_rows(random.Random(7), 200)), full=True)
        before = _held(store)
        many = pyarrow.table({"user_id": pyarrow.array(range(40_000), pyarrow.int64()),
                              "ts": pyarrow.array([datetime.datetime(2026, 2, 1)] * 40_000, pyarrow.timestamp("us")),
                              "score": pyarrow.array([1.5] * 40_000), "note": pyarrow.array(["x" * 40] * 40_000)})
        with duckdb.connect() as con:
            con.register("many", many)
            rows = con.execute(latest_rows(DECLARED, ["user_id"], exp.to_table("many"), None).sql("duckdb")).to_arrow_table()
        for full in (True, False):
            with pytest.raises(DatabaseError, match=r"is full: it holds at most map_size 1048576 bytes"):
                store.write(VIEW, rows, full=full)
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
