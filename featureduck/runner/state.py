"""The state store inside the target database: what was built, when, from what.

One append-only table, `node_runs`, with a row per node of every run (a
model built, cached or failed; a staged file source; a feature view's tie
check; a restored relation), written once at the end of a run in one batch
of statements, so bookkeeping costs one round trip however many models ran
and a fresh database gets one small table. Appending (never deleting) works
on every engine, Spark's Parquet tables included, and keeps the history; a
model's newest build is its state, which `materialized_view` refresh times,
definition checksums and run caching read."""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.project.ids import node_name

STATE_SUFFIX = "_featureduck"


def state_table(adapter: EngineAdapter, name: str) -> exp.Table:
    """`<target schema>_featureduck.<name>`: one state per target, so a dev and a
    prod target in one database never read each other's records."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(adapter.target.schema + STATE_SUFFIX))


@functools.cache
def _data_type(kind: str) -> exp.DataType:
    return exp.DataType.build(kind)


def column_definitions(columns: tuple[tuple[str, str], ...]) -> list[exp.ColumnDef]:
    """A state table's columns, (name, type) each, as a CREATE TABLE lists them."""
    return [exp.ColumnDef(this=exp.to_identifier(n), kind=_data_type(t).copy()) for n, t in columns]


def _creating(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...]) -> list[exp.Expr]:
    """The statements that create `table` and its schema when the catalog lacks
    it; none when it exists (the lookup is cached)."""
    if adapter.relation_kind(table) is not None:
        return []
    return [
        exp.Create(this=exp.Table(db=table.args["db"].copy()), kind="SCHEMA", exists=True),
        exp.Create(this=exp.Schema(this=table, expressions=column_definitions(columns)), kind="TABLE", exists=True),
    ]


def timestamp_literal(moment: datetime.datetime) -> exp.Expr:
    """A naive UTC time as a TIMESTAMP literal every engine reads the same (the type
    parsed once per process: a run's state rows hold many)."""
    return exp.Cast(this=exp.Literal.string(moment.isoformat(sep=" ")), to=_data_type("TIMESTAMP").copy())


def _latest_rows(table: exp.Expr, columns: list[str], key: str, stamp: str) -> exp.Select:
    """The newest row (by `stamp`) per `key`, picked by the engine: state tables only grow."""
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(key)],
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(stamp), desc=True)]))
    ranked = exp.select(*columns, exp.alias_(newest, "newest")).from_(table)
    return exp.select(*columns).from_(ranked.subquery("ranked")).where(exp.column("newest").eq(1))


def append_rows(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...], rows: exp.Expr) -> None:
    """Append to a state table, creating it on first use."""
    adapter.execute_script([*_creating(adapter, table, columns), exp.insert(rows, table)])


# A node's facts beyond these columns are one JSON text: every column of a small
# table costs a DuckDB checkpoint a quarter of a millisecond, which a run pays on
# close, and these three are all that queries over the table select and rank by.
_RUN_COLUMNS = (("unique_id", "VARCHAR"), ("status", "VARCHAR"), ("recorded_at", "TIMESTAMP"), ("details", "VARCHAR"))
BUILT = ("success", "staged", "restored")  # the statuses that leave a relation built from `sql_checksum`
TIMED = ("success", "error", "cached")  # the statuses of a run's models


@dataclass(frozen=True)
class NodeRun:
    """One node in one run, as the state store keeps it: a model built, cached or
    failed, a staged file source or a restored relation. The run is identified by
    `recorded_at`, the moment its rows were written."""

    unique_id: str
    name: str
    relation: str
    materialized: str
    status: str  # success | error | cached | staged | restored
    recorded_at: datetime.datetime
    sql_checksum: str | None = None  # what a built relation was built from
    fingerprint: str | None = None  # runner.fingerprints, None when not cacheable
    started_at: datetime.datetime | None = None
    seconds: float | None = None  # None: not timed (a staged source, a restore)
    rows_affected: int | None = None
    definition: str | None = None  # a view's: what it was created from (runner.fingerprints)
    inputs: dict[str, list[str]] | None = None  # a view's: the refs and sources it reads
    stream: dict[str, Any] | None = None  # a streamed source's: dead letters, batches, positions and lag per partition

    def details(self) -> str:
        return _details(
            name=self.name, relation=self.relation, materialized=self.materialized, sql_checksum=self.sql_checksum,
            fingerprint=self.fingerprint, started_at=self.started_at.isoformat() if self.started_at else None,
            seconds=self.seconds, rows_affected=self.rows_affected, definition=self.definition, inputs=self.inputs,
            stream=self.stream,
        )


def _details(**facts: Any) -> str:
    """The `details` JSON of a row: its facts that are known, compactly."""
    return json.dumps({key: value for key, value in facts.items() if value is not None}, separators=(",", ":"))


def run_id(recorded_at: datetime.datetime) -> str:
    """A run's id: the moment its rows were recorded, to the millisecond."""
    return f"{recorded_at:%Y%m%dT%H%M%S%f}"[:-3]


@dataclass(frozen=True)
class BuildRecord:
    """A relation's last build, read back from its newest success (or staging, or restore)."""

    unique_id: str
    relation: str
    materialized: str
    sql_checksum: str
    built_at: datetime.datetime
    rows_affected: int | None
    fingerprint: str | None
    definition: str | None = None
    inputs: dict[str, list[str]] | None = None


def runs_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "node_runs")


def legacy_builds_table(adapter: EngineAdapter) -> exp.Table:
    """Where builds were recorded before `node_runs`; copied over on the first write."""
    return state_table(adapter, "relations")


def _row(unique_id: str, status: exp.Expr, recorded_at: datetime.datetime, details: str) -> list[exp.Expr]:
    return [exp.Literal.string(unique_id), status, timestamp_literal(recorded_at), exp.Literal.string(details)]


def _run_row(r: NodeRun) -> exp.Tuple:
    return exp.Tuple(expressions=_row(r.unique_id, exp.Literal.string(r.status), r.recorded_at, r.details()))


def _legacy_rows(adapter: EngineAdapter) -> list[NodeRun]:
    """The last build per relation recorded in the legacy table, read once: when
    `node_runs` is created (history before it is not carried over)."""
    legacy = legacy_builds_table(adapter)
    if adapter.relation_kind(runs_table(adapter)) is not None or adapter.relation_kind(legacy) is None:
        return []
    columns = ["unique_id", "relation", "materialized", "sql_checksum", "built_at", "rows_affected"]
    return [
        NodeRun(uid, node_name(uid), relation, materialized, "staged" if materialized == "staged" else "success",
                built_at, sql_checksum, rows_affected=rows)
        for uid, relation, materialized, sql_checksum, built_at, rows
        in adapter.execute(_latest_rows(legacy, columns, "unique_id", "built_at"))
    ]


def _latest_details(adapter: EngineAdapter, statuses: tuple[str, ...]) -> list[tuple[str, str, datetime.datetime, dict[str, Any]]]:
    """(unique id, status, recorded_at, details) of each node's newest row with one of `statuses`."""
    table = runs_table(adapter)
    if adapter.relation_kind(table) is None:
        return []
    columns = [n for n, _ in _RUN_COLUMNS]
    rows = exp.select(*columns).from_(table).where(exp.column("status").isin(*[exp.Literal.string(s) for s in statuses]))
    latest = _latest_rows(rows.subquery("rows"), columns, "unique_id", "recorded_at")
    return [(uid, status, recorded_at, json.loads(details)) for uid, status, recorded_at, details in adapter.execute(latest)]


def read_builds(adapter: EngineAdapter) -> dict[str, BuildRecord]:
    """The last build of every model and staged source, empty before the first run."""
    return {
        uid: BuildRecord(uid, facts.get("relation", ""), facts.get("materialized", ""), facts.get("sql_checksum", ""),
                         recorded_at, facts.get("rows_affected"), facts.get("fingerprint"), facts.get("definition"),
                         facts.get("inputs"))
        for uid, _, recorded_at, facts in _latest_details(adapter, BUILT)
    }


@dataclass(frozen=True)
class TieCheck:
    """Whether a feature view's relation, as built from `sql_checksum` (with the
    model's `fingerprint`, runner.fingerprints), has several rows with the same
    keys and timestamp (see store.training_set). To record one, `has_ties` may
    be the boolean expression that answers it. Kept as a `node_runs` row with
    a status of its own, so it costs no table."""

    view_key: str
    relation: str
    sql_checksum: str
    has_ties: bool | exp.Expr
    checked_at: datetime.datetime
    fingerprint: str | None = None


TIED, UNTIED = "ties", "no_ties"  # a tie check's status


def _tie_row(check: TieCheck) -> exp.Select:
    """A check's row, its status answered by the engine as it is recorded."""
    answer = check.has_ties if isinstance(check.has_ties, exp.Expr) else exp.convert(check.has_ties)
    status = exp.If(this=answer, true=exp.Literal.string(TIED), false=exp.Literal.string(UNTIED))
    details = _details(relation=check.relation, sql_checksum=check.sql_checksum, fingerprint=check.fingerprint)
    return exp.select(*_row(check.view_key, status, check.checked_at, details))


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
    timed = exp.column("status").isin(*[exp.Literal.string(s) for s in TIMED])
    recent = exp.select("recorded_at").distinct().from_(table).where(timed).order_by(
        exp.Ordered(this=exp.column("recorded_at"), desc=True)).limit(runs)
    query = exp.select("unique_id", "status", "recorded_at", "details").from_(table).where(timed).where(
        exp.column("recorded_at").isin(query=recent))
    timings = []
    for uid, status, recorded_at, details in adapter.execute(query):
        facts = json.loads(details)
        if facts.get("seconds") is not None and facts.get("started_at"):
            timings.append(Timing(run_id(recorded_at), uid, facts.get("name", uid), facts.get("materialized", ""), status,
                                  datetime.datetime.fromisoformat(facts["started_at"]), facts["seconds"], facts.get("rows_affected")))
    by_start = sorted(timings, key=lambda t: t.started_at)
    return sorted(by_start, key=lambda t: t.run_id, reverse=True)  # a stable sort: each run's models stay by start


@dataclass(frozen=True)
class StreamedRun:
    """One source's part of one `fduck stream`: what it landed, where it stopped, its lag then."""

    run_id: str
    unique_id: str
    name: str
    started_at: datetime.datetime
    seconds: float
    landed: int
    dead_letters: int
    positions: dict[str, int]  # partition -> next offset
    lag: dict[str, int]


def read_streamed(adapter: EngineAdapter, last: int) -> list[StreamedRun]:
    """The last `last` stream runs' sources, newest first."""
    table = runs_table(adapter)
    if adapter.relation_kind(table) is None:
        return []
    streamed = exp.column("status").eq(exp.Literal.string("streamed"))
    query = exp.select("unique_id", "recorded_at", "details").from_(table).where(streamed).order_by(
        exp.Ordered(this=exp.column("recorded_at"), desc=True)).limit(last)
    found = []
    for uid, recorded_at, details in adapter.execute(query):
        facts = json.loads(details)
        stream = facts.get("stream", {})
        found.append(StreamedRun(run_id(recorded_at), uid, facts.get("name", uid), datetime.datetime.fromisoformat(facts["started_at"]),
                                 float(facts.get("seconds", 0.0)), int(facts.get("rows_affected", 0)), int(stream.get("dead_letters", 0)),
                                 stream.get("positions", {}), stream.get("lag", {})))
    return found


def record_run(adapter: EngineAdapter, rows: list[NodeRun], checks: list[TieCheck] | None = None) -> None:
    """Append one row per node of a run: `rows`, then the tie checks made after the
    builds they check, in one transaction where the engine has them: all or nothing,
    and on DuckDB one commit instead of one per statement."""
    if not rows:
        return
    table = runs_table(adapter)
    rows = [*_legacy_rows(adapter), *rows]
    statements = [*_creating(adapter, table, _RUN_COLUMNS), exp.insert(exp.Values(expressions=[_run_row(r) for r in rows]), table)]
    answers: exp.Query | None = None
    for check in checks or []:
        answers = _tie_row(check) if answers is None else exp.union(answers, _tie_row(check), distinct=False)
    if answers is not None:
        statements.append(exp.insert(answers, table))
    if adapter.SUPPORTS_TRANSACTIONS:
        with adapter.transaction():
            adapter.execute_script(statements)
    else:
        adapter.execute_script(statements)


def read_tie_checks(adapter: EngineAdapter) -> dict[str, TieCheck]:
    """The latest check of every feature view."""
    return {
        key: TieCheck(key, facts.get("relation", ""), facts.get("sql_checksum", ""), status == TIED, checked_at, facts.get("fingerprint"))
        for key, status, checked_at, facts in _latest_details(adapter, (TIED, UNTIED))
    }
