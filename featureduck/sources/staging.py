"""Load file sources into a target that cannot read them in place (Postgres).

DuckDB reads the file (any format and option its readers take, so a file
source means the same on every engine) and the rows stream in batches into
the adapter's bulk loader, which replaces the staged table atomically. Runs
at the start of `fduck run`, for the file sources the selected models read,
so the staged copy is as fresh as the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.compiler.relations import file_reader, is_staged, staged_relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError
from featureduck.project.nodes import SourceTable

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class StagedSource:
    source: SourceTable
    relation: str
    rows: int


def stage_file_sources(
    adapter: EngineAdapter, tables: list[SourceTable], project_root: Path, target_schema: str
) -> list[StagedSource]:
    """Stage every file source in `tables` that the adapter's dialect cannot read."""
    import duckdb

    staged: list[StagedSource] = []
    to_stage = [table for table in tables if is_staged(table, adapter.DIALECT)]
    if not to_stage:
        return staged
    with duckdb.connect() as reader:
        for table in to_stage:
            relation = staged_relation(table, target_schema)
            query = exp.select("*").from_(file_reader(table, project_root)).sql(dialect="duckdb")
            try:
                result = reader.execute(query)
            except duckdb.Error as err:
                raise DatabaseError(
                    f"cannot read source '{table.source_name}.{table.name}': {str(err).strip()}", table.location
                ) from None
            columns = [(str(column[0]), str(column[1])) for column in result.description]
            adapter.create_schema(relation.schema, relation.database)
            rows = adapter.load_rows(relation.to_table(), columns, _batches(result))
            staged.append(StagedSource(table, relation.sql(adapter.DIALECT), rows))
    return staged




def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    while batch := result.fetchmany(BATCH_ROWS):
        yield batch
