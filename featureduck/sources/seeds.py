"""`fduck seed` and `Project.load_table`: files and data frames into tables, in bulk.

DuckDB reads the CSV itself (its parallel reader, types detected or set by
`column_types`), and on a DuckDB target the table is replaced in one
statement, so a bad row leaves the previous table as it was; the error names
the file and the line DuckDB stopped at. Other targets get the rows DuckDB
read through their bulk loader (COPY on Postgres), swapped in the same way.
Pandas and Arrow data go through DuckDB's zero-copy scan of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import DatabaseError, SourceLocation, UsageError
from featureduck.project.nodes import Seed
from featureduck.sources.staging import fetch_batches

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
READERS = {".csv": "read_csv", ".tsv": "read_csv", ".parquet": "read_parquet", ".json": "read_json", ".jsonl": "read_json"}
PROGRESS_BYTES = 64 * 1024 * 1024  # files this large show DuckDB's progress bar on a terminal


def seed_reader(seed: Seed, project_root: Path, project_dialect: str, dbt_types: bool) -> exp.Expr:
    """read_csv of the seed's file, with the config's column_types (those of columns
    the file has, as dbt applies a folder's types) and delimiter. `dbt_types`: whole
    numbers load as INTEGER, as dbt's seed loader types them, not DuckDB's BIGINT."""
    import duckdb

    path = project_root / seed.path
    delimiter = seed.config.get("delimiter") or ("\t" if path.suffix == ".tsv" else None)
    arguments: list[exp.Expr] = [exp.Literal.string(str(path)), exp.EQ(this=exp.column("header"), expression=exp.true())]
    if delimiter:
        arguments.append(exp.EQ(this=exp.column("delim"), expression=exp.Literal.string(str(delimiter))))
    column_types = dict(seed.config.get("column_types") or {})
    if not column_types and not dbt_types:  # nothing to adjust: no need to sniff the file first
        return exp.func("read_csv", *arguments, dialect="duckdb")
    sniffed = exp.func("read_csv", *[a.copy() for a in arguments], dialect="duckdb")
    try:
        detected = {str(name): str(kind) for name, kind, *_ in duckdb.sql(f"DESCRIBE SELECT * FROM {sniffed.sql('duckdb')}").fetchall()}
    except duckdb.Error as err:
        raise DatabaseError(f"seed '{seed.name}': {str(err).strip().splitlines()[0]}", SourceLocation(seed.path)) from None
    types = {
        name: exp.DataType.build(str(kind), dialect=project_dialect).sql("duckdb")
        for name, kind in column_types.items() if name in detected
    }
    if dbt_types:
        types.update({name: "INTEGER" for name, kind in detected.items() if kind == "BIGINT" and name not in types})
    if types:
        pairs = [exp.PropertyEQ(this=exp.Literal.string(name), expression=exp.Literal.string(kind)) for name, kind in types.items()]
        arguments.append(exp.EQ(this=exp.column("types"), expression=exp.Struct(expressions=pairs)))
    return exp.func("read_csv", *arguments, dialect="duckdb")


def load_seed(
    adapter: EngineAdapter, seed: Seed, table: exp.Table, project_root: Path, project_dialect: str, dbt_types: bool = False,
) -> int:
    """Replace `table` with the seed's rows; a bad row is an error naming its line."""
    reader = exp.select("*").from_(seed_reader(seed, project_root, project_dialect, dbt_types)).sql("duckdb")
    large = (project_root / seed.path).stat().st_size >= PROGRESS_BYTES
    try:
        return _load(adapter, table, reader, large)
    except DatabaseError as err:
        line = _CSV_LINE.search(err.message)
        detail = [ln.strip() for ln in err.message.splitlines() if ln.strip() and "CSV Error on Line" not in ln]
        raise DatabaseError(
            f"seed '{seed.name}': {' '.join(detail[:2]) or err.message}",
            SourceLocation(seed.path, int(line.group(1)) if line else None),
            "set the column's type under `column_types:` in the seed's YAML" if "convert" in err.message else None,
        ) from None


def load_data(adapter: EngineAdapter, table: exp.Table, data: Any) -> int:
    """A pandas DataFrame, an Arrow table or a file (csv, tsv, parquet, json) into `table`."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        function = READERS.get(path.suffix.lower())
        if function is None:
            raise UsageError(f"cannot load {path}: its suffix is not one of {', '.join(READERS)}")
        if not path.exists():
            raise UsageError(f"cannot load {path}: no such file")
        arguments: list[exp.Expr] = [exp.Literal.string(str(path.resolve()))]
        if path.suffix.lower() == ".tsv":
            arguments.append(exp.EQ(this=exp.column("delim"), expression=exp.Literal.string("\t")))
        reader = exp.select("*").from_(exp.func(function, *arguments, dialect="duckdb")).sql("duckdb")
        return _load(adapter, table, reader, path.stat().st_size >= PROGRESS_BYTES)
    return _load(adapter, table, "SELECT * FROM __fd_data", False, data)


def _load(adapter: EngineAdapter, table: exp.Table, reader_sql: str, large: bool, data: Any = None) -> int:
    """Replace `table` with what the DuckDB query `reader_sql` returns (over `data` as __fd_data)."""
    import duckdb

    adapter.create_schema(str(table.db), table.catalog or None)
    local = adapter.local()
    if local is not None:  # the target reads the file or frame itself
        if data is not None:
            local.register("__fd_data", data)
        with local.progress_bar(large):
            rows = adapter.replace_table(table, reader_sql)
        return int(rows) if rows is not None else int(adapter.execute(exp.select("count(*)").from_(table))[0][0])
    with duckdb.connect() as reader:
        if data is not None:
            reader.register("__fd_data", data)
        try:
            result = reader.execute(reader_sql)
        except duckdb.Error as err:
            raise DatabaseError(str(err).strip()) from None
        columns = [(str(column[0]), str(column[1])) for column in result.description]
        return adapter.load_rows(table, columns, fetch_batches(result))
