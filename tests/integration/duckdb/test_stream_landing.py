"""A stream batch's pieces on a real DuckDB file, without a broker: decoding messages
(every kind of malformed one named), and the recorded offsets refusing a second
consumer's batch."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import orjson
import pyarrow
import pytest

from featureduck.api import Project
from featureduck.config.profiles import TargetConfig
from featureduck.engines.duckdb import DuckDBAdapter
from featureduck.errors import StreamError
from featureduck.streams.decode import ERROR, RAW_TABLE, decode_query
from featureduck.streams.landing import ensure_landing, landing_tables
from featureduck.streams.offsets import ensure_offsets_table, read_offsets, record_offsets
from tests.conftest import ProjectFactory

SOURCE = """
sources:
  - name: app
    type: kafka
    connection: {bootstrap_servers: "localhost:9092"}
    tables:
      - name: orders
        key: [order_id, shop]
        columns: {order_id: bigint, shop: varchar, placed_at: timestamp, total: "decimal(10, 2)", paid: boolean, n: integer}
"""


@pytest.fixture
def project(make_project: ProjectFactory) -> Project:
    return Project.load(make_project({"models/sources.yml": SOURCE}))


def _decode(project: Project, values: list[bytes | None]) -> list[dict[str, object]]:
    table = project.definition.sources[("app", "orders")]
    raw = pyarrow.table({
        "partition": pyarrow.array([0] * len(values), pyarrow.int32()), "offset": pyarrow.array(range(len(values)), pyarrow.int64()),
        "timestamp": pyarrow.array([1767225600000] * len(values), pyarrow.int64()),
        "key": pyarrow.array([None] * len(values), pyarrow.binary()), "value": pyarrow.array(values, pyarrow.binary()),
    })
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register(RAW_TABLE, raw)
        return con.execute(decode_query(table, "duckdb").sql("duckdb")).to_arrow_table().to_pylist()


def test_fields_are_cast_to_their_types_and_the_first_fault_is_named(project: Project) -> None:
    rows = _decode(project, [
        b'{"order_id": 1, "shop": "b\xc3\xa4r", "placed_at": "2026-01-01T10:00:00+02:00", "total": "12.50", "paid": true, "n": 3}',
        b'\n\t {"order_id": 2, "shop": "x", "extra": [1]}',
        b'{"order_id": 3}', b'{"order_id": 4, "shop": "x", "n": 2.5}', b'{"order_id": 5, "shop": "x", "n": 99999999999}',
        b'{"order_id": 6, "shop": "x", "paid": "maybe"}', b'{"order_id": 7, "shop": "x", "total": 1e20}',
        b'{"order_id": "7a", "shop": "x"}', b'{"shop": "x", "order_id": null}', b"{", b"", b" [1]",
    ])
    first = rows[0]
    assert (first["order_id"], first["shop"], str(first["placed_at"]), str(first["total"]), first["paid"], first["n"]) == (
        1, "bär", "2026-01-01 08:00:00", "12.50", True, 3)
    assert str(first["_kafka_timestamp"]) == "2026-01-01 00:00:00" and first[ERROR] is None
    assert rows[1][ERROR] is None and rows[1]["placed_at"] is None  # absent fields are NULL; unknown ones ignored
    assert [r[ERROR] for r in rows[2:]] == [
        "key column 'shop' is missing or null", "column 'n': 2.5 is not an INT", "column 'n': 99999999999 is not an INT",
        "column 'paid': maybe is not a BOOLEAN", "column 'total': 1e20 is not a DECIMAL(10, 2)",
        "column 'order_id': 7a is not a BIGINT", "key column 'order_id' is missing or null", "not JSON", "not JSON",
        "not a JSON object",
    ]
    assert rows[-3]["message"] == "{"


def _random_timestamp(rng: random.Random) -> str:
    """A time of every shape a producer writes: offsets, `Z`, zone names, fractions, a
    space or `T`, one-digit fields, dates alone, and impossible dates and times."""
    def part(low: int, high: int) -> str:
        value = rng.randint(low, high)
        return str(value) if rng.random() < 0.1 else f"{value:02d}"

    date = f"{rng.choice([1969, 2000, 2024, 2026, 9999])}-{part(1, 13)}-{part(1, 31)}"
    if rng.random() < 0.15:
        return date + rng.choice(["", "Z", " UTC"])
    if rng.random() < 0.02:
        return rng.choice(["epoch", "now-ish", ""])
    clock = f"{part(0, 24)}:{part(0, 59)}" + rng.choice(["", f":{part(0, 60)}"])
    if clock.count(":") == 2 and rng.random() < 0.5:
        clock += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
    zone = rng.choice(["", "", "", "Z", "z", "+02:00", "-05:30", " +0100", "-08", "+5", "+00:00", " UTC", " Europe/Berlin",
                       " America/New_York", " Asia/Kolkata", " Nowhere/Else"])
    return date + rng.choice(["T", " "]) + clock + zone


@pytest.mark.parametrize("seed", [0, 1])
def test_timestamps_read_as_timestamptz_reads_each_alone_in_utc(project: Project, seed: int) -> None:
    """Every random time lands as DuckDB's TIMESTAMPTZ reading of it alone in UTC (NULL,
    and named, when that refuses it). Alone: in one vector, DuckDB 1.5.5 reads a time
    with no zone in the zone of a zone name before it, which the decode must not."""
    rng = random.Random(seed)
    stamps = [_random_timestamp(rng) for _ in range(2000)]
    rows = _decode(project, [orjson.dumps({"order_id": i, "shop": "s", "placed_at": s}) for i, s in enumerate(stamps)])
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        expected = [con.execute("SELECT try_cast(try_cast(?::VARCHAR AS TIMESTAMPTZ) AS TIMESTAMP)", [s]).fetchone()[0] for s in stamps]
    assert [r["placed_at"] for r in rows] == expected
    assert sum(e is None for e in expected) > 500 and sum(e is not None for e in expected) > 500  # both kinds drawn
    assert all((r[ERROR] is None) == (e is not None) for r, e in zip(rows, expected, strict=True))
    # the message's text is kept for the dead letters alone
    assert all((r["message"] is None) == (r[ERROR] is None) for r in rows)


CDC_SOURCE = """
sources:
  - name: app
    type: postgres
    cdc: true
    schema: public
    connection: "postgresql://nobody@127.0.0.1:1/none"
    tables:
      - name: users
        key: [id]
        columns: {id: bigint, name: varchar, score: double}
"""


def test_wal2json_changes_are_read_by_column_name_and_malformed_ones_named(make_project: ProjectFactory) -> None:
    """The slot reader's changes (streams.postgres_slot): the first copy's rows, then a
    change's `columns` (or a delete's `identity`) found by name, in any order and with
    columns the source does not declare; a change of no row named, never a failed batch,
    and an insert without a declared column refused, never landed with a NULL there."""
    project = Project.load(make_project({"models/sources.yml": CDC_SOURCE}))
    table = project.definition.sources[("app", "users")]
    stamp = '"timestamp": "2026-01-01 10:00:00.5+02"'
    changes = [
        '{"action": "T"}',
        '{"action": "R", "row": {"id": 1, "name": "a", "score": 1.5}, "timestamp": null}',
        '{"action": "I", "columns": [{"name": "score", "value": 2.5}, {"name": "added", "value": 7}, {"name": "id", "value": 2},'
        ' {"name": "name", "value": "b"}], ' + stamp + '}',
        '{"action": "U", "columns": [{"name": "id", "value": 1}, {"name": "name", "value": null}, {"name": "score", "value": 3}],'
        ' "identity": [{"name": "id", "value": 1}], ' + stamp + '}',
        '{"action": "D", "identity": [{"name": "id", "value": 2}], ' + stamp + '}',
        '{"action": "M", "prefix": "p", "content": "a logical message"}',
        '{"action": "I", "columns": "x"}', '{"action": "I"}', '{"action": "D", "columns": [{"name": "id", "value": 5}]}',
        '{"action": "U", "columns": [1, 2]}', '{"action": "I", "columns": [{"name": "id", "value": "x"}, {"name": "name", "value": "d"},'
        ' {"name": "score", "value": 1}]}',
        '{"action": "I", "columns": [{"name": "id", "value": 6}, {"name": "name", "value": "c"}]}',  # a table without score
    ]
    raw = pyarrow.table({
        "partition": pyarrow.array([0] * len(changes), pyarrow.int32()), "offset": pyarrow.array(range(len(changes)), pyarrow.int64()),
        "timestamp": pyarrow.array([-1] * len(changes), pyarrow.int64()), "key": pyarrow.nulls(len(changes), pyarrow.binary()),
        "value": pyarrow.array([c.encode() for c in changes], pyarrow.binary()), "seq": pyarrow.array(range(len(changes)), pyarrow.int64()),
    })
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register(RAW_TABLE, raw)
        rows = con.execute(decode_query(table, "duckdb").sql("duckdb")).to_arrow_table().to_pylist()
    assert [(r["_cdc_op"], r["id"], r["name"], r["score"], r[ERROR]) for r in rows] == [
        ("t", None, None, None, None), ("r", 1, "a", 1.5, None), ("c", 2, "b", 2.5, None), ("u", 1, None, 3.0, None),
        ("d", 2, None, None, None),
        ("c", None, None, None, "a change without the row it changes (after, or before for a delete)"),
        ("c", None, None, None, "a change without the row it changes (after, or before for a delete)"),
        ("d", None, None, None, "a change without the row it changes (after, or before for a delete)"),
        ("u", None, None, None, "key column 'id' is missing or null"), ("c", None, "d", 1.0, "column 'id': x is not a BIGINT"),
        ("c", 6, "c", None, "column 'score' is not in the change's row (columns): the table has no such column (dropped?)"),
    ]  # the logical message is no change of the table: not there
    assert str(rows[2]["_cdc_updated_at"]) == "2026-01-01 08:00:00.500000" and rows[1]["_cdc_updated_at"] is None
    assert [r["_cdc_lsn"] for r in rows[:5]] == [0, 1, 2, 3, 4]


def test_a_batch_whose_offsets_moved_meanwhile_is_not_landed(project: Project, tmp_path: Path) -> None:
    table = project.definition.sources[("app", "orders")]
    adapter = DuckDBAdapter(TargetConfig("dev", "duckdb", {"path": str(tmp_path / "t.duckdb"), "schema": "main"}))
    adapter.open()
    try:
        ensure_offsets_table(adapter)
        tables = landing_tables(table, "duckdb")
        ensure_landing(adapter, table, tables)
        with adapter.transaction():
            record_offsets(adapter, table.unique_id, "orders", {}, {0: 10, 1: 4}, {})
        with adapter.transaction():  # this consumer moves partition 0 from 10
            record_offsets(adapter, table.unique_id, "orders", {0: 10, 1: 4}, {0: 15}, {0: 20})
        rows = pyarrow.table({"order_id": [1], "shop": ["x"]})
        with pytest.raises(StreamError, match="another `fduck stream` reads the same source"), adapter.transaction():
            adapter.append_arrow(tables.rows, rows)  # a second consumer that still believes partition 0 is at 10
            record_offsets(adapter, table.unique_id, "orders", {0: 10}, {0: 12}, {})
        assert read_offsets(adapter, table.unique_id, "orders") == {0: 15, 1: 4}
        assert adapter.execute("select count(*) from app.orders") == [(0,)]  # rolled back with the offsets
    finally:
        adapter.close()


def test_a_declared_type_the_landing_table_does_not_hold_is_an_error(project: Project, tmp_path: Path) -> None:
    table = project.definition.sources[("app", "orders")]
    adapter = DuckDBAdapter(TargetConfig("dev", "duckdb", {"path": str(tmp_path / "t.duckdb"), "schema": "main"}))
    adapter.open()
    try:
        adapter.execute("create schema app")
        adapter.execute("create table app.orders (order_id varchar, shop varchar)")
        with pytest.raises(StreamError, match="column 'order_id' is declared BIGINT, but app.orders holds it as VARCHAR"):
            ensure_landing(adapter, table, landing_tables(table, "duckdb"))
        adapter.execute("drop table app.orders")
        adapter.execute("create table app.orders (order_id bigint, shop varchar)")
        ensure_landing(adapter, table, landing_tables(table, "duckdb"))  # a column declared since is added
        landed = [name for name, _ in adapter.columns(landing_tables(table, "duckdb").rows)]
        assert landed == ["order_id", "shop", "placed_at", "total", "paid", "n", "_kafka_partition", "_kafka_offset", "_kafka_timestamp"]
    finally:
        adapter.close()


def test_a_decimal_keeps_every_digit_its_message_writes(make_project: ProjectFactory) -> None:
    """DuckDB reads a JSON number with a fraction as a double: a DECIMAL column is read from
    the number as written, never from a nested key of the same name."""
    project = Project.load(make_project({"models/sources.yml": SOURCE.replace('"decimal(10, 2)"', '"decimal(38, 12)"')}))
    rows = _decode(project, [
        b'{"order_id": 1, "shop": "a", "total": 12345678901234567890.123456789012}',
        b'{"order_id": 2, "shop": "a", "meta": {"total": 1.5}, "total" :-98765432109876543210.5}',
        b'{"order_id": 3, "shop": "a", "note": "{\\"total\\": 7.25", "total": 0.1}',  # the key inside a string
        b'{"order_id": 4, "shop": "a", "total": "12345678901234567890.000000000001"}',  # as text: as it is
        b'{"order_id": 5, "shop": "a", "meta": {"total": 2.5}}',  # only nested: none of the column's
    ])
    assert [str(r["total"]) if r["total"] is not None else None for r in rows] == [
        "12345678901234567890.123456789012", "-98765432109876543210.500000000000", "0.100000000000",
        "12345678901234567890.000000000001", None]
