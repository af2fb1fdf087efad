"""The state store inside the target database: what was built, when, from what.

One append-only table of builds (and one of feature-view tie checks),
written once at the end of a run in one batch of statements, so bookkeeping
costs one round trip however many models ran.
Appending (never deleting) works on every engine, Spark's Parquet tables
included, and keeps the history; the latest row per model is its state. It
is what `materialized_view` refresh times and definition checksums are read
from.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlglot import exp

from featureduck.engines.base import EngineAdapter

STATE_SUFFIX = "_featureduck"


def state_table(adapter: EngineAdapter, name: str) -> exp.Table:
    """`<target schema>_featureduck.<name>`: one state per target, so a dev and a
    prod target in one database never read each other's records."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(adapter.target.schema + STATE_SUFFIX))


def builds_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "relations")


def _appending(
    adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...], rows: exp.Expr | None
) -> list[exp.Expr]:
    """The statements that append `rows`, creating the table on first use (the lookup is cached)."""
    if rows is None:
        return []
    statements: list[exp.Expr] = []
    if adapter.relation_kind(table) is None:
        statements.append(exp.Create(this=exp.Table(db=table.args["db"].copy()), kind="SCHEMA", exists=True))
        definitions = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(t)) for n, t in columns]
        statements.append(exp.Create(this=exp.Schema(this=table, expressions=definitions), kind="TABLE", exists=True))
    statements.append(exp.insert(rows, table))
    return statements


def timestamp_literal(moment: datetime.datetime) -> exp.Expr:
    """A naive UTC time as a TIMESTAMP literal every engine reads the same."""
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")


def _latest_rows(table: exp.Table, columns: list[str], key: str, stamp: str) -> exp.Select:
    """The newest row (by `stamp`) per `key`, picked by the engine: state tables only grow."""
    newest = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(key)],
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(stamp), desc=True)]))
    ranked = exp.select(*columns, exp.alias_(newest, "newest")).from_(table)
    return exp.select(*columns).from_(ranked.subquery("ranked")).where(exp.column("newest").eq(1))


def append_rows(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...], rows: exp.Expr) -> None:
    """Append to a state table, creating it on first use."""
    adapter.execute_script(_appending(adapter, table, columns, rows))


_COLUMNS = (
    ("unique_id", "VARCHAR"),
    ("relation", "VARCHAR"),
    ("materialized", "VARCHAR"),
    ("sql_checksum", "VARCHAR"),
    ("built_at", "TIMESTAMP"),
    ("rows_affected", "BIGINT"),
)


@dataclass(frozen=True)
class BuildRecord:
    unique_id: str
    relation: str
    materialized: str
    sql_checksum: str
    built_at: datetime.datetime
    rows_affected: int | None


def _build_row(r: BuildRecord) -> exp.Tuple:
    return exp.Tuple(expressions=[
        exp.Literal.string(r.unique_id),
        exp.Literal.string(r.relation),
        exp.Literal.string(r.materialized),
        exp.Literal.string(r.sql_checksum),
        timestamp_literal(r.built_at),
        exp.convert(r.rows_affected),
    ])


def read_builds(adapter: EngineAdapter) -> dict[str, BuildRecord]:
    """The last recorded build of every model, empty before the first run."""
    table = builds_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    latest = _latest_rows(table, [n for n, _ in _COLUMNS], "unique_id", "built_at")
    return {row[0]: BuildRecord(*row) for row in adapter.execute(latest)}


@dataclass(frozen=True)
class TieCheck:
    """Whether a feature view's relation, as built from `sql_checksum`, has
    several rows with the same keys and timestamp (see store.training_set).
    To record one, `has_ties` may be the boolean expression that answers it."""

    view_key: str
    sql_checksum: str
    has_ties: bool | exp.Expr
    checked_at: datetime.datetime


_TIE_COLUMNS = (("view_key", "VARCHAR"), ("sql_checksum", "VARCHAR"), ("has_ties", "BOOLEAN"), ("checked_at", "TIMESTAMP"))


def _ties_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "feature_view_ties")


def _tie_row(c: TieCheck) -> exp.Select:
    answer = c.has_ties if isinstance(c.has_ties, exp.Expr) else exp.convert(c.has_ties)
    return exp.select(
        exp.Literal.string(c.view_key), exp.Literal.string(c.sql_checksum), answer,
        timestamp_literal(c.checked_at),
    )


_FINGERPRINT_COLUMNS = (("unique_id", "VARCHAR"), ("fingerprint", "VARCHAR"), ("built_at", "TIMESTAMP"))


def fingerprints_table(adapter: EngineAdapter) -> exp.Table:
    """What each model was last built from (runner.fingerprints); its own table, so
    state stores written before run caching existed keep working."""
    return state_table(adapter, "fingerprints")


def read_fingerprints(adapter: EngineAdapter) -> dict[str, str]:
    """The fingerprint of every model's last successful build that had one."""
    table = fingerprints_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    latest = _latest_rows(table, ["unique_id", "fingerprint"], "unique_id", "built_at")
    return {uid: fingerprint for uid, fingerprint in adapter.execute(latest) if fingerprint is not None}


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


_TIMING_COLUMNS = (
    ("run_id", "VARCHAR"), ("unique_id", "VARCHAR"), ("name", "VARCHAR"), ("materialized", "VARCHAR"), ("status", "VARCHAR"),
    ("started_at", "TIMESTAMP"), ("seconds", "DOUBLE"), ("rows_affected", "BIGINT"),
)


def timings_table(adapter: EngineAdapter) -> exp.Table:
    return state_table(adapter, "run_timings")


def read_timings(adapter: EngineAdapter, runs: int) -> list[Timing]:
    """The model timings of the last `runs` runs, newest run first."""
    table = timings_table(adapter)
    if adapter.relation_kind(table) is None:
        return []
    recent = (exp.select("run_id").from_(table).group_by("run_id")
              .order_by(exp.Ordered(this=exp.Max(this=exp.column("started_at")), desc=True)).limit(runs))
    query = (exp.select(*[n for n, _ in _TIMING_COLUMNS]).from_(table).where(exp.column("run_id").isin(query=recent))
             .order_by(exp.Ordered(this=exp.column("run_id"), desc=True), "started_at"))
    return [Timing(*row) for row in adapter.execute(query)]


def _timing_row(t: Timing) -> exp.Tuple:
    return exp.Tuple(expressions=[
        exp.Literal.string(t.run_id), exp.Literal.string(t.unique_id), exp.Literal.string(t.name), exp.Literal.string(t.materialized),
        exp.Literal.string(t.status), timestamp_literal(t.started_at),
        exp.cast(exp.convert(t.seconds), "DOUBLE"), exp.cast(exp.convert(t.rows_affected), "BIGINT"),
    ])


def record_run(
    adapter: EngineAdapter, builds: list[BuildRecord], checks: list[TieCheck], fingerprints: dict[str, str | None] | None = None,
    timings: list[Timing] | None = None,
) -> None:
    """Append one row per build, per fingerprint of a built model, per model timing and
    per tie check (made after the build it checks)."""
    values = exp.Values(expressions=[_build_row(r) for r in builds]) if builds else None
    statements = _appending(adapter, builds_table(adapter), _COLUMNS, values)
    built_at = {r.unique_id: r.built_at for r in builds}
    stamps = [
        exp.Tuple(expressions=[exp.Literal.string(uid), exp.convert(fingerprint), timestamp_literal(built_at[uid])])
        for uid, fingerprint in sorted((fingerprints or {}).items()) if uid in built_at
    ]
    statements += _appending(adapter, fingerprints_table(adapter), _FINGERPRINT_COLUMNS,
                             exp.Values(expressions=stamps) if stamps else None)
    statements += _appending(adapter, timings_table(adapter), _TIMING_COLUMNS,
                             exp.Values(expressions=[_timing_row(t) for t in timings]) if timings else None)
    answers: exp.Query | None = None
    for check in checks:
        answers = _tie_row(check) if answers is None else exp.union(answers, _tie_row(check), distinct=False)
    statements += _appending(adapter, _ties_table(adapter), _TIE_COLUMNS, answers)
    if adapter.SUPPORTS_TRANSACTIONS and statements:
        with adapter.transaction():  # all or nothing, and on DuckDB one commit instead of one per statement
            adapter.execute_script(statements)
    else:
        adapter.execute_script(statements)


def read_tie_checks(adapter: EngineAdapter) -> dict[str, TieCheck]:
    """The latest check of every feature view."""
    table = _ties_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    checks: dict[str, TieCheck] = {}
    for key, checksum, has_ties, checked_at in adapter.execute(exp.select(*[n for n, _ in _TIE_COLUMNS]).from_(table)):
        if key not in checks or checked_at > checks[key].checked_at:
            checks[key] = TieCheck(key, checksum, bool(has_ties), checked_at)
    return checks
