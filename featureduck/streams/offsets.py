"""Where each stream source has read up to, kept in the target with the rows.

`<target schema>_featureduck.stream_offsets` holds, per source table and
partition, the next offset to read, written in the transaction that lands
the batch's rows: a consumer killed at any moment resumes where the landing
table ends, so every message lands exactly once. Each update names the
offset it expects to replace; when another consumer moved it first, the
update matches no row and the batch is rolled back (never landed twice).

`stream_truncates` holds, per mirrored source, the LSN of the last truncate
applied: the changes of a topic's other partitions that come in later but
were made before it (Debezium orders a truncate only within its partition)
are not applied after it (streams.mirror).
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import StreamError
from featureduck.runner.state import column_definitions, state_table, timestamp_literal
from featureduck.utils.clock import utc_now

COLUMNS = (
    ("source_id", "VARCHAR"), ("topic", "VARCHAR"), ("partition", "INTEGER"), ("next_offset", "BIGINT"),
    ("high_offset", "BIGINT"), ("updated_at", "TIMESTAMP"),
)


TRUNCATE_COLUMNS = (("source_id", "VARCHAR"), ("lsn", "BIGINT"), ("updated_at", "TIMESTAMP"))


def offsets_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "stream_offsets")


def truncates_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "stream_truncates")


def ensure_offsets_table(adapter: EngineAdapter) -> None:
    table = offsets_table(adapter)
    schema = exp.Schema(this=table, expressions=[
        *column_definitions(COLUMNS),
        exp.PrimaryKey(expressions=[exp.to_identifier(n) for n in ("source_id", "topic", "partition")]),
    ])
    truncates = exp.Schema(this=truncates_table(adapter), expressions=[
        *column_definitions(TRUNCATE_COLUMNS), exp.PrimaryKey(expressions=[exp.to_identifier("source_id")]),
    ])
    adapter.execute_script([
        exp.Create(this=exp.Table(db=table.args["db"].copy()), kind="SCHEMA", exists=True),
        exp.Create(this=schema, kind="TABLE", exists=True),
        exp.Create(this=truncates, kind="TABLE", exists=True),
    ])


def read_truncated(adapter: EngineAdapter, source_id: str) -> int | None:
    """The LSN of the last truncate applied to a source's mirror, if one carried an LSN."""
    query = exp.select("lsn").from_(truncates_table(adapter)).where(exp.column("source_id").eq(exp.Literal.string(source_id)))
    rows = adapter.execute(query)
    return int(rows[0][0]) if rows else None


def record_truncated(adapter: EngineAdapter, source_id: str, lsn: int) -> None:
    """Inside the batch's transaction that applies the truncate."""
    table = truncates_table(adapter)
    adapter.execute(exp.delete(table, where=exp.column("source_id").eq(exp.Literal.string(source_id))))
    row = exp.Tuple(expressions=[exp.Literal.string(source_id), exp.Literal.number(lsn),
                                 timestamp_literal(utc_now().replace(tzinfo=None))])
    adapter.execute(exp.insert(exp.Values(expressions=[row]), table.copy(), columns=[n for n, _ in TRUNCATE_COLUMNS]))


def read_offsets(adapter: EngineAdapter, source_id: str, topic: str) -> dict[int, int]:
    """partition -> next offset to read."""
    query = exp.select("partition", "next_offset").from_(offsets_table(adapter)).where(
        exp.and_(exp.column("source_id").eq(exp.Literal.string(source_id)), exp.column("topic").eq(exp.Literal.string(topic))))
    return {int(p): int(o) for p, o in adapter.execute(query)}


def record_offsets(adapter: EngineAdapter, source_id: str, topic: str, known: dict[int, int], ends: dict[int, int],
                   highs: dict[int, int]) -> None:
    """Move each partition of `ends` from its `known` offset (inside the batch's transaction)."""
    table = offsets_table(adapter)
    now = timestamp_literal(utc_now().replace(tzinfo=None))
    for partition, end in sorted(ends.items()):
        high = exp.Literal.number(max(highs.get(partition, end), end))
        if partition not in known:
            row = exp.Tuple(expressions=[
                exp.Literal.string(source_id), exp.Literal.string(topic), exp.Literal.number(partition), exp.Literal.number(end),
                high, now.copy(),
            ])
            adapter.execute(exp.insert(exp.Values(expressions=[row]), table, columns=[n for n, _ in COLUMNS]))
            continue
        update = exp.update(table, {"next_offset": exp.Literal.number(end), "high_offset": high, "updated_at": now.copy()}, where=exp.and_(
            exp.column("source_id").eq(exp.Literal.string(source_id)), exp.column("topic").eq(exp.Literal.string(topic)),
            exp.column("partition").eq(exp.Literal.number(partition)), exp.column("next_offset").eq(exp.Literal.number(known[partition])),
        ))
        update.set("returning", exp.Returning(expressions=[exp.column("partition")]))
        if not adapter.execute(update):
            raise StreamError(f"the recorded offset of {source_id} partition {partition} moved while this batch was read: "
                              "another `fduck stream` reads the same source; this batch was not landed")


def forget_offsets(adapter: EngineAdapter, source_id: str) -> None:
    for table in (offsets_table(adapter), truncates_table(adapter)):
        adapter.execute(exp.delete(table, where=exp.column("source_id").eq(exp.Literal.string(source_id))))
