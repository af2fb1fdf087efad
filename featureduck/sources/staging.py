"""Load file sources into a target that cannot read them in place (Postgres; Hudi
tables on every target, since only the hudi package reads them right).

DuckDB reads the file (any format and option its readers take, so a file
source means the same on every engine) and the rows stream in batches into
the adapter's bulk loader, which replaces the staged table atomically. Runs
at the start of `fduck run`, for the file sources the selected models read.
A source is loaded again only when its fingerprint (reader, and each
matching file's path, size and content or modification time) differs from the one the
state store holds for its last staging, or its table is gone.
"""

from __future__ import annotations

import datetime
import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.compiler.relations import file_location, file_reader, staged_relation
from featureduck.engines.base import EngineAdapter
from featureduck.engines.extensions import load_extension
from featureduck.errors import DatabaseError
from featureduck.project.nodes import READER_EXTENSIONS, SourceTable
from featureduck.utils.hashing import file_version, sha256_json
from featureduck.utils.terminal import duckdb_progress_setting

if TYPE_CHECKING:
    import duckdb
    import pyarrow

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class StagedSource:
    source: SourceTable
    relation: str
    fingerprint: str
    rows: int | None  # None: unchanged since it was last staged, not loaded again


def fingerprint(table: SourceTable, project_root: Path) -> str:
    """Changes whenever what the reader would return may have changed: a table
    folder (delta, iceberg, hudi) counts every file under it, its log included."""
    if table.format == "hudi":
        reader = f"hudi {table.as_of}"
    else:
        reader = exp.select("*").from_(file_reader(table, project_root)).sql(dialect="duckdb")
    files = []
    for name in sorted(glob.glob(file_location(table, project_root), recursive=True)):
        found = [name] if not os.path.isdir(name) else sorted(
            os.path.join(folder, file) for folder, _, names in os.walk(name) for file in names
        )
        files += [(path, *file_version(path)) for path in found]
    return sha256_json({"reader": reader, "files": files})


def read_hudi(table: SourceTable, project_root: Path) -> pyarrow.Table:
    """A Hudi table's snapshot (the latest, or as of `as_of`) through the hudi package,
    which merges its file slices and logs: its parquet files alone hold stale rows."""
    import pyarrow

    try:
        from hudi import HudiReadOptions, HudiTableBuilder
    except ImportError:
        raise DatabaseError(f"source '{table.source_name}.{table.name}' is a hudi table, read through the hudi package",
                            table.location, "pip install 'featureduck[hudi]'") from None
    options = HudiReadOptions()
    if table.as_of is not None:  # RFC 3339 in UTC, which hudi-rs parses (a naive time is UTC)
        moment = datetime.datetime.fromisoformat(table.as_of)
        moment = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
        options = options.with_as_of_timestamp(moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z")
    try:
        hudi = HudiTableBuilder.from_base_uri(str(Path(file_location(table, project_root)).resolve())).build()
        batches = hudi.read(options)
        schema = hudi.get_schema_with_meta_fields() if not batches else batches[0].schema
    except Exception as err:  # the hudi package's own errors (HudiCoreError)
        raise DatabaseError(f"cannot read hudi source '{table.source_name}.{table.name}': {err}", table.location) from None
    return pyarrow.Table.from_batches(batches, schema=schema)


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
        reader.execute(duckdb_progress_setting())  # a large file shows its progress on a terminal
        for name in sorted({READER_EXTENSIONS[str(t.format)] for t, _ in to_stage if t.format in READER_EXTENSIONS}):
            load_extension(reader, name)
        for table, current in to_stage:
            relation = staged_relation(table, target_schema)
            if table.format == "hudi":
                snapshot = read_hudi(table, project_root)
                if (local := adapter.local()) is not None:  # the Arrow rows straight into the target
                    adapter.create_schema(relation.schema, relation.database)
                    rows = local.load_arrow(relation.to_table(), snapshot)
                    staged.append(StagedSource(table, relation.sql(adapter.DIALECT), current, rows))
                    continue
                reader.register("hudi_snapshot", snapshot)
                query = "SELECT * FROM hudi_snapshot"
            else:
                query = exp.select("*").from_(file_reader(table, project_root)).sql(dialect="duckdb")
            try:
                result = reader.execute(query)
                if not adapter.SUPPORTS_NESTED_TYPES and _has_nested(result):
                    result = reader.execute(_nested_as_json(result, query))
            except duckdb.Error as err:
                raise DatabaseError(
                    f"cannot read source '{table.source_name}.{table.name}': {str(err).strip()}", table.location
                ) from None
            columns = [(str(column[0]), str(column[1])) for column in result.description]
            adapter.create_schema(relation.schema, relation.database)
            rows = adapter.load_rows(relation.to_table(), columns, fetch_batches(result))
            staged.append(StagedSource(table, relation.sql(adapter.DIALECT), current, rows))
    return staged


_NESTED = ("STRUCT", "MAP", "UNION")


def _is_nested(kind: str) -> bool:
    return kind.startswith(_NESTED) or kind.endswith("]")


def _has_nested(result: duckdb.DuckDBPyConnection) -> bool:
    """Whether a query's result has struct, list or map columns: read from the
    executing result, since describing the query first would read (and sniff) a file twice."""
    return any(_is_nested(str(column[1])) for column in result.description or [])


def _nested_as_json(result: duckdb.DuckDBPyConnection, query: str) -> str:
    """The query with its struct, list and map columns as JSON, for targets without nested types."""
    columns = []
    for name, kind, *_ in result.description or []:
        column = exp.column(str(name), quoted=True)
        if _is_nested(str(kind)):
            columns.append(exp.alias_(exp.cast(exp.func("to_json", column), "JSON"), str(name), quoted=True))
        else:
            columns.append(column)
    return exp.select(*columns).from_(exp.maybe_parse(query, dialect="duckdb").subquery("staged")).sql(dialect="duckdb")


def fetch_batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    """A DuckDB result's rows, BATCH_ROWS at a time, for bulk loaders."""
    while batch := result.fetchmany(BATCH_ROWS):
        yield batch
