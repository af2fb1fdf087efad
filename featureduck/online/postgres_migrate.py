"""`fduck online migrate`: the older single-table layout of a Postgres online store,
`online_features(feature_view, entity_key, features jsonb)`, copied into the
per-view tables."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlglot import exp

from featureduck.engines.postgres import PostgresAdapter
from featureduck.errors import DatabaseError
from featureduck.online.base import OnlineView
from featureduck.online.postgres_tables import StoreTables, declared_type, in_parameter


@dataclass(frozen=True)
class Migrated:
    view: str  # name@version
    old_rows: int  # rows of the view in the single table
    present: int  # of those entity keys, how many the view's table holds now


def _path(key: str) -> exp.JSONPath:
    return exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=key)])


def _feature_value(name: str, column_type: str | None) -> exp.Expr:
    """A feature out of the jsonb object: as jsonb into a jsonb column, else its text cast."""
    features = exp.column("features")
    if column_type == "jsonb":
        return exp.JSONExtract(this=features, expression=_path(name), only_json_types=True)
    text = exp.JSONExtractScalar(this=features, expression=_path(name), only_json_types=True)
    return exp.cast(exp.paren(text), exp.DataType.build(column_type or "text", dialect="postgres"))


def migrate_single_table(
    adapter: PostgresAdapter, tables: StoreTables, channel: str, views: list[OnlineView], project_dialect: str, old_table: str,
) -> list[Migrated]:
    """In one transaction. A row's `feature_view` is a view's name (its version 1) or
    `name@version`. A view's table that does not exist yet is made with the view's
    declared dtypes (jsonb where none is declared). Rows already in a view's table win
    (ON CONFLICT DO NOTHING), so running it twice changes nothing; the old table is left
    in place for the user to drop."""
    source = exp.to_table(old_table, dialect="postgres") if "." in old_table else tables.table(old_table)
    of_view = in_parameter(exp.column("feature_view"))
    count = exp.func("count", exp.Star())
    done = []
    try:
        with adapter.transaction():
            for view in views:
                names = [view.key] + ([view.name] if view.version == 1 else [])
                old = int(adapter.execute(exp.select(count).from_(source).where(of_view), [names])[0][0])
                if not old:
                    continue
                table = tables.table(view.table)
                existing = adapter.existing_columns(table)
                if not existing:
                    wanted = {f: declared_type(d, project_dialect) for f, d in zip(view.features, view.dtypes, strict=True)}
                    adapter.execute(tables.create_feature_table(view.table, wanted))
                    adapter.execute(tables.add_primary_key(view.table))
                    existing = adapter.existing_columns(table)
                stamp = exp.cast(exp.paren(exp.JSONExtractScalar(this=exp.column("features"), expression=_path("feature_ts"),
                                                                 only_json_types=True)), "timestamp")
                rows = exp.select(
                    exp.column("entity_key"), *[_feature_value(f, existing.get(f)) for f in view.features],
                    exp.func("coalesce", stamp, exp.Literal.string("-infinity")),
                ).from_(source).where(of_view)
                columns = [exp.to_identifier(n, quoted=True) for n in ["entity_key", *view.features, "feature_ts"]]
                adapter.execute(exp.Insert(this=exp.Schema(this=table, expressions=columns), expression=rows, conflict=exp.OnConflict(
                    conflict_keys=[exp.to_identifier("entity_key")], action=exp.var("DO NOTHING"))), [names])
                key_types = orjson.dumps(["text"] * len(view.join_keys)).decode()
                recorded = exp.select(
                    exp.Literal.string(view.key), exp.Literal.string(view.table), exp.cast(exp.Literal.string(key_types), "jsonb"),
                    exp.null(), count.copy(), exp.CurrentTimestamp(),
                ).from_(table)
                adapter.execute(exp.Insert(this=tables.views, expression=recorded, conflict=exp.OnConflict(
                    conflict_keys=[exp.to_identifier("view_key")], action=exp.var("DO NOTHING"))))
                adapter.execute(tables.notify(channel, view))
                of_old = in_parameter(exp.column("feature_view", "o"))
                present = exp.select(count.copy()).from_(source.copy().as_("o")).where(of_old)
                present = present.join(table.copy().as_("n"), using=["entity_key"])
                done.append(Migrated(view.key, old, int(adapter.execute(present, [names])[0][0])))
    except DatabaseError as err:
        raise DatabaseError(f"migrating {source.sql('postgres')}: {err.message}") from None
    return done
