"""Sources made readable to the run's engine: DuckDB's lakehouse readers, and the
databases of Postgres and MySQL sources.

On DuckDB each source's database is ATTACHed, read-only, under the source's
name before the models that read it build, and `source()` compiles to
`<source>.<schema>.<table>`. ATTACH, not a `postgres_scan(dsn, ...)` call per
reference: the compiled SQL (written to target/ and the manifest) then holds
no password, MySQL (which has no scan function in DuckDB 1.5.5) works the same
way, and both push filters down, so a watermark filter is applied by the
source server. On Postgres a postgres source is a table of the target's own
database; a connection naming another database is an error, never a read of
a same-named table elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from featureduck.config.profiles import ducklake_catalog, render_env_vars
from featureduck.engines.base import EngineAdapter
from featureduck.errors import ConnectionFailure, ProfileError, SourceLocation
from featureduck.project.nodes import READER_EXTENSIONS, SourceTable
from featureduck.utils.secrets import remember_secret


def connection_text(table: SourceTable) -> str:
    """The source's connection with env_var() rendered (errors name the YAML line)."""
    assert table.connection is not None
    return render_connection(table.connection, table.connection_location or table.location)


def render_connection(written: str, location: SourceLocation) -> str:
    """A connection string as written in YAML, env_var() rendered and its secret masked in output."""
    connection = str(render_env_vars(written, location.file, location.line or 0))
    remember_secret(connection)
    return connection


def prepare_sources(adapter: EngineAdapter, tables: list[SourceTable], project_root: Path) -> None:
    """Make every source in `tables` readable by `adapter`'s SQL: the extensions of
    DuckDB's lakehouse readers loaded, database sources attached (or checked)."""
    local = adapter.local()
    if local is not None:
        for name in sorted({READER_EXTENSIONS[str(t.format)] for t in tables if t.is_file and t.format in READER_EXTENSIONS}):
            local.load_extension(name)
    for source_name, table in {t.source_name: t for t in tables if t.is_database}.items():
        connection = connection_text(table)
        if table.source_type == "ducklake":  # a catalog file is relative to the project
            connection = ducklake_catalog(project_root, connection)
        if local is not None:
            try:
                local.attach(source_name, table.source_type, connection)
            except ConnectionFailure as err:
                raise ConnectionFailure(f"source '{source_name}': {err.message}", table.connection_location) from None
        elif table.source_type in adapter.traits.own_database_sources:
            _check_same_database(adapter, table, connection)


def _check_same_database(adapter: EngineAdapter, table: SourceTable, connection: str) -> None:
    from featureduck.engines.postgres import conninfo, database_address

    try:
        source, target = database_address(connection), database_address(conninfo(adapter.target.settings))
    except Exception as err:  # psycopg.ProgrammingError for a malformed string
        raise ProfileError(f"source '{table.source_name}': connection is not a Postgres connection string: {err}",
                           table.connection_location) from None
    if source != target:
        raise ProfileError(
            f"source '{table.source_name}' is in database {source[2]} at {source[0]}:{source[1]}, not in the target's "
            f"({target[2]} at {target[0]}:{target[1]}); a postgres target reads postgres sources of its own database",
            table.connection_location, "build its models on a duckdb target, which reads any Postgres database",
        )
