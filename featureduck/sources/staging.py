"""Load file sources into a target that cannot read them in place (Postgres).

DuckDB reads the file (any format and option its readers take, so a file
source means the same on every engine) and the rows stream in batches into
the adapter's bulk loader, which replaces the staged table atomically. Runs
at the start of `fduck run`, for the file sources the selected models read.
A source is loaded again only when its fingerprint (reader, and each
matching file's path, size and modification time) differs from the one the
state store holds for its last staging, or its table is gone.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.compiler.relations import file_location, file_reader, staged_relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError
from featureduck.project.nodes import SourceTable
from featureduck.utils.hashing import sha256_json

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class StagedSource:
    source: SourceTable
    relation: str
    fingerprint: str
    rows: int | None  # None: unchanged since it was last staged, not loaded again


def fingerprint(table: SourceTable, project_root: Path) -> str:
    """Changes whenever what the reader would return may have changed."""
    reader = exp.select("*").from_(file_reader(table, project_root)).sql(dialect="duckdb")
    files = []
    for name in sorted(glob.glob(file_location(table, project_root), recursive=True)):
        stat = os.stat(name)
        files.append((name, stat.st_size, stat.st_mtime_ns))
    return sha256_json({"reader": reader, "files": files})


def stage_file_sources(
    adapter: EngineAdapter,
    tables: list[SourceTable],
    project_root: Path,
    target_schema: str,
    previous: dict[str, str],
) -> list[StagedSource]:
    """Stage the file sources in `tables` (ones the adapter's dialect cannot read);
    `previous` maps a source's unique id to the fingerprint it was last staged with."""
    import duckdb

    staged: list[StagedSource] = []
    to_stage = []
    for table in tables:
        relation = staged_relation(table, target_schema)
        current = fingerprint(table, project_root)
        if previous.get(table.unique_id) == current and adapter.relation_kind(relation.to_table()) == "table":
            staged.append(StagedSource(table, relation.sql(adapter.DIALECT), current, None))
        else:
            to_stage.append((table, current))
    if not to_stage:
        return staged
    with duckdb.connect() as reader:
        for table, current in to_stage:
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
            rows = adapter.load_rows(relation.to_table(), columns, fetch_batches(result))
            staged.append(StagedSource(table, relation.sql(adapter.DIALECT), current, rows))
    return staged


def fetch_batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    """A DuckDB result's rows, BATCH_ROWS at a time, for bulk loaders."""
    while batch := result.fetchmany(BATCH_ROWS):
        yield batch
