"""Logical names (model, source, this) to physical relations for a target."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.engines.traits import EngineTraits, engine_traits, engine_types
from featureduck.errors import UnsupportedSqlError
from featureduck.project.nodes import FILE_READERS, SourceTable

if TYPE_CHECKING:
    from sqlglot import exp

EPHEMERAL_CTE_PREFIX = "__fduck__cte__"


@dataclass(frozen=True)
class Relation:
    """database.schema.identifier of a built model or an in-database source."""

    schema: str
    identifier: str
    database: str | None = None

    def to_table(self) -> exp.Table:
        from sqlglot import exp  # imported on use: cached compiles never load sqlglot

        return exp.Table(
            this=exp.to_identifier(self.identifier),
            db=exp.to_identifier(self.schema),
            catalog=exp.to_identifier(self.database) if self.database else None,
        )

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - relations are few, frozen and shared by a process's runs
    def sql(self, dialect: str) -> str:
        """Quoted as `dialect` needs; cached, as a run names each relation several times."""
        return self.to_table().sql(dialect=dialect)

    def with_identifier(self, identifier: str) -> Relation:
        return Relation(self.schema, identifier, self.database)

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.database, "schema": self.schema, "identifier": self.identifier}


def model_relation(name: str, config: dict[str, Any], target_schema: str) -> Relation:
    """Where a model is built: dbt's default generate_schema_name and alias rules."""
    custom = config.get("schema")
    schema = f"{target_schema}_{custom}" if custom else target_schema
    return Relation(schema, str(config.get("alias") or name), config.get("database"))


def is_staged(table: SourceTable, traits: EngineTraits) -> bool:
    """Whether a run on this target loads the file source into a table first: the
    formats an engine does not read in place (its traits) are staged."""
    return table.is_file and table.format not in traits.reads_in_place


def staged_relation(table: SourceTable, target_schema: str) -> Relation:
    """Where a staged file source lives: `<target schema>_<source schema>.<table>`, as
    custom schemas are named, so it never lands in a schema of the user's own."""
    return Relation(f"{target_schema}_{table.schema}", table.name)


def file_location(table: SourceTable, project_root: Path) -> str:
    assert table.path is not None
    path = Path(table.path)
    return str(path if path.is_absolute() else project_root / path)


def file_reader(table: SourceTable, project_root: Path) -> exp.Table:
    """The DuckDB reader call for a file source, aliased as the table is named."""
    from sqlglot import exp

    assert table.format is not None
    if table.format not in FILE_READERS:
        raise UnsupportedSqlError(f"source format '{table.format}' of '{table.source_name}.{table.name}' is not supported yet")
    location = file_location(table, project_root)
    args: list[exp.Expr] = [exp.Literal.string(location)]
    args += [exp.EQ(this=exp.column(key), expression=exp.convert(value)) for key, value in table.options.items()]
    args += [exp.EQ(this=exp.column(key), expression=value) for key, value in _version_arguments(table, location).items()]
    reader = exp.func(FILE_READERS[table.format], *args, dialect="duckdb")
    return exp.Table(this=reader, alias=exp.TableAlias(this=exp.to_identifier(table.name)))


def _version_arguments(table: SourceTable, location: str) -> dict[str, exp.Expr]:
    """The reader's arguments choosing a table version: delta_scan's `version`
    (an `as_of` time is resolved to the version then current through the
    deltalake package, as delta_scan takes no time); iceberg_scan's snapshot."""
    from sqlglot import exp

    if table.format == "delta":
        if table.version is not None:
            return {"version": exp.convert(table.version)}
        if table.as_of is not None:
            return {"version": exp.convert(_delta_version_at(table, location))}
    if table.format == "iceberg":
        if table.version is not None:
            return {"snapshot_from_id": exp.convert(table.version)}
        if table.as_of is not None:
            return {"snapshot_from_timestamp": exp.cast(exp.Literal.string(table.as_of), "TIMESTAMP")}
    return {}


def _delta_version_at(table: SourceTable, location: str) -> int:
    import datetime

    try:
        from deltalake import DeltaTable
    except ImportError:
        raise UnsupportedSqlError(f"source '{table.source_name}.{table.name}': as_of on a delta table needs the deltalake package",
                                  table.location, "pip install 'featureduck[delta]'") from None
    moment = datetime.datetime.fromisoformat(str(table.as_of))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    what = f"source '{table.source_name}.{table.name}'"
    try:
        delta = DeltaTable(location)
        commits = [int(entry["timestamp"]) for entry in delta.history() if "timestamp" in entry]
        delta.load_as_version(moment)
    except Exception as err:  # deltalake's errors: no table there, or no version that old
        raise UnsupportedSqlError(f"{what}: no version of {location} as of {table.as_of}: {err}", table.location) from None
    # deltalake answers a time before the first commit with version 0: the table did not exist then
    if commits and moment.timestamp() * 1000 < min(commits):
        first = datetime.datetime.fromtimestamp(min(commits) / 1000, datetime.UTC).isoformat(sep=" ", timespec="seconds")
        raise UnsupportedSqlError(f"{what}: {location} did not exist as of {table.as_of}: its first version was written {first}",
                                  table.location, "choose a later as_of, or a version") from None
    return int(delta.version())


def source_expression(table: SourceTable, project_root: Path, traits: EngineTraits, target_schema: str) -> exp.Expr:
    """What `source()` becomes: the table, a reader call for files, or the staged table."""
    if table.is_database:
        relation = database_source_relation(table, traits).to_table()
        if table.version is not None or table.as_of is not None:  # a DuckLake snapshot: t AT (VERSION => n)
            from sqlglot import exp

            moment = exp.cast(exp.Literal.string(str(table.as_of)), "TIMESTAMP")
            chosen = exp.convert(table.version) if table.version is not None else moment
            relation.set("when", exp.HistoricalData(this="AT", kind="VERSION" if table.version is not None else "TIMESTAMP",
                                                    expression=chosen))
        return relation
    if not table.is_file:
        return Relation(table.schema, table.identifier, table.database).to_table()
    if is_staged(table, traits):
        return staged_relation(table, target_schema).to_table()
    return file_reader(table, project_root)


def database_source_relation(table: SourceTable, traits: EngineTraits) -> Relation:
    """A table of a postgres or mysql source. DuckDB (a local reader) reads it through
    the database ATTACHed under the source's name at the start of a run, so the
    compiled SQL names `<source>.<schema>.<table>` and never holds the connection's
    secrets; a Postgres target reads a postgres source as a table of its own database."""
    if traits.local_reader:
        return Relation(table.schema, table.identifier, table.source_name)
    if table.source_type in traits.own_database_sources:
        return Relation(table.schema, table.identifier)
    readers = [t for t in engine_types() if engine_traits(t).local_reader][:1]
    readers += [t for t in engine_types() if table.source_type in engine_traits(t).own_database_sources]
    hint = "build the models that read it on a " + " target, or on a ".join(readers) + " target"
    if len(readers) > 1:
        hint += " in that database"
    raise UnsupportedSqlError(
        f"source '{table.source_name}.{table.name}' is in a {table.source_type} database, which a {traits.type} target cannot read",
        table.location, hint,
    )


def ephemeral_cte_name(model_name: str) -> str:
    return EPHEMERAL_CTE_PREFIX + model_name
