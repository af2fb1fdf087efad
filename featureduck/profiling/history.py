"""Profiles kept in the state store, and what moved against them.

Each profile appends its figures to `<schema>_featureduck.profiles`, one row
per (model, column, metric): the row count, and per column the null rate,
the distinct count and (numbers) the mean. A new profile is compared with
the average of the model's last HISTORY profiles: the row count or a
column's mean moving by more than `threshold` of that average, or a null
rate moving by more than `threshold` (as a fraction of rows), is an anomaly.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.profiling.statistics import ModelProfile
from featureduck.runner.state import append_rows, state_table, timestamp_literal

HISTORY = 20
_COLUMNS = (("model", "VARCHAR"), ("profiled_at", "TIMESTAMP"), ("column_name", "VARCHAR"), ("metric", "VARCHAR"), ("value", "DOUBLE"))


@dataclass(frozen=True)
class Anomaly:
    column: str | None  # None: the row count
    metric: str  # rows | mean | null_rate
    value: float
    average: float
    profiles: int  # how many past profiles the average is of

    def describe(self) -> str:
        what = "row count" if self.column is None else f"{self.metric.replace('_', ' ')} of {self.column}"
        if self.metric == "null_rate":
            return (f"{what} is {self.value:.1%}, {abs(self.value - self.average) * 100:.1f} points "
                    f"{'above' if self.value > self.average else 'below'} its average of {self.average:.1%} over {self.profiles} profiles")
        change = (self.value - self.average) / abs(self.average) if self.average else float("inf")
        return (f"{what} is {self.value:,.6g}, {abs(change):.0%} {'above' if change > 0 else 'below'} its average of "
                f"{self.average:,.6g} over {self.profiles} profiles")


def figures(profile: ModelProfile) -> list[tuple[str, str, float]]:
    """(column, metric, value) as stored; the row count has column ''."""
    found = [("", "rows", float(profile.rows))]
    for column in profile.columns:
        found.append((column.name, "null_rate", column.null_rate))
        if column.distinct is not None:
            found.append((column.name, "distinct", float(column.distinct)))
        if column.mean is not None:
            found.append((column.name, "mean", column.mean))
    return found


def history(adapter: EngineAdapter, model: str) -> dict[datetime.datetime, dict[tuple[str, str], float]]:
    """The model's last HISTORY profiles: per time, (column, metric) -> value."""
    table = state_table(adapter, "profiles")
    if adapter.relation_kind(table) is None:
        return {}
    times = (exp.select("profiled_at").distinct().from_(table).where(exp.column("model").eq(exp.Literal.string(model)))
             .order_by(exp.Ordered(this=exp.column("profiled_at"), desc=True)).limit(HISTORY))
    query = (exp.select("profiled_at", "column_name", "metric", "value").from_(table)
             .where(exp.column("model").eq(exp.Literal.string(model)))
             .where(exp.column("profiled_at").isin(query=times)))
    found: dict[datetime.datetime, dict[tuple[str, str], float]] = {}
    for moment, column, metric, value in adapter.execute(query):
        found.setdefault(moment, {})[(column, metric)] = float(value) if value is not None else float("nan")
    return found


def anomalies(profile: ModelProfile, past: dict[datetime.datetime, dict[tuple[str, str], float]], threshold: float) -> list[Anomaly]:
    found = []
    for column, metric, value in figures(profile):
        if metric == "distinct":
            continue
        earlier = [p[(column, metric)] for p in past.values() if (column, metric) in p and p[(column, metric)] == p[(column, metric)]]
        if not earlier:
            continue
        average = sum(earlier) / len(earlier)
        moved = abs(value - average) if metric == "null_rate" else abs(value - average) / max(abs(average), 1e-12)
        if moved > threshold:
            found.append(Anomaly(column or None, metric, value, average, len(earlier)))
    return found


def record(adapter: EngineAdapter, profile: ModelProfile) -> None:
    rows = [
        exp.Tuple(expressions=[
            exp.Literal.string(profile.model), timestamp_literal(profile.profiled_at),
            exp.Literal.string(column), exp.Literal.string(metric), exp.convert(value),
        ])
        for column, metric, value in figures(profile)
    ]
    append_rows(adapter, state_table(adapter, "profiles"), _COLUMNS, exp.Values(expressions=rows))
