"""The state store inside the target database: what was built, when, from what.

One append-only table with a row per model per run (built, cached or
failed, with its time, SQL checksum and fingerprint), and one of
feature-view tie checks, written once at the end of a run in one batch of
statements, so bookkeeping costs one round trip however many models ran and
a fresh database gets as few tables as possible. Appending (never deleting)
works on every engine, Spark's Parquet tables included, and keeps the
history; a model's newest build is its state, which `materialized_view`
refresh times, definition checksums and run caching read.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from sqlglot import exp

from featureduck.engines.base import EngineAdapter

STATE_SUFFIX = "_featureduck"


def state_table(adapter: EngineAdapter, name: str) -> exp.Table:
    """`<target schema>_featureduck.<name>`: one state per target, so a dev and a
    prod target in one database never read each other's records."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(adapter.target.schema + STATE_SUFFIX))


@functools.cache
def _data_type(kind: str) -> exp.DataType:
    return exp.DataType.build(kind)


def typed(value: exp.Expr, kind: str) -> exp.Cast:
    """`CAST(value AS kind)` with the type parsed once per process: a run's state rows hold many."""
    return exp.Cast(this=value, to=_data_type(kind).copy())


def _creating(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...]) -> list[exp.Expr]:
    """The statements that create `table` and its schema when the catalog lacks
    it; none when it exists (the lookup is cached)."""
    if adapter.relation_kind(table) is not None:
        return []
    definitions = [exp.ColumnDef(this=exp.to_identifier(n), kind=_data_type(t).copy()) for n, t in columns]
    return [
        exp.Create(this=exp.Table(db=table.args["db"].copy()), kind="SCHEMA", exists=True),
        exp.Create(this=exp.Schema(this=table, expressions=definitions), kind="TABLE", exists=True),
    ]


def timestamp_literal(moment: datetime.datetime) -> exp.Expr:
    """A naive UTC time as a TIMESTAMP literal every engine reads the same."""
    return typed(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")


def _latest_rows(table: exp.Expr, columns: list[str], key: str, stamp: str) -> exp.Select:
    """The newest row (by `stamp`) per `key`, picked by the engine: state tables only grow."""
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(key)],
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(stamp), desc=True)]))
    ranked = exp.select(*columns, exp.alias_(newest, "newest")).from_(table)
    return exp.select(*columns).from_(ranked.subquery("ranked")).where(exp.column("newest").eq(1))


def append_rows(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...], rows: exp.Expr) -> None:
    """Append to a state table, creating it on first use."""
    adapter.execute_script([*_creating(adapter, table, columns), exp.insert(rows, table)])


_RUN_COLUMNS = (
    ("run_id", "VARCHAR"),
    ("unique_id", "VARCHAR"),
    ("name", "VARCHAR"),
    ("relation", "VARCHAR"),
    ("materialized", "VARCHAR"),
    ("status", "VARCHAR"),
    ("sql_checksum", "VARCHAR"),
    ("fingerprint", "VARCHAR"),
    ("started_at", "TIMESTAMP"),
    ("seconds", "DOUBLE"),
    ("rows_affected", "BIGINT"),
    ("recorded_at", "TIMESTAMP"),
)
BUILT = ("success", "restored")  # the statuses that leave a relation built from `sql_checksum`


@dataclass(frozen=True)
class NodeRun:
    """One model (or staged source, or restored relation) in one run: the state
    store's only per-model row, so a run appends to one table whatever it did."""

    run_id: str
    unique_id: str
    name: str
    relation: str
    materialized: str
    status: str  # success | error | cached | restored
    recorded_at: datetime.datetime
    sql_checksum: str | None = None  # what a built relation was built from
    fingerprint: str | None = None  # runner.fingerprints, None when not cacheable
    started_at: datetime.datetime | None = None
    seconds: float | None = None  # None: not timed (a staged source, a restore)
    rows_affected: int | None = None


@dataclass(frozen=True)
class BuildRecord:
    """A relation's last build, read back from its newest success (or restore)."""

    unique_id: str
    relation: str
    materialized: str
    sql_checksum: str
    built_at: datetime.datetime
    rows_affected: int | None
    fingerprint: str | None


def runs_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "node_runs")


def legacy_builds_table(adapter: EngineAdapter) -> exp.Table:
    """Where builds were recorded before `node_runs`; copied over on the first write."""
    return state_table(adapter, "relations")


def _run_row(r: NodeRun) -> exp.Tuple:
    def stamp(moment: datetime.datetime | None) -> exp.Expr:
        return typed(exp.null(), "TIMESTAMP") if moment is None else timestamp_literal(moment)

    return exp.Tuple(expressions=[
        exp.convert(r.run_id), exp.convert(r.unique_id), exp.convert(r.name), exp.convert(r.relation),
        exp.convert(r.materialized), exp.convert(r.status), exp.convert(r.sql_checksum), exp.convert(r.fingerprint),
        stamp(r.started_at), typed(exp.convert(r.seconds), "DOUBLE"), typed(exp.convert(r.rows_affected), "BIGINT"),
        stamp(r.recorded_at),
    ])


def _legacy_copy(adapter: EngineAdapter) -> list[exp.Expr]:
    """Builds recorded in the legacy table, as `node_runs` rows (once, as it is created)."""
    legacy = legacy_builds_table(adapter)
    if adapter.relation_kind(runs_table(adapter)) is not None or adapter.relation_kind(legacy) is None:
        return []
    rows = exp.select(
        typed(exp.null(), "VARCHAR"), "unique_id", typed(exp.null(), "VARCHAR"), "relation", "materialized",
        exp.Literal.string("success"), "sql_checksum", typed(exp.null(), "VARCHAR"), typed(exp.null(), "TIMESTAMP"),
        typed(exp.null(), "DOUBLE"), "rows_affected", "built_at",
    ).from_(legacy)
    return [exp.insert(rows, runs_table(adapter), columns=[n for n, _ in _RUN_COLUMNS])]


def read_builds(adapter: EngineAdapter) -> dict[str, BuildRecord]:
    """The last build of every model and staged source, empty before the first run."""
    table = runs_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    columns = ["unique_id", "relation", "materialized", "sql_checksum", "recorded_at", "rows_affected", "fingerprint"]
    built = exp.select(*columns).from_(table).where(exp.column("status").isin(*[exp.Literal.string(s) for s in BUILT]))
    latest = _latest_rows(built.subquery("built"), columns, "unique_id", "recorded_at")
    return {row[0]: BuildRecord(*row) for row in adapter.execute(latest)}


@dataclass(frozen=True)
class TieCheck:
    """Whether a feature view's relation, as built from `sql_checksum`, has
    several rows with the same keys and timestamp (see store.training_set).
    To record one, `has_ties` may be the boolean expression that answers it.
    Kept as a `node_runs` row of its own kind, so it costs no table of its own."""

    view_key: str
    relation: str
    sql_checksum: str
    has_ties: bool | exp.Expr
    checked_at: datetime.datetime


TIE_CHECK = "tie_check"  # the `materialized` of a tie check's row; its status is one of:
TIED, UNTIED = "ties", "no_ties"


def _tie_row(check: TieCheck, run_id: str) -> exp.Select:
    """A check's row, its status answered by the engine as it is recorded."""
    answer = check.has_ties if isinstance(check.has_ties, exp.Expr) else exp.convert(check.has_ties)
    row = _run_row(NodeRun(run_id, check.view_key, check.view_key, check.relation, TIE_CHECK, "", check.checked_at,
                            check.sql_checksum)).expressions
    row[[n for n, _ in _RUN_COLUMNS].index("status")] = exp.If(
        this=answer, true=exp.Literal.string(TIED), false=exp.Literal.string(UNTIED))
    return exp.select(*row)


@dataclass(frozen=True)
class Timing:
    """How long a model took in one run (kept for `fduck runs` and `fduck explain`)."""

    run_id: str
    unique_id: str
    name: str
    materialized: str
    status: str  # success | error | cached
    started_at: datetime.datetime
    seconds: float
    rows_affected: int | None


def read_timings(adapter: EngineAdapter, runs: int) -> list[Timing]:
    """The model timings of the last `runs` runs, newest run first."""
    table = runs_table(adapter)
    if adapter.relation_kind(table) is None:
        return []
    timed = exp.column("seconds").is_(exp.null()).not_()
    recent = (exp.select("run_id").from_(table).where(timed).group_by("run_id")
              .order_by(exp.Ordered(this=exp.Max(this=exp.column("started_at")), desc=True)).limit(runs))
    columns = ["run_id", "unique_id", "name", "materialized", "status", "started_at", "seconds", "rows_affected"]
    query = (exp.select(*columns).from_(table).where(timed).where(exp.column("run_id").isin(query=recent))
             .order_by(exp.Ordered(this=exp.column("run_id"), desc=True), "started_at"))
    return [Timing(*row) for row in adapter.execute(query)]


def record_run(adapter: EngineAdapter, rows: list[NodeRun], checks: list[TieCheck] | None = None) -> None:
    """Append one row per node of a run: `rows`, then the tie checks made after the
    builds they check (part of the same run), in one transaction where the engine
    has them: all or nothing, and on DuckDB one commit instead of one per statement."""
    if not rows:
        return
    table = runs_table(adapter)
    statements = [*_creating(adapter, table, _RUN_COLUMNS), *_legacy_copy(adapter),
                  exp.insert(exp.Values(expressions=[_run_row(r) for r in rows]), table)]
    answers: exp.Query | None = None
    for check in checks or []:
        row = _tie_row(check, rows[0].run_id)
        answers = row if answers is None else exp.union(answers, row, distinct=False)
    if answers is not None:
        statements.append(exp.insert(answers, table))
    if adapter.SUPPORTS_TRANSACTIONS:
        with adapter.transaction():
            adapter.execute_script(statements)
    else:
        adapter.execute_script(statements)


def read_tie_checks(adapter: EngineAdapter) -> dict[str, TieCheck]:
    """The latest check of every feature view."""
    table = runs_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    columns = ["unique_id", "relation", "sql_checksum", "status", "recorded_at"]
    checks = exp.select(*columns).from_(table).where(exp.column("materialized").eq(exp.Literal.string(TIE_CHECK)))
    latest = _latest_rows(checks.subquery("checks"), columns, "unique_id", "recorded_at")
    return {
        key: TieCheck(key, relation, checksum, status == TIED, checked_at)
        for key, relation, checksum, status, checked_at in adapter.execute(latest)
    }
