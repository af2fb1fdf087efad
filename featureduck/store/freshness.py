"""How old the newest features are, against each view's SLA.

`freshness: {warn_after: 26h, error_after: 48h}` on a feature view (dbt's
`{count: 26, period: hour}` form works too). The newest feature timestamp is
read from the relation the view's model built; an empty or missing relation
is an error, since nothing fresh can be served from it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError, ProjectError
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView
from featureduck.utils.durations import parse_duration

_PERIODS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


@dataclass(frozen=True)
class Freshness:
    view: str
    newest: datetime.datetime | None
    age_seconds: float | None
    warn_after: int | None
    error_after: int | None
    status: str  # pass | warn | error | no sla

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "newest": self.newest.isoformat(sep=" ") if self.newest else None,
            "age_seconds": self.age_seconds,
            "warn_after_seconds": self.warn_after,
            "error_after_seconds": self.error_after,
            "status": self.status,
        }


def sla_seconds(view: FeatureView, key: str) -> int | None:
    value = (view.freshness or {}).get(key)
    if value is None:
        return None
    try:
        if isinstance(value, dict):  # dbt: {count: 12, period: hour}
            return parse_duration(f"{int(value['count'])}{_PERIODS[str(value['period']).rstrip('s')]}")
        return parse_duration(value)
    except (KeyError, ValueError, TypeError):
        raise ProjectError(f"feature view '{view.name}': freshness.{key} {value!r} is not a duration", view.location) from None


def check_freshness(
    adapter: EngineAdapter, definition: ProjectDefinition, compiled: CompiledProject, now: datetime.datetime
) -> list[Freshness]:
    results = []
    for key, view in sorted(definition.feature_views.items()):
        warn, error = sla_seconds(view, "warn_after"), sla_seconds(view, "error_after")
        newest = None
        model = compiled.models.get(view.model)
        if model is not None:
            query = exp.select(exp.func("max", exp.column(view.timestamp_field, quoted=True))).from_(model.relation.to_table())
            try:
                newest = adapter.execute(query)[0][0]
            except DatabaseError:
                newest = None  # not built yet
        if isinstance(newest, datetime.datetime) and newest.tzinfo is not None:
            newest = newest.astimezone(datetime.UTC).replace(tzinfo=None)
        elif isinstance(newest, datetime.date) and not isinstance(newest, datetime.datetime):
            newest = datetime.datetime.combine(newest, datetime.time())
        age = (now - newest).total_seconds() if newest is not None else None
        if warn is None and error is None:
            status = "no sla"
        elif age is None or (error is not None and age > error):
            status = "error"
        elif warn is not None and age > warn:
            status = "warn"
        else:
            status = "pass"
        results.append(Freshness(key, newest, age, warn, error, status))
    return results
