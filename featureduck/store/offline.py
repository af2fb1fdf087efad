"""Run a point-in-time training set on the target (DuckDB in this release).

The entity rows (a CSV or Parquet file, a pandas DataFrame or an Arrow
table) are copied into a temporary table that numbers them, so the output
keeps their order; the query itself is `training_set.point_in_time_query`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.project.loader import ProjectDefinition
from featureduck.store.training_set import EVENT_TIMESTAMP, EVENT_TS, ROW_ID, FeatureRequest, point_in_time_query

ENTITY_TABLE = "__fd_entities"
_ENTITY_INPUT = "__fd_entity_input"
_FILE_READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".pq": "read_parquet"}


def prepare_entities(adapter: EngineAdapter, entities: Any) -> list[str]:
    """Load the entity rows into ENTITY_TABLE; returns their columns, in order."""
    if adapter.TYPE != "duckdb":
        raise UsageError(f"training sets run on DuckDB targets in this release, not {adapter.TYPE}")
    if isinstance(entities, (str, Path)):
        path = Path(entities)
        reader = _FILE_READERS.get(path.suffix.lower())
        if reader is None:
            raise UsageError(f"entity file {path} must be .csv or .parquet")
        if not path.exists():
            raise UsageError(f"entity file {path} does not exist")
        source: exp.Expr = exp.Table(this=exp.func(reader, exp.Literal.string(str(path.resolve()))))
    else:
        adapter.register(_ENTITY_INPUT, entities)  # type: ignore[attr-defined]
        source = exp.to_table(_ENTITY_INPUT)
    table = exp.to_table(ENTITY_TABLE)
    adapter.drop(table, "table")
    numbered = exp.select(
        "*",
        exp.alias_(exp.Window(this=exp.RowNumber()), ROW_ID),
    ).from_(source)
    adapter.create_table_as(table, adapter.sql(numbered), temporary=True)
    columns = [name for name, _ in adapter.columns(table) if name != ROW_ID]
    if EVENT_TIMESTAMP not in columns:
        raise UsageError(f"the entity rows have no '{EVENT_TIMESTAMP}' column", hint=f"columns: {', '.join(columns)}")
    adapter.execute(f"ALTER TABLE {adapter.sql(table)} ADD COLUMN {EVENT_TS} TIMESTAMP")
    adapter.execute(exp.update(table, {EVENT_TS: exp.cast(exp.column(EVENT_TIMESTAMP, quoted=True), "TIMESTAMP")}))
    return columns


def training_set_query(
    adapter: EngineAdapter,
    definition: ProjectDefinition,
    compiled: CompiledProject,
    requests: list[FeatureRequest],
    entity_columns: list[str],
) -> exp.Select:
    """The query over ENTITY_TABLE, after checking the rows carry every join key."""
    join_keys = {name: entity.join_keys for name, entity in definition.entities.items()}
    for request in requests:
        missing = [k for k in join_keys[request.view.entity] if k not in entity_columns]
        if missing:
            raise UsageError(
                f"the entity rows lack join key {', '.join(missing)} of entity '{request.view.entity}' "
                f"(feature view '{request.view.name}')"
            )
        if request.view.model not in compiled.models:
            raise UsageError(f"model '{request.view.model}' of feature view '{request.view.name}' did not compile")
    relations = {r.view.key: compiled.models[r.view.model].relation.to_table() for r in requests}
    return point_in_time_query(exp.to_table(ENTITY_TABLE), entity_columns, requests, relations, join_keys)
