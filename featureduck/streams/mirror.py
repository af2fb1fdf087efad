"""Changes (Debezium's, or a Postgres slot's) applied to a mirror of their table.

Per batch the decoder keeps each key's last change (a truncate empties the
mirror and drops the changes before it); then, inside the batch's target
transaction, those rows go through a staging table beside the mirror
(`<table>__cdc_batch`): the mirror's rows of their keys are deleted and the
rows of the changes that are not deletes inserted. Inserts, updates and
deletes thus land in their order per key, and applying a batch twice (a
consumer killed before its offsets committed reads it again) leaves the same
mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.project.nodes import SourceTable
from featureduck.streams.decode import OP, ORDER
from featureduck.streams.landing import LandingTables

if TYPE_CHECKING:
    import duckdb
    import pyarrow

CHANGES_TABLE = "__fd_changes"


@dataclass(frozen=True)
class Changes:
    """A batch's changes as the mirror takes them."""

    rows: pyarrow.Table  # each key's last change, the mirror's columns (deletes carry their key and `_cdc_op` d)
    truncated: bool  # the table was emptied within the batch: the mirror is, before these rows
    applied: int  # changes in the batch (before keeping the last per key)

    @property
    def deletes(self) -> int:
        import pyarrow.compute

        return int(pyarrow.compute.sum(pyarrow.compute.equal(self.rows.column("_cdc_op"), "d")).as_py() or 0)


def last_changes(decoder: duckdb.DuckDBPyConnection, table: SourceTable, tables: LandingTables, decoded: pyarrow.Table) -> Changes:
    """Each key's last change after the batch's last truncate, by the decoder's DuckDB."""
    assert table.stream is not None
    names = [c.name for c in tables.columns]
    order = exp.column(ORDER)
    truncates = exp.select(exp.func("max", order.copy())).from_(CHANGES_TABLE).where(exp.column(OP).eq(exp.Literal.string("t")))
    after = exp.func("coalesce", truncates.subquery(), exp.cast(exp.Literal.number(-1), "HUGEINT"))
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(k, quoted=True) for k in table.stream.key],
                        order=exp.Order(expressions=[exp.Ordered(this=order.copy(), desc=True)]))
    ranked = exp.select("*", exp.alias_(newest, "__fd_newest")).from_(CHANGES_TABLE).where(
        exp.and_(exp.column(OP).neq(exp.Literal.string("t")), exp.GT(this=order.copy(), expression=after)))
    query = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(ranked.subquery("ranked")).where(
        exp.column("__fd_newest").eq(1))
    decoder.register(CHANGES_TABLE, decoded)
    try:
        rows = decoder.execute(query.sql(dialect="duckdb")).to_arrow_table()
    finally:
        decoder.unregister(CHANGES_TABLE)
    import pyarrow.compute

    truncated = bool(pyarrow.compute.any(pyarrow.compute.equal(decoded.column(OP), "t")).as_py()) if decoded.num_rows else False
    return Changes(rows, truncated, decoded.num_rows)


def apply_changes(adapter: EngineAdapter, table: SourceTable, tables: LandingTables, changes: Changes) -> None:
    """Inside the batch's transaction: the mirror as the changes leave it."""
    assert table.stream is not None
    mirror, staged = tables.rows, tables.staging
    names = [c.name for c in tables.columns]
    if changes.truncated:
        adapter.execute(exp.delete(mirror.copy()))
    if not changes.rows.num_rows:
        return
    adapter.execute(exp.delete(staged.copy()))
    adapter.append_arrow(staged, changes.rows)
    adapter.delete_matching(mirror.copy(), staged.copy(), list(table.stream.key))
    kept = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(staged.copy()).where(
        exp.column("_cdc_op").neq(exp.Literal.string("d")))
    adapter.execute(exp.Insert(this=exp.Schema(this=mirror.copy(), expressions=[exp.to_identifier(n, quoted=True) for n in names]),
                               expression=kept))
    adapter.execute(exp.delete(staged.copy()))
