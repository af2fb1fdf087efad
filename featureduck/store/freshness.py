"""How old the newest rows are, against each SLA: feature views and sources.

`freshness: {warn_after: 26h, error_after: 48h}` on a feature view, or on a
source (or one of its tables) with a `timestamp_field` (dbt's `{count: 26,
period: hour}` form works too). The newest timestamp is read from the
relation the view's model built, or from the source where the run reads it;
an empty or missing relation is an error, since nothing fresh comes from it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError, ProjectError, SourceLocation
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import SourceTable
from featureduck.utils.durations import parse_duration

_PERIODS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


@dataclass(frozen=True)
class Freshness:
    view: str  # the feature view (name@version) or source table (source.table)
    newest: datetime.datetime | None
    age_seconds: float | None
    warn_after: int | None
    error_after: int | None
    status: str  # pass | warn | error | no sla
    resource_type: str = "feature_view"  # or source

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_type": self.resource_type,
            "name": self.view,
            "view": self.view,
            "newest": self.newest.isoformat(sep=" ") if self.newest else None,
            "age_seconds": self.age_seconds,
            "warn_after_seconds": self.warn_after,
            "error_after_seconds": self.error_after,
            "status": self.status,
        }


def sla_seconds(freshness: Any, key: str, what: str, location: SourceLocation) -> int | None:
    value = (freshness or {}).get(key)
    if value is None:
        return None
    try:
        if isinstance(value, dict):  # dbt: {count: 12, period: hour}
            return parse_duration(f"{int(value['count'])}{_PERIODS[str(value['period']).rstrip('s')]}")
        return parse_duration(value)
    except (KeyError, ValueError, TypeError):
        raise ProjectError(f"{what}: freshness.{key} {value!r} is not a duration", location) from None


def _newest(adapter: EngineAdapter, relation: exp.Expr, column: str) -> datetime.datetime | None:
    query = exp.select(exp.func("max", exp.column(column, quoted=True))).from_(relation)
    try:
        newest = adapter.execute(query)[0][0]
    except DatabaseError:
        return None  # not built (or not reachable) yet
    if isinstance(newest, datetime.datetime) and newest.tzinfo is not None:
        return newest.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(newest, datetime.date) and not isinstance(newest, datetime.datetime):
        return datetime.datetime.combine(newest, datetime.time())
    return newest if isinstance(newest, datetime.datetime) else None


def _judge(name: str, kind: str, newest: datetime.datetime | None, warn: int | None, error: int | None,
           now: datetime.datetime) -> Freshness:
    age = (now - newest).total_seconds() if newest is not None else None
    if warn is None and error is None:
        status = "no sla"
    elif age is None or (error is not None and age > error):
        status = "error"
    elif warn is not None and age > warn:
        status = "warn"
    else:
        status = "pass"
    return Freshness(name, newest, age, warn, error, status, kind)


def check_source_freshness(
    adapter: EngineAdapter, definition: ProjectDefinition, tables: list[SourceTable], now: datetime.datetime
) -> list[Freshness]:
    """Sources with a timestamp_field and a freshness SLA, read where a run reads them."""
    from featureduck.compiler.relations import source_expression

    results = []
    for table in tables:
        what = f"source '{table.source_name}.{table.name}'"
        warn = sla_seconds(table.freshness, "warn_after", what, table.location)
        error = sla_seconds(table.freshness, "error_after", what, table.location)
        relation = source_expression(table, definition.config.root, adapter.traits, adapter.target.schema)
        newest = _newest(adapter, relation, str(table.timestamp_field))
        results.append(_judge(f"{table.source_name}.{table.name}", "source", newest, warn, error, now))
    return results


def check_freshness(
    adapter: EngineAdapter, definition: ProjectDefinition, compiled: CompiledProject, now: datetime.datetime
) -> list[Freshness]:
    results = []
    for key, view in sorted(definition.feature_views.items()):
        what = f"feature view '{view.name}'"
        warn = sla_seconds(view.freshness, "warn_after", what, view.location)
        error = sla_seconds(view.freshness, "error_after", what, view.location)
        relation = compiled.view_relation(view, definition.sources)
        newest = _newest(adapter, relation, view.timestamp_field) if relation is not None else None
        results.append(_judge(key, "feature_view", newest, warn, error, now))
    return results
