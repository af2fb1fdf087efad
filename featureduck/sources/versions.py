"""Cheap data versions of sources and seeds, for run caching: a text that changes
when the rows or the columns a relation returns may have changed, or None
where there is no cheap way to tell (a model reading it is always rebuilt).

- files (csv, parquet, json, delta, iceberg, hudi): the size and mtime of
  every file the reader would open, as staging fingerprints them (a file's
  schema is in the file);
- a DuckLake source: its catalog's latest snapshot id (or the pinned one),
  which every change of rows or columns advances;
- a seed: its loaded table (not its CSV file, which `fduck seed` may not have
  loaded yet): columns with their types, row count and the sum of every
  row's hash, on every engine;
- a table in a DuckDB target's database: the same, a scan DuckDB does at
  memory speed;
- a table elsewhere (a Postgres or Spark target's, an attached Postgres or
  MySQL source's) with a `timestamp_field` (dbt's `loaded_at_field`): its
  columns, row count and newest stamp, computed by the database that holds it.
  That misses an update that keeps count and stamp, as dbt's
  `source_status:fresher` does; a table with no such field is rebuilt from
  every run.

The engine-side row counts and digests are computed in one query, one round
trip; a relation that does not exist has no version.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from featureduck.compiler.relations import database_source_relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import FeatureDuckError
from featureduck.project.nodes import SourceTable
from featureduck.sources.staging import fingerprint

_ROWS = "version_rows"  # the alias a relation's rows are digested under
# Per database source type: its information_schema.columns column with the full type (MySQL's data_type drops lengths).
SERVER_TYPE_COLUMNS = {"postgres": "data_type", "mysql": "column_type"}


def data_versions(
    adapter: EngineAdapter, tables: list[SourceTable], seeds: dict[str, exp.Table], project_root: Path,
) -> dict[str, str | None]:
    """Per source unique id and per seed unique id (`seeds` maps it to the
    loaded table): its data version, or None."""
    versions: dict[str, str | None] = {}
    queries: list[exp.Select] = []
    schemas: dict[str, str] = {}  # unique id -> columns of a relation in the target, read from its catalog

    def in_target(uid: str, relation: exp.Table, digest: bool, timestamp_field: str | None) -> None:
        versions[uid] = None
        if adapter.relation_kind(relation) is None:
            return
        query = _digest_query(adapter, uid, relation) if digest else _count_and_newest(exp.Literal.string(uid), relation, timestamp_field)
        if query is not None:
            schemas[uid] = _schema_text(adapter.columns(relation))
            queries.append(query)

    for table in tables:
        if table.is_file:
            versions[table.unique_id] = fingerprint(table, project_root)
        elif table.version is not None or table.as_of is not None:  # a pinned DuckLake snapshot never changes
            versions[table.unique_id] = f"pinned {table.version} {table.as_of}"
        elif table.source_type == "ducklake" or (table.is_database and adapter.traits.local_reader):
            versions[table.unique_id] = None
            query = _outside_query(adapter, table)
            if query is not None:
                queries.append(query)
        elif table.is_database:
            if table.source_type in adapter.traits.own_database_sources:
                relation = database_source_relation(table, adapter.traits).to_table()
                in_target(table.unique_id, relation, False, table.timestamp_field)
            else:
                versions[table.unique_id] = None
        else:
            relation = exp.Table(this=exp.to_identifier(table.identifier), db=exp.to_identifier(table.schema),
                                 catalog=exp.to_identifier(table.database) if table.database else None)
            # rows are digested where the engine is local; elsewhere counted (a digest streams every row's hash)
            in_target(table.unique_id, relation, adapter.traits.local_reader, table.timestamp_field)
    for uid, relation in seeds.items():
        in_target(uid, relation, True, None)
    if queries:
        union: exp.Query = queries[0]
        for query in queries[1:]:
            union = exp.union(union, query, distinct=False)
        try:
            found = {str(uid): str(version) for uid, version in adapter.execute(union)}
        except FeatureDuckError:
            found = {}  # a relation that cannot be read fails its models' builds, which say why; here: no version
        versions.update({uid: f"{schemas[uid]}|{value}" if uid in schemas else value for uid, value in found.items()})
    return versions


def _schema_text(columns: list[tuple[str, str]]) -> str:
    return ",".join(f"{name} {kind}" for name, kind in columns)


def _digest_query(adapter: EngineAdapter, uid: str, relation: exp.Table) -> exp.Select:
    """Row count and the sum of the rows' hashes: any insert, update or delete changes it."""
    digest = exp.func("COALESCE", _text(adapter.row_digest(_ROWS)), exp.Literal.string(""))
    return exp.select(exp.Literal.string(uid), _joined(_text(exp.Count(this=exp.Star())), digest)).from_(relation.copy().as_(_ROWS))


def _outside_query(adapter: EngineAdapter, table: SourceTable) -> exp.Select | None:
    """A DuckLake snapshot, or an attached Postgres or MySQL table's version computed on its server."""
    label = exp.Literal.string(table.unique_id)
    if table.source_type == "ducklake":
        if not adapter.traits.local_reader:  # only DuckDB attaches it
            return None
        snapshots = exp.Table(this=exp.Anonymous(this="ducklake_snapshots", expressions=[exp.Literal.string(table.source_name)]))
        return exp.select(label, _text(exp.Max(this=exp.column("snapshot_id")))).from_(snapshots)
    relation = exp.Table(this=exp.to_identifier(table.identifier), db=exp.to_identifier(table.schema))
    count_and_newest = _count_and_newest_text(table.timestamp_field)
    if count_and_newest is None:
        return None
    type_column = SERVER_TYPE_COLUMNS.get(str(table.source_type))
    if type_column is None:  # a server not described here has no version: its models are always built
        return None
    # the count, the max and the columns are computed on the source's server (in its own SQL), not over streamed rows
    server = str(table.source_type)
    described = exp.DPipe(this=exp.DPipe(this=exp.column("column_name"), expression=exp.Literal.string(" ")),
                          expression=exp.column(type_column))
    ordered = exp.Order(this=described, expressions=[exp.Ordered(this=exp.column("ordinal_position"))])
    columns = (
        exp.select(exp.GroupConcat(this=ordered, separator=exp.Literal.string(",")))
        .from_(exp.Table(this=exp.to_identifier("columns"), db=exp.to_identifier("information_schema")))
        .where(exp.column("table_schema").eq(exp.Literal.string(table.schema)))
        .where(exp.column("table_name").eq(exp.Literal.string(table.identifier)))
    )
    version = _joined(exp.func("COALESCE", columns.subquery(), exp.Literal.string("")), count_and_newest)
    remote = exp.select(exp.alias_(version, "version")).from_(relation)
    function = f"{table.source_type}_query"
    scan = exp.Table(this=exp.Anonymous(this=function, expressions=[exp.Literal.string(table.source_name),
                                                                      exp.Literal.string(remote.sql(dialect=server))]))
    return exp.select(label, exp.column("version")).from_(scan)


def _count_and_newest(label: exp.Expr, relation: exp.Table, timestamp_field: str | None) -> exp.Select | None:
    version = _count_and_newest_text(timestamp_field)
    return None if version is None else exp.select(label, exp.alias_(version, "version")).from_(relation)


def _count_and_newest_text(timestamp_field: str | None) -> exp.Expr | None:
    if not timestamp_field:
        return None
    newest = exp.func("COALESCE", _text(exp.Max(this=exp.column(timestamp_field, quoted=True))), exp.Literal.string(""))
    return _joined(_text(exp.Count(this=exp.Star())), newest)


def _joined(first: exp.Expr, second: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=exp.DPipe(this=first, expression=exp.Literal.string(":")), expression=second)


def _text(value: exp.Expr) -> exp.Cast:
    return exp.cast(value, exp.DataType.build("TEXT"))
