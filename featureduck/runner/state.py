"""The state store inside the target database: what was built, when, from what.

One append-only table of builds, written once at the end of a run in a
single INSERT so bookkeeping costs one round trip however many models ran.
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


def _state_table(adapter: EngineAdapter, name: str) -> exp.Table:
    """`<target schema>_featureduck.<name>`: one state per target, so a dev and a
    prod target in one database never read each other's records."""
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(adapter.target.schema + STATE_SUFFIX))


def builds_table(adapter: EngineAdapter) -> exp.Table:
    return _state_table(adapter, "relations")


def _append(adapter: EngineAdapter, table: exp.Table, columns: tuple[tuple[str, str], ...], rows: list[exp.Tuple]) -> None:
    """Create the state table on first use (the lookup is cached), then one INSERT."""
    if adapter.relation_kind(table) is None:
        adapter.create_schema(table.db)
        definitions = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(t)) for n, t in columns]
        adapter.execute(exp.Create(this=exp.Schema(this=table, expressions=definitions), kind="TABLE", exists=True))
    adapter.execute(exp.insert(exp.Values(expressions=rows), table))


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


def record_builds(adapter: EngineAdapter, records: list[BuildRecord]) -> None:
    """Append one row per build."""
    if not records:
        return
    rows = [
        exp.Tuple(expressions=[
            exp.Literal.string(r.unique_id),
            exp.Literal.string(r.relation),
            exp.Literal.string(r.materialized),
            exp.Literal.string(r.sql_checksum),
            exp.cast(exp.Literal.string(r.built_at.isoformat(sep=" ")), "TIMESTAMP"),
            exp.convert(r.rows_affected),
        ])
        for r in records
    ]
    _append(adapter, builds_table(adapter), _COLUMNS, rows)


def read_builds(adapter: EngineAdapter) -> dict[str, BuildRecord]:
    """The last recorded build of every model, empty before the first run."""
    table = builds_table(adapter)
    if adapter.relation_kind(table) is None:
        return {}
    columns = [n for n, _ in _COLUMNS]
    ranked = exp.select(
        *columns,
        exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column("unique_id")],
                              order=exp.Order(expressions=[exp.Ordered(this=exp.column("built_at"), desc=True)])), "newest"),
    ).from_(table)
    latest = exp.select(*columns).from_(ranked.subquery("builds")).where(exp.column("newest").eq(1))
    return {row[0]: BuildRecord(*row) for row in adapter.execute(latest)}


@dataclass(frozen=True)
class TieCheck:
    """Whether a feature view's relation, as built from `sql_checksum`, has
    several rows with the same keys and timestamp (see store.training_set)."""

    view_key: str
    sql_checksum: str
    has_ties: bool
    checked_at: datetime.datetime


_TIE_COLUMNS = (("view_key", "VARCHAR"), ("sql_checksum", "VARCHAR"), ("has_ties", "BOOLEAN"), ("checked_at", "TIMESTAMP"))


def _ties_table(adapter: EngineAdapter) -> exp.Table:
    return _state_table(adapter, "feature_view_ties")


def record_tie_checks(adapter: EngineAdapter, checks: list[TieCheck]) -> None:
    """Append one row per check (after the build that made the relation)."""
    if not checks:
        return
    rows = [
        exp.Tuple(expressions=[
            exp.Literal.string(c.view_key), exp.Literal.string(c.sql_checksum), exp.convert(c.has_ties),
            exp.cast(exp.Literal.string(c.checked_at.isoformat(sep=" ")), "TIMESTAMP"),
        ])
        for c in checks
    ]
    _append(adapter, _ties_table(adapter), _TIE_COLUMNS, rows)


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
