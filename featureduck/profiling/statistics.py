"""Column statistics of a built relation, computed by its engine.

One aggregate query gives, per column, the non-null and distinct counts and
min/max, and for numbers the mean, standard deviation and quartiles; one more
gives each column's most frequent values (columns whose values are all
distinct are left out: every count would be 1). The queries are built once
in DuckDB's dialect and transpiled, so the same statistics come from
Postgres and Spark.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from featureduck.engines.base import EngineAdapter

QUANTILES = (0.25, 0.5, 0.75)
TOP_VALUES = 5
_NESTED = {exp.DataType.Type.ARRAY, exp.DataType.Type.LIST, exp.DataType.Type.STRUCT, exp.DataType.Type.MAP,
           exp.DataType.Type.JSON, exp.DataType.Type.JSONB, exp.DataType.Type.UNKNOWN}


@dataclass
class ColumnProfile:
    name: str
    type: str
    nulls: int
    null_rate: float
    distinct: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: dict[str, float | None] = field(default_factory=dict)  # "p25": value
    top_values: list[tuple[str | None, int]] = field(default_factory=list)

    @property
    def numeric(self) -> bool:
        return self.mean is not None or bool(self.quantiles)


@dataclass
class ModelProfile:
    model: str
    relation: str
    rows: int
    profiled_at: datetime.datetime
    columns: list[ColumnProfile]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "relation": self.relation, "rows": self.rows,
            "profiled_at": self.profiled_at.isoformat(sep=" "),
            "columns": [
                {**{k: v for k, v in c.__dict__.items() if k != "top_values"},
                 "top_values": [{"value": value, "count": count} for value, count in c.top_values]}
                for c in self.columns
            ],
        }


def profile_relation(adapter: EngineAdapter, model: str, table: exp.Table, now: datetime.datetime) -> ModelProfile:
    columns = adapter.columns(table)
    kinds = {name: _kind(kind, adapter.DIALECT) for name, kind in columns}
    aggregates: list[exp.Expr] = [exp.Count(this=exp.Star())]
    slots: list[tuple[str, str]] = []  # (column, statistic) of each aggregate after the row count
    for name, _ in columns:
        column = exp.column(name, quoted=True)
        slots.append((name, "nonnull"))
        aggregates.append(exp.Count(this=column.copy()))
        if kinds[name] == "nested":
            continue
        slots += [(name, "distinct"), (name, "min"), (name, "max")]
        aggregates += [exp.Count(this=exp.Distinct(expressions=[column.copy()])), exp.Min(this=column.copy()), exp.Max(this=column.copy())]
        if kinds[name] == "numeric":
            number = exp.cast(column.copy(), exp.DataType.build("DOUBLE"))
            slots += [(name, "mean"), (name, "stddev")] + [(name, f"p{int(q * 100)}") for q in QUANTILES]
            aggregates += [exp.Avg(this=number.copy()), exp.StddevSamp(this=number.copy())]
            aggregates += [adapter.quantile(number, q) for q in QUANTILES]
    query = exp.select(*[exp.alias_(a, f"s{i}") for i, a in enumerate(aggregates)]).from_(table.copy())
    values = list(adapter.execute(query)[0])
    rows = int(values[0])
    found: dict[str, dict[str, Any]] = {name: {} for name, _ in columns}
    for (name, statistic), value in zip(slots, values[1:], strict=True):
        found[name][statistic] = value
    profiles = []
    for name, kind in columns:
        stats = found[name]
        nulls = rows - int(stats["nonnull"])
        profile = ColumnProfile(name, kind, nulls, nulls / rows if rows else 0.0, _int(stats.get("distinct")),
                                _plain(stats.get("min")), _plain(stats.get("max")), _float(stats.get("mean")), _float(stats.get("stddev")),
                                {f"p{int(q * 100)}": _float(stats.get(f"p{int(q * 100)}")) for q in QUANTILES} if kinds[name] == "numeric"
                                else {})
        profiles.append(profile)
    _add_top_values(adapter, table, [p for p in profiles if p.distinct is not None and 0 < p.distinct < rows - p.nulls])
    return ModelProfile(model, table.sql(adapter.DIALECT), rows, now, profiles)


def _add_top_values(adapter: EngineAdapter, table: exp.Table, columns: list[ColumnProfile]) -> None:
    """The most frequent values of each column, as text, in one statement."""
    if not columns:
        return
    parts: list[exp.Query] = []
    for i, profile in enumerate(columns):
        column = exp.column(profile.name, quoted=True)
        ranked = (
            exp.select(exp.alias_(exp.Literal.number(i), "position"),
                       exp.alias_(exp.cast(column.copy(), exp.DataType.build("TEXT")), "value"),
                       exp.alias_(exp.Count(this=exp.Star()), "n"))
            .from_(table.copy())
            .group_by(column.copy())
            .order_by(exp.Ordered(this=exp.column("n"), desc=True), exp.Ordered(this=exp.column("value"), nulls_first=False))
            .limit(TOP_VALUES)
        )
        parts.append(exp.select("*").from_(ranked.subquery(f"top{i}")))
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    for position, value, count in adapter.execute(union):
        columns[int(position)].top_values.append((None if value is None else str(value), int(count)))
    for profile in columns:
        profile.top_values.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))


def _kind(type_text: str, dialect: str) -> str:
    try:
        data_type = exp.DataType.build(type_text, dialect=dialect)
    except Exception:  # noqa: BLE001 - a type sqlglot does not know: count and nulls only
        return "nested"
    if data_type.this in _NESTED:
        return "nested"
    if data_type.is_type(*exp.DataType.NUMERIC_TYPES):
        return "numeric"
    return "plain"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _plain(value: Any) -> Any:
    """JSON-ready: numbers stay numbers, the rest is text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)
