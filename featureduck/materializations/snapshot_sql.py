"""The queries a dbt snapshot is built from, as sqlglot trees in the target's dialect.

The history is rebuilt by one query and swapped in (`replace_table`), so a
failed or killed snapshot leaves the previous history in place on every
engine. The query gives exactly the rows dbt's staging table and merge leave
(dbt-core's `snapshot_staging_table`, `snapshot_merge_sql` and the `timestamp`
and `check` strategies): the previous history with the valid-to of each
changed or deleted current row set, then the new versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

META_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_is_deleted")
_SOURCE, _CURRENT = "source_data", "snapshotted_data"


@dataclass
class SnapshotSpec:
    """A snapshot's configs, its SQL already in the target's dialect."""

    dialect: str
    strategy: str  # timestamp | check
    unique_key: list[exp.Expr]  # over the snapshot query's columns (and the history's)
    updated_at: exp.Expr | None  # timestamp: required; check: optional (else the snapshot's time)
    check_cols: list[str] | None  # check: the columns compared (None: all the query's)
    hard_deletes: str  # ignore | invalidate | new_record
    valid_to_current: exp.Expr | None
    names: dict[str, str] = field(default_factory=lambda: {name: name for name in META_COLUMNS})

    def column(self, meta: str, table: str | None = None) -> exp.Column:
        return exp.column(self.names[meta], table, quoted=True)


def snapshot_time() -> exp.Expr:
    """dbt's `snapshot_get_time()`: the current time as a timestamp without zone; one
    value within the one query that builds the history."""
    return exp.cast(exp.CurrentTimestamp(), exp.DataType.build("timestamp"))


def scd_hash(args: list[exp.Expr]) -> exp.Expr:
    """dbt's `snapshot_hash_arguments`: md5 of the arguments as text, '|'-joined, nulls as ''."""
    parts: list[exp.Expr] = []
    for arg in args:
        if parts:
            parts.append(exp.Literal.string("|"))
        parts.append(exp.func("coalesce", exp.cast(arg.copy(), exp.DataType.build("varchar")), exp.Literal.string("")))
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part, safe=True)
    return exp.MD5(this=joined)


def _qualified(expression: exp.Expr, table: str) -> exp.Expr:
    """A config expression over one side's columns (its bare columns qualified by `table`)."""
    copy = expression.copy()
    for column in copy.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(table))
    return copy


def _updated_at(spec: SnapshotSpec) -> exp.Expr:
    return spec.updated_at.copy() if spec.updated_at is not None else snapshot_time()


def _valid_to_current(spec: SnapshotSpec, updated: exp.Expr) -> exp.Expr:
    """dbt's `get_dbt_valid_to_current`: null (or the configured value) typed as updated_at."""
    updated = updated.copy()
    nothing = spec.valid_to_current.copy() if spec.valid_to_current is not None else exp.null()
    return exp.func("coalesce", exp.func("nullif", updated, updated.copy()), nothing)


def _is_current(spec: SnapshotSpec, table: str | None) -> exp.Expr:
    valid_to = spec.column("dbt_valid_to", table)
    if spec.valid_to_current is None:
        return valid_to.is_(exp.null())
    return exp.or_(valid_to.eq(spec.valid_to_current.copy()), valid_to.copy().is_(exp.null()))


def first_history(spec: SnapshotSpec, query: exp.Query) -> exp.Query:
    """dbt's `build_snapshot_table`: every row of the query, each its first version."""
    updated = _updated_at(spec)
    meta: list[exp.Expr] = [
        exp.alias_(scd_hash([*spec.unique_key, updated]), spec.names["dbt_scd_id"], quoted=True),
        exp.alias_(updated.copy(), spec.names["dbt_updated_at"], quoted=True),
        exp.alias_(updated.copy(), spec.names["dbt_valid_from"], quoted=True),
        exp.alias_(_valid_to_current(spec, updated), spec.names["dbt_valid_to"], quoted=True),
    ]
    if spec.hard_deletes == "new_record":
        meta.append(exp.alias_(exp.Literal.string("False"), spec.names["dbt_is_deleted"], quoted=True))
    return exp.select(exp.Star(), *meta).from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("sbq"))))


@dataclass
class HistoryShape:
    """The columns the next history is built over."""

    source: list[str]  # the snapshot query's columns, in order
    history: list[str]  # the present history table's, in order
    changed_columns: list[str] | None  # check strategy: compared columns present in both (None: a column was added)


def next_history(spec: SnapshotSpec, query: exp.Query, history: exp.Table, shape: HistoryShape) -> exp.Query:
    """The previous history, current rows closed where the source changed or lost them,
    and the new versions; new columns are added (null in older rows), as dbt adds them."""
    keys = [f"dbt_unique_key_{i + 1}" for i in range(len(spec.unique_key))]
    new_meta = [spec.names[m] for m in META_COLUMNS if m != "dbt_is_deleted" or spec.hard_deletes == "new_record"]
    columns = [*shape.history, *[c for c in [*shape.source, *new_meta] if c not in shape.history]]
    has_deleted = spec.names["dbt_is_deleted"] in shape.history

    def deleted(table: str) -> exp.Expr:
        return exp.column(spec.names["dbt_is_deleted"], table, quoted=True) if has_deleted else exp.null()

    snapshotted = exp.select(exp.Star(), *[exp.alias_(_qualified(k, "h"), name) for k, name in zip(spec.unique_key, keys, strict=True)])
    snapshotted = snapshotted.from_(history.copy().as_("h")).where(_is_current(spec, "h"))
    updated = _updated_at(spec)
    source = exp.select(exp.Star(), *[exp.alias_(k.copy(), name) for k, name in zip(spec.unique_key, keys, strict=True)],
                        exp.alias_(updated, "dbt_fduck_updated_at")).from_("snapshot_query")
    same_key = exp.and_(*[exp.column(k, _CURRENT).eq(exp.column(k, _SOURCE)) for k in keys])
    changed = _row_changed(spec, shape)
    if spec.hard_deletes == "new_record":
        changed = exp.or_(exp.paren(changed), deleted(_CURRENT).eq(exp.Literal.string("True")))
    source_updated = exp.column("dbt_fduck_updated_at", _SOURCE)
    now = snapshot_time()

    # (scd id of a current row, its new valid-to): dbt's `updates` and `deletes`
    closings: exp.Query = (exp.select(exp.alias_(spec.column("dbt_scd_id", _CURRENT), "closed_id"), exp.alias_(source_updated, "closed_to"))
                           .from_(_SOURCE).join(_CURRENT, on=same_key).where(changed))
    missing: exp.Expr = exp.column(keys[0], _SOURCE).is_(exp.null())
    if spec.hard_deletes == "new_record":
        already_deleted = exp.and_(deleted(_CURRENT).eq(exp.Literal.string("True")), _is_current(spec, _CURRENT))
        missing = exp.and_(missing, exp.not_(exp.paren(already_deleted)))
    if spec.hard_deletes in ("invalidate", "new_record"):
        deletes = (exp.select(exp.alias_(spec.column("dbt_scd_id", _CURRENT), "closed_id"), exp.alias_(now.copy(), "closed_to"))
                   .from_(_CURRENT).join(_SOURCE, on=same_key.copy(), join_type="left").where(missing.copy()))
        closings = exp.union(closings, deletes, distinct=False)

    kept = exp.select(*[
        exp.alias_(exp.Case(ifs=[exp.If(this=exp.column("closed_id", "c").is_(exp.not_(exp.null())), true=exp.column("closed_to", "c"))],
                            default=exp.column(name, "h", quoted=True)), name, quoted=True)
        if name == spec.names["dbt_valid_to"] else
        exp.alias_(exp.column(name, "h", quoted=True) if name in shape.history else exp.null(), name, quoted=True)
        for name in columns
    ]).from_(history.copy().as_("h")).join(
        exp.to_table("closings").as_("c"),
        on=exp.and_(exp.column("closed_id", "c").eq(spec.column("dbt_scd_id", "h")), _is_current(spec, "h")), join_type="left",
    )

    new_values: dict[str, exp.Expr] = {
        spec.names["dbt_scd_id"]: scd_hash([*[exp.column(k, _SOURCE) for k in keys], source_updated]),
        spec.names["dbt_updated_at"]: source_updated.copy(),
        spec.names["dbt_valid_from"]: source_updated.copy(),
        spec.names["dbt_valid_to"]: _valid_to_current(spec, source_updated),
        spec.names["dbt_is_deleted"]: exp.Literal.string("False"),
    }
    inserts = exp.select(*[
        exp.alias_(new_values[name] if name in new_values and name in new_meta
                   else exp.column(name, _SOURCE, quoted=True) if name in shape.source else exp.null(), name, quoted=True)
        for name in columns
    ]).from_(_SOURCE).join(_CURRENT, on=same_key.copy(), join_type="left").where(
        exp.or_(exp.column(keys[0], _CURRENT).is_(exp.null()), exp.paren(changed.copy()))
    )
    parts = [kept, inserts]
    if spec.hard_deletes == "new_record":
        deletion_values: dict[str, exp.Expr] = {
            spec.names["dbt_scd_id"]: scd_hash([spec.column("dbt_scd_id", _CURRENT), now.copy()]),
            spec.names["dbt_updated_at"]: now.copy(),
            spec.names["dbt_valid_from"]: now.copy(),
            spec.names["dbt_valid_to"]: spec.column("dbt_valid_to", _CURRENT),
            spec.names["dbt_is_deleted"]: exp.Literal.string("True"),
        }
        parts.append(exp.select(*[
            exp.alias_(deletion_values[name] if name in deletion_values
                       else exp.column(name, _CURRENT, quoted=True) if name in shape.history and name in shape.source
                       else exp.null(), name, quoted=True)
            for name in columns
        ]).from_(_CURRENT).join(_SOURCE, on=same_key.copy(), join_type="left").where(missing.copy()))
    body: exp.Query = parts[0]
    for part in parts[1:]:
        body = exp.union(body, part, distinct=False)
    result = exp.select(exp.Star()).from_(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier("history"))))
    for name, cte in (("snapshot_query", query), (_CURRENT, snapshotted), (_SOURCE, source), ("closings", closings)):
        result = result.with_(name, as_=cte)
    return result


def _row_changed(spec: SnapshotSpec, shape: HistoryShape) -> exp.Expr:
    """dbt's strategies' `row_changed`: a newer updated_at (timestamp), or a compared
    column that differs, null-aware (check); any row when a compared column is new."""
    if spec.strategy == "timestamp":
        return exp.LT(this=spec.column("dbt_valid_from", _CURRENT), expression=exp.column("dbt_fduck_updated_at", _SOURCE))
    if shape.changed_columns is None:
        return exp.true()
    tests: list[exp.Expr] = []
    for name in shape.changed_columns:
        old, new = exp.column(name, _CURRENT, quoted=True), exp.column(name, _SOURCE, quoted=True)
        tests.append(exp.or_(
            old.neq(new),
            exp.paren(exp.and_(old.copy().is_(exp.null()), exp.not_(new.copy().is_(exp.null())))),
            exp.paren(exp.and_(exp.not_(old.copy().is_(exp.null())), new.copy().is_(exp.null()))),
        ))
    return exp.paren(exp.or_(*tests)) if tests else exp.false()


def duplicate_keys(spec: SnapshotSpec, query: exp.Query) -> exp.Query:
    """A unique key the query holds twice, or a null one: one row if there is any. dbt
    would add a row per duplicate each run; featureduck refuses such a source."""
    keys = [exp.alias_(k.copy(), f"k{i + 1}") for i, k in enumerate(spec.unique_key)]
    grouped = exp.select(*keys, exp.alias_(exp.func("count", exp.Star()), "n")).from_(
        exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier("q")))
    ).group_by(*[k.copy() for k in spec.unique_key])
    nulls = [k.copy().is_(exp.null()) for k in spec.unique_key]
    return grouped.having(exp.or_(exp.func("count", exp.Star()) > 1, *nulls)).limit(1)
