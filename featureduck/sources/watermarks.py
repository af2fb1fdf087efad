"""Incremental sources: an incremental model reads only the rows past its watermark.

Each (model, source table) pair has a watermark: the newest `timestamp_field`
value the model has read. Before the model builds, the rows it is to read are
snapshotted into a table in the state schema, in one scan of the source:

- a full build (the first, or `--full-refresh`) snapshots every row;
- an incremental build snapshots the rows stamped at or after the watermark,
  leaving out those at exactly the watermark that an earlier run read.

The model is compiled against the snapshot instead of the source, and the
new watermark (the snapshot's newest stamp) and the fingerprints (md5 of the
row's text) of the rows at that stamp are written in the same transaction
that commits the model's rows. So a failed or killed run moves nothing and
the next run reads those rows again; a row that arrives later with a stamp
equal to the watermark is read by the next run (its fingerprint is new); no
row is read twice. Rows arriving later with an older stamp than the
watermark are not read until a full refresh, and rows with a NULL stamp are
read by full builds only. Two identical rows with the same stamp, one read
and one arriving later, share a fingerprint: the later one is not read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlglot import exp

from featureduck.compiler.compile import CompiledModel
from featureduck.compiler.relations import source_expression
from featureduck.engines.base import EngineAdapter
from featureduck.engines.traits import engine_traits, engine_types
from featureduck.errors import CompilationError, SourceLocation
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import SourceTable
from featureduck.runner.state import STATE_SUFFIX, column_definitions, state_table, timestamp_literal
from featureduck.utils.clock import utc_now

WATERMARKS = "source_watermarks"
BOUNDARY_ROWS = "source_boundary_rows"
_ROW = "__fd_row"  # the snapshot's alias: its row, as a whole, is what a fingerprint hashes
_WATERMARK_COLUMNS = (
    ("model_id", "VARCHAR"),
    ("source_id", "VARCHAR"),
    ("watermark", "VARCHAR"),
    ("watermark_type", "VARCHAR"),
    ("reset_at", "TIMESTAMP"),
    ("recorded_at", "TIMESTAMP"),
)
_BOUNDARY_COLUMNS = (
    ("model_id", "VARCHAR"),
    ("source_id", "VARCHAR"),
    ("watermark", "VARCHAR"),
    ("row_hash", "VARCHAR"),
    ("recorded_at", "TIMESTAMP"),
)


@dataclass(frozen=True)
class Watermark:
    model_id: str
    source_id: str
    watermark: str | None  # the newest stamp read, as text; None: no row read yet
    watermark_type: str  # the stamp column's type, to read the text back
    reset_at: datetime.datetime  # the full build the increments since continue from
    recorded_at: datetime.datetime


def state_tables(adapter: EngineAdapter) -> list[exp.Table]:
    return [state_table(adapter, WATERMARKS), state_table(adapter, BOUNDARY_ROWS)]


def create_state_tables(adapter: EngineAdapter) -> None:
    """Before models build: concurrent builds creating them in their own transactions would conflict."""
    tables = ((state_table(adapter, WATERMARKS), _WATERMARK_COLUMNS), (state_table(adapter, BOUNDARY_ROWS), _BOUNDARY_COLUMNS))
    missing = [(table, columns) for table, columns in tables if adapter.relation_kind(table) is None]
    if not missing:
        return
    adapter.create_schema(adapter.target.schema + STATE_SUFFIX, None)
    for table, columns in missing:
        adapter.execute(exp.Create(this=exp.Schema(this=table, expressions=column_definitions(columns)), kind="TABLE", exists=True))
        adapter.remember(table, "table")


def read_watermarks(adapter: EngineAdapter) -> dict[tuple[str, str], Watermark]:
    """The current watermark of every (model id, source id)."""
    table = state_table(adapter, WATERMARKS)
    if adapter.relation_kind(table) is None:
        return {}
    current: dict[tuple[str, str], Watermark] = {}
    for row in adapter.execute(exp.select(*[n for n, _ in _WATERMARK_COLUMNS]).from_(table)):
        mark = Watermark(*row)
        key = (mark.model_id, mark.source_id)
        if key not in current or mark.recorded_at > current[key].recorded_at:
            current[key] = mark
    return current


def _fingerprint(text_type: str) -> exp.Expr:
    """md5 of the whole row's text: DuckDB prints a row as a struct, Postgres as a record."""
    return exp.func("md5", exp.cast(exp.column(_ROW, quoted=True), text_type))


class Increment:
    """One incremental source of one model, for one build."""

    def __init__(
        self, adapter: EngineAdapter, model_id: str, model_name: str, table: SourceTable, source: exp.Expr,
        previous: Watermark | None, full: bool,
    ) -> None:
        self.adapter = adapter
        self.model_id = model_id
        self.table = table
        self.source = source
        self.previous = None if full else previous
        self.full = full or previous is None
        self.snapshot = state_table(adapter, f"increment__{model_name}__{table.source_name}__{table.name}")
        self.stamp = exp.column(str(table.timestamp_field), quoted=True)

    def take(self) -> exp.Table:
        """Snapshot the rows to read; the relation the model reads them from."""
        adapter = self.adapter
        adapter.create_schema(self.snapshot.db, None)
        reader = exp.select("*").from_(exp.alias_(self.source.copy(), _ROW, table=True))
        mark = self.previous
        if mark is not None and mark.watermark is not None:
            value = exp.cast(exp.Literal.string(mark.watermark), exp.DataType.build(mark.watermark_type, dialect=adapter.DIALECT))
            read_before = (
                exp.select("row_hash").from_(state_table(adapter, BOUNDARY_ROWS))
                .where(exp.column("model_id").eq(exp.Literal.string(self.model_id)))
                .where(exp.column("source_id").eq(exp.Literal.string(self.table.unique_id)))
                .where(exp.column("watermark").eq(exp.Literal.string(mark.watermark)))
                .where(exp.column("recorded_at") >= timestamp_literal(mark.reset_at))
            )
            again = exp.and_(self.stamp.eq(value.copy()), _fingerprint(adapter.traits.text_type).isin(query=read_before))
            reader = reader.where(exp.and_(self.stamp >= value, exp.not_(exp.paren(again))))
        adapter.drop(self.snapshot, "table")
        adapter.create_table_as(self.snapshot, adapter.sql(reader))
        return self.snapshot

    def advance(self) -> list[exp.Expr]:
        """Statements recording what the snapshot held, for the transaction that commits the model."""
        adapter = self.adapter
        now = utc_now()
        kind = dict(adapter.columns(self.snapshot)).get(str(self.table.timestamp_field))
        if kind is None:
            raise CompilationError(
                f"incremental source '{self.table.source_name}.{self.table.name}' has no column '{self.table.timestamp_field}'",
                self.table.location,
            )
        model, source = exp.Literal.string(self.model_id), exp.Literal.string(self.table.unique_id)
        newest = exp.select(exp.func("max", self.stamp.copy())).from_(self.snapshot.copy())
        text = adapter.traits.text_type
        reset_at = now if self.full else self.previous.reset_at  # type: ignore[union-attr]
        mark = exp.select(
            model, source, exp.cast(exp.func("max", self.stamp.copy()), text), exp.Literal.string(kind),
            timestamp_literal(reset_at), timestamp_literal(now),
        ).from_(self.snapshot.copy())
        if not self.full:  # no new row: the watermark stays
            mark = mark.having(exp.func("count", self.stamp.copy()) > 0)
        boundary = exp.select(
            model.copy(), source.copy(), exp.cast(self.stamp.copy(), text), _fingerprint(adapter.traits.text_type), timestamp_literal(now),
        ).from_(exp.alias_(self.snapshot.copy(), _ROW, table=True)).where(self.stamp.eq(newest.subquery()))
        statements: list[exp.Expr] = []
        # fingerprints at older stamps are never consulted again
        newest_text = exp.select(exp.cast(exp.func("max", self.stamp.copy()), text)).from_(self.snapshot.copy())
        stale = exp.column("watermark").neq(newest_text.subquery())
        statements.append(exp.delete(state_table(adapter, BOUNDARY_ROWS)).where(exp.column("model_id").eq(model.copy()))
                          .where(exp.column("source_id").eq(source.copy())).where(stale))
        statements.append(exp.insert(mark, state_table(adapter, WATERMARKS)))
        statements.append(exp.insert(boundary, state_table(adapter, BOUNDARY_ROWS)))
        return statements

    def discard(self) -> None:
        self.adapter.drop(self.snapshot, "table")


@dataclass(frozen=True)
class WatermarkedSources:
    """The incremental sources of one run, with the watermarks models keep of them."""

    adapter: EngineAdapter
    definition: ProjectDefinition
    watermarks: dict[tuple[str, str], Watermark]

    def increments(self, model: CompiledModel, full: bool) -> list[Increment]:
        """The increments of the incremental sources `model` reads (itself: not through an ephemeral)."""
        return source_increments(self.adapter, self.definition, model, self.watermarks, full)


def source_increments(
    adapter: EngineAdapter, definition: ProjectDefinition, model: CompiledModel, watermarks: dict[tuple[str, str], Watermark],
    full: bool,
) -> list[Increment]:
    """The increments of the incremental sources `model` reads (itself: not through an ephemeral)."""
    keys = dict.fromkeys((key[0], key[1]) for key in model.sources)  # a source read twice is snapshotted once
    tables = [table for table in (definition.sources[key] for key in keys) if table.incremental]
    if tables and not adapter.traits.keeps_watermarks:
        keepers = " and ".join(t for t in engine_types() if engine_traits(t).keeps_watermarks)
        raise CompilationError(
            f"model '{model.name}' reads incremental source '{tables[0].source_name}.{tables[0].name}': "
            f"watermarks are kept on {keepers} targets, not {adapter.TYPE}", SourceLocation(model.path),
        )
    return [
        Increment(
            adapter, model.unique_id, model.name, table,
            source_expression(table, definition.config.root, adapter.traits, adapter.target.schema),
            watermarks.get((model.unique_id, table.unique_id)), full,
        )
        for table in tables
    ]
