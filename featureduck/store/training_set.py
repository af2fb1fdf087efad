"""Point-in-time correct training sets.

For every entity row, each requested feature view contributes its latest row
for the same join keys whose timestamp is at or before the row's
`event_timestamp` (a feature stamped exactly at the event is visible: it was
known then), and within the view's ttl; otherwise the features are NULL. No
value stamped after the event can reach the row. Ties, several feature rows
with the same keys and timestamp: the one whose features are greatest, in
the order the view declares them, NULL below any value. Entity columns pass through
unchanged and the output keeps the input's row order.

The join is one sqlglot tree per engine family, the fastest correct form
measured on each (benchmarks/README.md). On DuckDB an ASOF LEFT JOIN per
view. On Postgres and Spark each view's rows and the entity rows are
stacked (UNION ALL) and ordered per key by time, feature rows before entity
rows at the same instant, so a window carries the newest feature forward
onto each entity row: on Postgres the newest feature instant (a running
MAX), joined back to the view's row at that instant; on Spark the feature
row itself, as a struct, by LAST_VALUE(... IGNORE NULLS) (a struct keeps
real NULL features). Both cost a sort of the two sides, whatever the
history per key; Postgres' LEFT JOIN LATERAL ... ORDER BY ts DESC LIMIT 1
probes the view once per entity row and, without an index on the view's
keys and time, scans it each time (over 15 minutes at 100k x 1M rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from featureduck.engines.traits import PointInTimeJoin
from featureduck.errors import UsageError
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView
from featureduck.utils.suggest import did_you_mean

EVENT_TIMESTAMP = "event_timestamp"
ROW_ID = "__fd_row"
EVENT_TS = "__fd_event_ts"
FEATURE_TS = "__fd_feature_ts"
_REFERENCE = re.compile(r"^(?P<view>[A-Za-z_][\w]*)(@(?P<version>\d+))?:(?P<feature>[A-Za-z_][\w]*)$")


@dataclass
class FeatureRequest:
    """Features asked of one version of one view, with their output columns."""

    view: FeatureView
    features: list[str]
    columns: list[str]


def resolve_requests(definition: ProjectDefinition, references: list[str]) -> list[FeatureRequest]:
    """`view:feature` or `view@2:feature` references, grouped by view version.

    A plain view name means its newest version. A feature's output column is
    its name, or `view__name` where two requested views share the name
    (`view_v2__name` where two versions of one view do).
    """
    grouped: dict[str, tuple[FeatureView, list[str]]] = {}
    for reference in references:
        match = _REFERENCE.match(reference.strip())
        if match is None:
            raise UsageError(f"feature reference '{reference}' is not view:feature or view@version:feature")
        view = _find_view(definition, match["view"], int(match["version"]) if match["version"] else None)
        known = [f.name for f in view.features]
        if match["feature"] not in known:
            raise UsageError(
                f"feature view '{view.name}' has no feature '{match['feature']}'",
                hint=did_you_mean(match["feature"], known) or f"its features: {', '.join(known)}",
            )
        features = grouped.setdefault(view.key, (view, []))[1]
        if match["feature"] not in features:
            features.append(match["feature"])
    names = [name for _, features in grouped.values() for name in features]
    shared = {name for name in names if names.count(name) > 1}
    view_names = [view.name for view, _ in grouped.values()]

    def column(view: FeatureView, feature: str) -> str:
        if feature not in shared:
            return feature
        # two versions of one view: the version tells them apart
        prefix = f"{view.name}_v{view.version}" if view_names.count(view.name) > 1 else view.name
        return f"{prefix}__{feature}"

    return [FeatureRequest(view, features, [column(view, f) for f in features]) for view, features in grouped.values()]


def _find_view(definition: ProjectDefinition, name: str, version: int | None) -> FeatureView:
    versions = [v for v in definition.feature_views.values() if v.name == name]
    if not versions:
        names = sorted({v.name for v in definition.feature_views.values()})
        raise UsageError(f"unknown feature view '{name}'", hint=did_you_mean(name, names))
    if version is None:
        return max(versions, key=lambda v: v.version)
    for view in versions:
        if view.version == version:
            return view
    raise UsageError(f"feature view '{name}' has no version {version}", hint=f"versions: {sorted(v.version for v in versions)}")


def point_in_time_query(
    entities: exp.Table,
    entity_columns: list[str],
    requests: list[FeatureRequest],
    relations: dict[str, exp.Table],
    join_keys: dict[str, list[str]],
    form: PointInTimeJoin,
    untied: set[str] | None = None,
) -> exp.Select:
    """The training-set query over `entities` (which carry ROW_ID and EVENT_TS).

    `relations` maps a view key to the relation its model built; `join_keys`
    maps an entity name to its keys; `untied` holds the keys of views known
    to have no tied rows, which skip the tie ranking. `form` is the engine's
    (engines.traits): an ASOF join, a join back at the newest instant, or stacked rows.
    """
    if form == "stacked":
        return _stacked_query(entities, entity_columns, requests, relations, join_keys)
    select = exp.select(*[exp.column(c, "e", quoted=True) for c in entity_columns]).from_(entities.copy().as_("e"))
    for index, request in enumerate(requests):
        view, alias = request.view, f"fv{index}"
        keys = join_keys[view.entity]
        feature_ts = exp.cast(exp.column(view.timestamp_field, quoted=True), "TIMESTAMP")
        features = exp.select(
            *[exp.column(k, quoted=True) for k in keys],
            exp.alias_(feature_ts, FEATURE_TS),
            *[exp.column(f, quoted=True) for f in request.features],
        ).from_(relations[view.key].copy())
        rows = features if view.key in (untied or set()) else _one_row_per_instant(features, keys, request.features)
        same_keys = [exp.column(k, "e", quoted=True).eq(exp.column(k, alias, quoted=True)) for k in keys]
        if form == "asof":
            on = exp.and_(*same_keys, exp.GTE(this=exp.column(EVENT_TS, "e"), expression=exp.column(FEATURE_TS, alias)))
            select = select.join(exp.Join(this=rows.subquery(alias), on=on, side="LEFT", method="ASOF"))
        else:
            instants = f"{alias}_at"
            newest = _newest_instants(entities, relations[view.key], keys, feature_ts)
            select = select.join(
                newest.subquery(instants), on=exp.column(ROW_ID, instants).eq(exp.column(ROW_ID, "e")), join_type="LEFT"
            ).join(
                rows.subquery(alias),
                on=exp.and_(*same_keys, exp.column(FEATURE_TS, alias).eq(exp.column(FEATURE_TS, instants))),
                join_type="LEFT",
            )
        for feature, column in zip(request.features, request.columns, strict=True):
            value = _within_ttl(view, exp.column(FEATURE_TS, alias), exp.column(feature, alias, quoted=True))
            select = select.select(exp.alias_(value, column, quoted=True))
    return select.order_by(exp.column(ROW_ID, "e"))


def _stacked(entities: exp.Table, relation: exp.Table, keys: list[str], feature_ts: exp.Expr, feature_value: exp.Expr) -> exp.Union:
    """Entity rows and feature rows in one relation: keys, `__fd_at`, `__fd_is_entity`,
    ROW_ID (NULL on feature rows) and `__fd_fv` (`feature_value` on feature rows)."""
    feature_rows = exp.select(
        *[exp.column(k, quoted=True) for k in keys],
        exp.alias_(feature_ts.copy(), "__fd_at"),
        exp.alias_(exp.Literal.number(0), "__fd_is_entity"),
        exp.alias_(exp.cast(exp.null(), "BIGINT"), ROW_ID),
        exp.alias_(feature_value, "__fd_fv"),
    ).from_(relation.copy()).where(exp.and_(*[exp.column(k, quoted=True).is_(exp.null()).not_() for k in keys]))
    entity_rows = exp.select(
        *[exp.column(k, quoted=True) for k in keys],
        exp.alias_(exp.column(EVENT_TS), "__fd_at"),
        exp.alias_(exp.Literal.number(1), "__fd_is_entity"),
        exp.column(ROW_ID),
        # a NULL of the feature branch's type (Spark widens an untyped NULL to a struct; Postgres needs the cast)
        exp.alias_(exp.null() if isinstance(feature_value, exp.Struct) else exp.cast(exp.null(), "TIMESTAMP"), "__fd_fv"),
    ).from_(entities.copy())
    return exp.union(entity_rows, feature_rows, distinct=False)


def _carried(value: exp.Expr, keys: list[str], extra_order: list[exp.Ordered]) -> exp.Window:
    """`value` over the stacked rows of each key in time order, feature rows
    before entity rows at the same instant, up to the current row."""
    return exp.Window(
        this=value,
        partition_by=[exp.column(k, quoted=True) for k in keys],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("__fd_at")), exp.Ordered(this=exp.column("__fd_is_entity")),
                                     *extra_order]),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )


def _newest_instants(entities: exp.Table, relation: exp.Table, keys: list[str], feature_ts: exp.Expr) -> exp.Select:
    """Per entity row (ROW_ID), the newest feature instant at or before its event:
    a running MAX over the stacked rows (Postgres has no IGNORE NULLS)."""
    newest = _carried(exp.Max(this=exp.column("__fd_fv")), keys, [])
    picked = (
        exp.select(exp.column(ROW_ID), exp.column("__fd_is_entity"), exp.alias_(newest, FEATURE_TS))
        .from_(_stacked(entities, relation, keys, feature_ts, feature_ts.copy()).subquery("stacked"))
    )
    return exp.select(ROW_ID, FEATURE_TS).from_(picked.subquery("picked")).where(exp.column("__fd_is_entity").eq(1))


def _one_row_per_instant(features: exp.Select, keys: list[str], names: list[str]) -> exp.Select:
    """ASOF cannot break ties: keep, per keys and timestamp, the row the tie rule picks."""
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[*[exp.column(k, quoted=True) for k in keys], exp.column(FEATURE_TS)],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column(f, quoted=True), desc=True, nulls_first=False) for f in names]),
    )
    ranked = exp.select("*", exp.alias_(rank, "__fd_rank")).from_(features.subquery("features"))  # FEATURE_TS is an alias
    return (
        exp.select(*[exp.column(k, quoted=True) for k in keys], exp.column(FEATURE_TS), *[exp.column(f, quoted=True) for f in names])
        .from_(ranked.subquery("ranked"))
        .where(exp.column("__fd_rank").eq(1))
    )


def _within_ttl(view: FeatureView, feature_ts: exp.Expr, value: exp.Expr) -> exp.Expr:
    if view.ttl_seconds is None:
        return value
    oldest = exp.Sub(
        this=exp.column(EVENT_TS, "e"),
        expression=exp.Interval(this=exp.Literal.string(str(view.ttl_seconds)), unit=exp.var("SECOND")),
    )
    return exp.case().when(exp.GTE(this=feature_ts, expression=oldest), value)


def _stacked_query(
    entities: exp.Table,
    entity_columns: list[str],
    requests: list[FeatureRequest],
    relations: dict[str, exp.Table],
    join_keys: dict[str, list[str]],
) -> exp.Select:
    """The point-in-time join without ASOF (Spark): the newest feature row carried as a struct."""
    select = exp.select(*[exp.column(c, "e", quoted=True) for c in entity_columns]).from_(entities.copy().as_("e"))
    for index, request in enumerate(requests):
        view, alias = request.view, f"fv{index}"
        keys = join_keys[view.entity]
        feature_ts = exp.cast(exp.column(view.timestamp_field, quoted=True), "TIMESTAMP")
        struct = exp.Struct(expressions=[
            exp.alias_(feature_ts.copy(), FEATURE_TS),
            *[exp.alias_(exp.column(f, quoted=True), f"f{i}") for i, f in enumerate(request.features)],
        ])
        # among tied feature rows the greatest (NULL lowest) comes last, so it is the one carried
        carried = _carried(exp.IgnoreNulls(this=exp.LastValue(this=exp.column("__fd_fv"))), keys, [
            exp.Ordered(this=exp.Dot(this=exp.column("__fd_fv"), expression=exp.to_identifier(f"f{i}")), nulls_first=True)
            for i in range(len(request.features))
        ])
        picked = (
            exp.select(exp.column(ROW_ID), exp.column("__fd_is_entity"), exp.alias_(carried, "__fd_fv"))
            .from_(_stacked(entities, relations[view.key], keys, feature_ts, struct).subquery("stacked"))
        )
        latest = exp.select(ROW_ID, "__fd_fv").from_(picked.subquery("picked")).where(exp.column("__fd_is_entity").eq(1))
        select = select.join(latest.subquery(alias), on=exp.column(ROW_ID, alias).eq(exp.column(ROW_ID, "e")), join_type="LEFT")
        struct_ts = exp.Dot(this=exp.column("__fd_fv", alias), expression=exp.to_identifier(FEATURE_TS))
        for i, column in enumerate(request.columns):
            value = exp.Dot(this=exp.column("__fd_fv", alias), expression=exp.to_identifier(f"f{i}"))
            select = select.select(exp.alias_(_within_ttl(view, struct_ts.copy(), value), column, quoted=True))
    return select.order_by(exp.column(ROW_ID, "e"))
