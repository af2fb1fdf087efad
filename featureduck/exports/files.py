"""Query results into files: CSV, Parquet, JSON (lines or an array) and Excel.

DuckDB writes every file, with its COPY, which streams: a relation larger
than memory goes out in row groups, never whole. On a DuckDB target COPY
reads the relation itself; a Postgres relation streams into it through the
postgres extension (the query runs on the server, rows arrive as a binary
COPY); Spark's rows arrive as Arrow. `--partition-by` writes a
hive-partitioned folder (`col=value/...`).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.exports.transcode import utf8_stage
from featureduck.utils.terminal import duckdb_progress_setting

if TYPE_CHECKING:
    import duckdb

FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json", ".xlsx": "xlsx",
}
COMPRESSIONS = {"csv": ("gzip", "zstd"), "json": ("gzip", "zstd"), "parquet": ("snappy", "gzip", "zstd"), "xlsx": ()}


@dataclass(frozen=True)
class FileOptions:
    format: str  # csv | parquet | json | xlsx
    compression: str | None = None
    partition_by: tuple[str, ...] = ()
    delimiter: str | None = None  # csv
    header: bool = True  # csv, xlsx
    json_array: bool = False  # json: one array instead of one object per line
    encoding: str | None = None  # csv, when not UTF-8: a Python codec name
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_path(cls, path: Path, format: str | None = None, **options: object) -> FileOptions:
        """The format from `format` or the file's suffix (`.csv.gz` is csv, gzip)."""
        suffixes = [s.lower() for s in path.suffixes]
        compression = options.pop("compression", None)
        if suffixes and suffixes[-1] in (".gz", ".zst"):
            compression = compression or {".gz": "gzip", ".zst": "zstd"}[suffixes.pop()]
        chosen = format or (FORMATS.get(suffixes[-1]) if suffixes else None)
        if chosen not in COMPRESSIONS:
            raise UsageError(f"cannot tell the file format of {path}",
                             hint="end it in .csv, .parquet, .json, .jsonl or .xlsx, or pass --format")
        if compression and compression not in COMPRESSIONS[chosen]:
            allowed = ", ".join(COMPRESSIONS[chosen]) or "none"
            raise UsageError(f"{chosen} files take no {compression} compression", hint=f"{chosen} compressions: {allowed}")
        delimiter = options.pop("delimiter", None) or ("\t" if suffixes and suffixes[-1] == ".tsv" else None)
        if options.get("json_array") and chosen != "json":
            raise UsageError("--json-array is for JSON files")
        options["encoding"] = _encoding(options.get("encoding"), chosen)
        return cls(chosen, str(compression) if compression else None, delimiter=str(delimiter) if delimiter else None,
                   **options)  # type: ignore[arg-type]

    def copy_options(self) -> str:
        parts = [f"FORMAT {self.format}"]
        if self.compression and not self.encoding:  # a transcoded file is compressed as it is transcoded
            parts.append(f"COMPRESSION {self.compression}")
        if self.partition_by:
            parts.append("PARTITION_BY (" + ", ".join(exp.to_identifier(c, quoted=True).sql("duckdb") for c in self.partition_by) + ")")
            parts.append("OVERWRITE_OR_IGNORE true")
        if self.format in ("csv", "xlsx"):
            parts.append(f"HEADER {'true' if self.header else 'false'}")
        if self.format == "csv" and self.delimiter:
            parts.append(f"DELIMITER {exp.Literal.string(self.delimiter).sql('duckdb')}")
        if self.format == "json" and self.json_array:
            parts.append("ARRAY true")
        return "(" + ", ".join(parts) + ")"


def write_query(adapter: EngineAdapter, query: exp.Query, path: Path, options: FileOptions, same_session: bool = False) -> int:
    """Write what `query` (in the adapter's dialect) returns to `path`; the row count.
    `same_session`: the query reads the session's temporary tables (training sets), so
    its rows come through the adapter's own connection, as Arrow, not a second stream."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    if options.encoding:
        with utf8_stage(path, options) as staged:
            return write_query(adapter, query, staged, replace(options, encoding=None, compression=None), same_session)
    target = exp.Literal.string(str(path.resolve())).sql("duckdb")
    local = adapter.local()
    if local is not None:  # DuckDB and DuckLake targets write the file themselves
        if options.format == "xlsx":
            local.load_extension("excel")
        with local.progress_bar(True):  # exports, training sets and backups: long work shows progress on a terminal
            rows = adapter.execute(f"COPY ({adapter.sql(query)}) TO {target} {options.copy_options()}")
        return int(rows[0][0]) if rows else 0
    with duckdb.connect() as writer:
        writer.execute("SET TimeZone = 'UTC'")  # zoned timestamps written in UTC, as on DuckDB targets
        writer.execute(duckdb_progress_setting())
        if options.format == "xlsx":
            _load_extension(writer, "excel")
        source = _stream(adapter, writer, query, same_session)
        try:
            rows = writer.execute(f"COPY (SELECT * FROM {source}) TO {target} {options.copy_options()}").fetchall()
        except duckdb.Error as err:
            raise UsageError(f"cannot write {path}: {str(err).strip().splitlines()[0]}") from None
        return int(rows[0][0]) if rows else 0


def _stream(adapter: EngineAdapter, writer: duckdb.DuckDBPyConnection, query: exp.Query, same_session: bool) -> str:
    """A relation the writer reads the engine's rows from, as they come."""
    if adapter.traits.exports_through_scanner and not same_session:
        from featureduck.engines.postgres import conninfo

        _load_extension(writer, "postgres")
        writer.execute(f"ATTACH {exp.Literal.string(conninfo(adapter.target.settings)).sql('duckdb')} AS engine (TYPE postgres, READ_ONLY)")
        return f"postgres_query('engine', {exp.Literal.string(adapter.sql(query)).sql('duckdb')})"
    writer.register("engine_rows", adapter.stream(query))  # Spark hands its rows over as Arrow batches
    return "engine_rows"


def _encoding(name: object, file_format: str) -> str | None:
    """The codec to transcode to, None for UTF-8 (what DuckDB writes)."""
    if name is None:
        return None
    if file_format != "csv":
        raise UsageError("--encoding is for CSV files", hint=f"{file_format} files are written in UTF-8")
    try:
        codec = codecs.lookup(str(name)).name
    except LookupError:
        raise UsageError(f"unknown encoding '{name}'", hint="a Python codec name: latin-1, cp1252, utf-16, utf-8-sig, shift_jis") from None
    return None if codec == "utf-8" else str(name)


def _load_extension(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    from featureduck.engines.extensions import load_extension

    load_extension(connection, name)
