"""Run a point-in-time training set on the target engine.

The entity rows (a CSV or Parquet file, a pandas DataFrame or an Arrow
table) are copied into a temporary relation that numbers them, so the output
keeps their order; the query itself is `training_set.point_in_time_query`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError, UsageError
from featureduck.project.loader import ProjectDefinition
from featureduck.sources.staging import fetch_batches
from featureduck.store.training_set import EVENT_TIMESTAMP, EVENT_TS, ROW_ID, FeatureRequest, point_in_time_query

ENTITY_TABLE = "__fd_entities"
_ENTITY_INPUT = "__fd_entity_input"
_FILE_READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".pq": "read_parquet"}


def prepare_entities(adapter: EngineAdapter, entities: Any) -> list[str]:
    """Load the entity rows, numbered, into ENTITY_TABLE; returns their columns, in order.

    DuckDB reads every kind of input (file, pandas, Arrow); on DuckDB targets
    it writes the temporary table itself, elsewhere the rows stream into the
    engine's temporary table (COPY on Postgres, a temporary view on Spark).
    The event time is compared as a naive UTC timestamp: a zoned input is
    converted to UTC, a naive one is taken as UTC (the sessions run in UTC).
    """
    import duckdb

    reader = adapter if adapter.local() is not None else None
    local = duckdb.connect() if reader is None else None
    try:
        if local is not None:
            local.execute("SET TimeZone = 'UTC'")
        numbered = exp.select(
            "*",
            exp.alias_(exp.Window(this=exp.RowNumber()), ROW_ID),
            exp.alias_(exp.cast(exp.column(EVENT_TIMESTAMP, quoted=True), "TIMESTAMP"), EVENT_TS),
        ).from_(_entity_source(entities, reader or local))
        table = exp.to_table(ENTITY_TABLE)
        try:
            if reader is not None:
                adapter.drop(table, "table")
                adapter.create_table_as(table, adapter.sql(numbered), temporary=True)
                columns = [name for name, _ in adapter.columns(table)]
            else:
                assert local is not None
                result = local.execute(numbered.sql(dialect="duckdb"))
                columns = [str(d[0]) for d in result.description]
                types = [str(d[1]) for d in result.description]
                adapter.load_temp_rows(table, list(zip(columns, types, strict=True)), fetch_batches(result))
        except (duckdb.BinderException, DatabaseError) as err:
            if EVENT_TIMESTAMP in str(err):
                raise UsageError(f"the entity rows have no '{EVENT_TIMESTAMP}' column") from None
            raise
    finally:
        if local is not None:
            local.close()
    return [name for name in columns if name not in (ROW_ID, EVENT_TS)]


def _entity_source(entities: Any, reader: Any) -> exp.Expr:
    if isinstance(entities, (str, Path)):
        path = Path(entities)
        function = _FILE_READERS.get(path.suffix.lower())
        if function is None:
            raise UsageError(f"entity file {path} must be .csv or .parquet")
        if not path.exists():
            raise UsageError(f"entity file {path} does not exist")
        return exp.Table(this=exp.func(function, exp.Literal.string(str(path.resolve()))))
    reader.register(_ENTITY_INPUT, entities)
    return exp.to_table(_ENTITY_INPUT)


def training_set_query(
    adapter: EngineAdapter,
    definition: ProjectDefinition,
    compiled: CompiledProject,
    requests: list[FeatureRequest],
    entity_columns: list[str],
    untied: set[str],
) -> exp.Select:
    """The query over ENTITY_TABLE, after checking the rows carry every join key;
    the views in `untied` are known to have no tied rows (store.ties)."""
    join_keys = {name: entity.join_keys for name, entity in definition.entities.items()}
    for request in requests:
        missing = [k for k in join_keys[request.view.entity] if k not in entity_columns]
        if missing:
            raise UsageError(
                f"the entity rows lack join key {', '.join(missing)} of entity '{request.view.entity}' "
                f"(feature view '{request.view.name}')"
            )
    relations = {}
    for request in requests:
        relation = compiled.view_relation(request.view, definition.sources)
        if relation is None:
            raise UsageError(f"model '{request.view.model}' of feature view '{request.view.name}' did not compile")
        relations[request.view.key] = relation
    # DuckDB's ASOF join and Postgres' join back at the newest instant take one row
    # per instant, so tied rows are ranked first unless the view is known to have none
    traits = adapter.traits
    untied = untied if traits.ranks_ties else set()
    return point_in_time_query(exp.to_table(ENTITY_TABLE), entity_columns, requests, relations, join_keys, traits.point_in_time_join,
                               untied)
