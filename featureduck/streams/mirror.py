"""Changes (Debezium's, or a Postgres slot's) applied to a mirror of their table.

Per batch the decoder keeps each key's last change (a truncate empties the
mirror and drops the changes before it; a Debezium truncate's LSN places it
among the other partitions' changes); then, inside the batch's target
transaction, those rows go through a staging table beside the mirror
(`<table>__cdc_batch`): the mirror's rows of their keys are deleted and the
rows of the changes that are not deletes inserted. Inserts, updates and
deletes thus land in their order per key, and applying a batch twice (a
consumer killed before its offsets committed reads it again) leaves the same
mirror.

An update that does not carry a column's value (an unchanged TOAST value:
streams.decode) takes it from the key's last earlier change in the batch that
does, else from the mirror's row, read before the batch writes any (for a
Postgres slot's update that moved the row to a new key, the old key's row,
which the batch then deletes). A key the mirror
does not hold then has no known value for it: that change is not applied but
becomes a dead letter that names the columns, so the mirror never holds a
NULL the table does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.project.nodes import SourceTable
from featureduck.streams.decode import OP, ORDER, UNCHANGED, WAS, duckdb_call, names_where
from featureduck.streams.landing import LandingTables

if TYPE_CHECKING:
    import duckdb
    import pyarrow

CHANGES_TABLE = "__fd_changes"
READ_TABLE = "__fd_changes_read"  # the batch's decoded changes, when CHANGES_TABLE adds to them (`_moved_keys`)
ORIGIN = ("_kafka_partition", "_kafka_offset", "_kafka_timestamp")  # where a change came from, for its dead letter


@dataclass(frozen=True)
class Changes:
    """A batch's changes as the mirror takes them."""

    rows: pyarrow.Table  # each key's last change, the mirror's columns (deletes carry their key and `_cdc_op` d)
    truncates: int  # times the table was emptied within the batch: the mirror is, before these rows
    applied: int  # changes in the batch (before keeping the last per key), truncates included
    # keys whose last change leaves columns at the mirror's values, by those columns: the mirror's columns and ORIGIN
    keeping: dict[tuple[str, ...], pyarrow.Table] = field(default_factory=dict)
    truncated_at: int | None = None  # the LSN of the batch's last truncate: the mirror's rows changed later stay
    first: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # with keys changed: each key's first change in the batch

    @property
    def deletes(self) -> int:
        import pyarrow.compute

        return int(pyarrow.compute.sum(pyarrow.compute.equal(self.rows.column("_cdc_op"), "d")).as_py() or 0)


def last_changes(decoder: duckdb.DuckDBPyConnection, table: SourceTable, tables: LandingTables, decoded: pyarrow.Table,
                 truncated_before: int | None = None) -> Changes:
    """Each key's last change after the batch's last truncate, by the decoder's DuckDB. A
    Debezium truncate with an LSN (Postgres's) is placed among the changes by their LSNs,
    `truncated_before` being the last one applied before this batch."""
    import pyarrow.compute

    assert table.stream is not None
    names = [c.name for c in tables.columns]
    emptied = _truncates(decoded)
    order = exp.column(ORDER)
    truncates = exp.select(exp.func("max", order.copy())).from_(CHANGES_TABLE).where(exp.column(OP).eq(exp.Literal.string("t")))
    after = exp.func("coalesce", truncates.subquery(), exp.cast(exp.Literal.number(-1), "HUGEINT"))
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(k, quoted=True) for k in table.stream.key],
                        order=exp.Order(expressions=[exp.Ordered(this=order.copy(), desc=True)]))
    truncated_at = _truncate_lsn(table, decoded) if emptied else None
    below = max((lsn for lsn in (truncated_before, truncated_at) if lsn is not None), default=None)
    later: exp.Expr = exp.GT(this=order.copy(), expression=after)
    if below is not None and (truncated_at is not None or not emptied):
        # a truncate and the changes of other partitions have no order but their LSNs: what was made before it is gone
        lsn = exp.column("_cdc_lsn")
        later = exp.Case(ifs=[exp.If(this=lsn.is_(exp.null()).not_(), true=exp.GT(this=lsn.copy(), expression=exp.Literal.number(below)))],
                         default=later)
    ranked = exp.select("*", exp.alias_(newest, "__fd_newest")).from_(CHANGES_TABLE).where(
        exp.and_(exp.column(OP).neq(exp.Literal.string("t")), later))
    keeping = bool(decoded.num_rows) and bool(pyarrow.compute.any(pyarrow.compute.is_valid(decoded.column(UNCHANGED))).as_py())
    if keeping:
        values = _carried(table, names, ranked, decoded.column_names)
    else:
        values = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(ranked.subquery("ranked"))
    query = values.where(exp.column("__fd_newest").eq(1))
    moved = _moved_keys(table, decoded)
    if moved is not None:
        query = query.with_(CHANGES_TABLE, as_=moved)
    read = CHANGES_TABLE if moved is None else READ_TABLE
    decoder.register(read, decoded)
    try:
        rows = decoder.execute(query.sql(dialect="duckdb")).to_arrow_table()
    finally:
        decoder.unregister(read)
    if not keeping:
        return Changes(rows, emptied, decoded.num_rows, truncated_at=truncated_at)
    kept = pyarrow.compute.is_valid(rows.column(UNCHANGED))
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, columns in enumerate(rows.column(UNCHANGED).to_pylist()):
        if columns is not None:
            groups.setdefault(tuple(columns), []).append(index)
    extra = [n for n in rows.column_names if n.startswith(WAS) or n == ORDER]
    return Changes(rows.filter(pyarrow.compute.invert(kept)).select(names), emptied, decoded.num_rows,
                   {columns: rows.take(indexes).select([*names, *ORIGIN, *extra]) for columns, indexes in groups.items()}, truncated_at,
                   _first_changes(table, decoded) if moved is not None else {})


def _first_changes(table: SourceTable, decoded: pyarrow.Table) -> dict[tuple[Any, ...], Any]:
    """Each key's first change in the batch, by its place in the batch's order (doubled, as `_moved_keys` has it)."""
    assert table.stream is not None
    first: dict[tuple[Any, ...], Any] = {}
    columns = [decoded.column(k).to_pylist() for k in table.stream.key]
    for key, order in zip(zip(*columns, strict=True), decoded.column(ORDER).to_pylist(), strict=True):
        if key not in first or order * 2 < first[key]:
            first[key] = order * 2
    return first


def _truncates(decoded: pyarrow.Table) -> int:
    import pyarrow.compute

    return int(pyarrow.compute.sum(pyarrow.compute.equal(decoded.column(OP), "t")).as_py() or 0) if decoded.num_rows else 0


def _truncate_lsn(table: SourceTable, decoded: pyarrow.Table) -> int | None:
    """The LSN of the last Debezium truncate of a batch that has some, when every one has one."""
    import pyarrow.compute

    assert table.stream is not None
    if table.stream.format != "debezium":
        return None
    lsns = decoded.filter(pyarrow.compute.equal(decoded.column(OP), "t")).column("_cdc_lsn")
    return None if lsns.null_count else int(pyarrow.compute.max(lsns).as_py())


def _moved_keys(table: SourceTable, decoded: pyarrow.Table) -> exp.Union | None:
    """READ_TABLE's changes, each update that changed its row's key (a Postgres slot's, which
    names the old key: Debezium's are a delete and a create already) after a delete of the
    old key; None when no update names an old key."""
    import pyarrow.compute

    assert table.stream is not None
    pairs = [(exp.column(WAS + k, quoted=True), k) for k in table.stream.key]  # the old key's columns, and the new
    if WAS + pairs[0][1] not in decoded.column_names or not pyarrow.compute.any(
            pyarrow.compute.is_valid(decoded.column(WAS + pairs[0][1]))).as_py():
        return None
    order = exp.column(ORDER)
    kept = exp.select(exp.Star(replace=[exp.alias_(exp.Mul(this=order.copy(), expression=exp.Literal.number(2)), ORDER)])).from_(READ_TABLE)
    changed = exp.or_(*[exp.NullSafeNEQ(this=was.copy(), expression=exp.column(k, quoted=True)) for was, k in pairs])
    moved = exp.and_(exp.column(OP).eq(exp.Literal.string("u")), *[was.copy().is_(exp.null()).not_() for was, _ in pairs], changed)
    deleted = exp.Literal.string("d")
    gone = exp.select(exp.Star(replace=[
        *[exp.alias_(was.copy(), k, quoted=True) for was, k in pairs],
        exp.alias_(deleted, OP), exp.alias_(deleted.copy(), "_cdc_op"),
        exp.alias_(exp.Sub(this=exp.Mul(this=order.copy(), expression=exp.Literal.number(2)), expression=exp.Literal.number(1)), ORDER),
    ])).from_(READ_TABLE).where(moved)
    return exp.Union(this=kept, expression=gone, distinct=False, by_name=True)


def _carried(table: SourceTable, names: list[str], ranked: exp.Select, decoded_names: list[str]) -> exp.Select:
    """Each key's changes with every column's last value the batch carries (a delete
    carries NULL: a row inserted after it starts anew), and UNCHANGED the columns the
    batch carries no value of, which the mirror's row holds."""
    assert table.stream is not None
    keys = list(table.stream.key)
    declared = [n for n in names if n not in keys and n in table.columns]
    deleted = exp.column(OP).eq(exp.Literal.string("d"))
    whole = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED", end_side="FOLLOWING")
    lasts: dict[str, str] = {}  # a column's last carried value {v: value}, NULL when the batch carries none
    windows = []
    for index, name in enumerate(declared):
        value = exp.func("struct_pack", exp.PropertyEQ(this=exp.to_identifier("v"), expression=exp.Case(
            ifs=[exp.If(this=deleted.copy(), true=exp.null())], default=exp.column(name, quoted=True))))
        held = exp.func("coalesce", exp.column(UNCHANGED), exp.cast(exp.Array(expressions=[]), exp.DataType.build("VARCHAR[]")))
        left_out = exp.and_(deleted.copy().not_(), duckdb_call("list_contains", held, exp.Literal.string(name)))
        last = exp.IgnoreNulls(this=exp.func("last_value", exp.Case(ifs=[exp.If(this=left_out, true=exp.null())], default=value)))
        lasts[name] = f"__fd_last{index}"
        windows.append(exp.alias_(exp.Window(this=last, partition_by=[exp.column(k, quoted=True) for k in keys],
                                             order=exp.Order(expressions=[exp.Ordered(this=exp.column(ORDER))]), spec=whole.copy()),
                                  lasts[name]))
    outputs = [exp.alias_(duckdb_call("struct_extract", exp.column(lasts[n]), exp.Literal.string("v")), n, quoted=True) if n in lasts
               else exp.column(n, quoted=True) for n in names]
    left = names_where([(exp.column(alias).is_(exp.null()), name) for name, alias in lasts.items()])
    unchanged = exp.Case(ifs=[exp.If(this=deleted.copy(), true=exp.cast(exp.null(), exp.DataType.build("VARCHAR[]")))], default=left)
    moved = [exp.column(WAS + k, quoted=True) for k in keys if WAS + k in decoded_names]
    return exp.select(*outputs, exp.alias_(unchanged, UNCHANGED), *[exp.column(c) for c in ORIGIN], *moved, exp.column(ORDER)).from_(
        exp.select("*", *windows).from_(ranked.subquery("ranked")).subquery("lasts"))


def apply_changes(adapter: EngineAdapter, table: SourceTable, tables: LandingTables, changes: Changes) -> list[dict[str, Any]]:
    """Inside the batch's transaction: the mirror as the changes leave it. The dead
    letters of the changes it could not apply (Changes.keeping of keys it does not hold)."""
    assert table.stream is not None
    keys = list(table.stream.key)
    names = [c.name for c in tables.columns]
    if changes.truncated_at is not None:
        lsn = exp.column("_cdc_lsn")
        adapter.execute(exp.delete(tables.rows.copy(), where=exp.or_(
            lsn.is_(exp.null()), exp.LT(this=lsn.copy(), expression=exp.Literal.number(changes.truncated_at)))))
    elif changes.truncates:
        adapter.execute(exp.delete(tables.rows.copy()))
    import pyarrow

    dead: list[dict[str, Any]] = []
    replacing = [changes.rows] if changes.rows.num_rows else []
    for columns, rows in changes.keeping.items():  # read before the batch's rows replace any (an old key's among them)
        found = _held_values(adapter, tables, keys, columns, rows, changes.first, dead)
        if found.num_rows:
            replacing.append(found.select(names).cast(changes.rows.schema))
    if replacing:
        _replace(adapter, tables, keys, names, pyarrow.concat_tables(replacing))
    return dead


def _held_values(adapter: EngineAdapter, tables: LandingTables, keys: list[str], columns: tuple[str, ...], rows: pyarrow.Table,
                 first: dict[tuple[Any, ...], Any], dead: list[dict[str, Any]]) -> pyarrow.Table:
    """`rows` with `columns` as the mirror holds them for their key (the old key, when the
    change moved the row); those it cannot tell are added to `dead`."""
    import pyarrow

    names = [c.name for c in tables.columns]
    listed = rows.to_pylist()
    lookups = [tuple(row[WAS + k] if row.get(WAS + keys[0]) is not None else row[k] for k in keys) for row in listed]
    moves = [lookup != tuple(row[k] for k in keys) for row, lookup in zip(listed, lookups, strict=True)]
    looked_up = [{**row, **dict(zip(keys, lookup, strict=True))} for row, lookup in zip(listed, lookups, strict=True)]
    staged = pyarrow.Table.from_pylist(looked_up, rows.schema).select(names)
    adapter.execute(exp.delete(tables.staging.copy()))
    adapter.append_arrow(tables.staging, staged)
    held = {tuple(found[:len(keys)]): found[len(keys):] for found in adapter.execute(
        exp.select(*[exp.column(c, "m", quoted=True) for c in (*keys, *columns)]).from_(tables.rows.copy().as_("m")).join(
            tables.staging.copy(), on=_same_keys(tables, keys)))}
    adapter.execute(exp.delete(tables.staging.copy()))
    kept = []
    for row, lookup, moved in zip(listed, lookups, moves, strict=True):
        # a moved row whose old key changed earlier in the batch: the mirror holds a value older than the one it moved with
        if moved and first.get(lookup, row[ORDER]) < row[ORDER]:
            dead.append(_unknown(columns, keys, row, "of a row whose old key changed earlier in the batch"))
        elif lookup in held:
            kept.append({**row, **dict(zip(columns, held[lookup], strict=True))})
        else:
            dead.append(_unknown(columns, keys, row, "of a row the mirror does not hold"))
    return pyarrow.Table.from_pylist(kept, rows.schema)


def _same_keys(tables: LandingTables, keys: list[str]) -> exp.Expr:
    staged = tables.staging.name
    return exp.and_(*[exp.column(k, "m", quoted=True).eq(exp.column(k, staged, quoted=True)) for k in keys])


def _unknown(columns: tuple[str, ...], keys: list[str], row: dict[str, Any], whose: str) -> dict[str, Any]:
    """The dead letter of an update that left `columns` as they were, `whose` value is not known."""
    key = {k: row[k] for k in keys}
    carried = {k: v for k, v in row.items() if k not in columns and k not in ORIGIN and k != ORDER and not k.startswith(WAS)}
    return {
        "_kafka_partition": row["_kafka_partition"], "_kafka_offset": row["_kafka_offset"], "_kafka_timestamp": row["_kafka_timestamp"],
        "message_key": orjson.dumps(key, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME).decode(),
        "message": orjson.dumps(carried, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME).decode(),  # times by Python (streams.avro)
        "error": f"an update that leaves {', '.join(columns)} as {'they were' if len(columns) > 1 else 'it was'} (an unchanged "
                 f"TOAST value), {whose}: the value is unknown, so the change is not applied",
    }


def _replace(adapter: EngineAdapter, tables: LandingTables, keys: list[str], names: list[str], rows: pyarrow.Table | None) -> None:
    """The staged rows (`rows`, or those already staged) replace the mirror's of their keys."""
    mirror, staged = tables.rows, tables.staging
    if rows is not None:
        adapter.execute(exp.delete(staged.copy()))
        adapter.append_arrow(staged, rows)
    adapter.delete_matching(mirror.copy(), staged.copy(), keys)
    kept = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(staged.copy()).where(
        exp.column("_cdc_op").neq(exp.Literal.string("d")))
    adapter.execute(exp.Insert(this=exp.Schema(this=mirror.copy(), expressions=[exp.to_identifier(n, quoted=True) for n in names]),
                               expression=kept))
    adapter.execute(exp.delete(staged.copy()))
