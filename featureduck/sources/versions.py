"""Cheap data versions of sources, for run caching: a text that changes when the
rows a source returns may have changed, or None where there is no cheap way
to tell (a model reading such a source is always rebuilt).

- files (csv, parquet, json, delta, iceberg, hudi): the size and mtime of
  every file the reader would open, as staging fingerprints them;
- a DuckLake source: its catalog's latest snapshot id (or the pinned one);
- a table in a DuckDB target's database: row count and the sum of every
  row's hash, a scan DuckDB does at memory speed;
- a table elsewhere (a Postgres target's, an attached Postgres or MySQL
  source's) with a `timestamp_field` (dbt's `loaded_at_field`): its row count
  and newest stamp, computed by the database that holds it. That misses an
  update that keeps both, as dbt's `source_status:fresher` does; a table with
  neither is rebuilt from every run.

Every engine-side version is computed in one query, one round trip.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from featureduck.compiler.relations import database_source_relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import FeatureDuckError
from featureduck.project.nodes import SourceTable
from featureduck.sources.staging import fingerprint


def source_versions(adapter: EngineAdapter, tables: list[SourceTable], project_root: Path) -> dict[str, str | None]:
    """Per source unique id: its data version, or None."""
    versions: dict[str, str | None] = {}
    queries: list[exp.Select] = []
    for table in tables:
        if table.is_file:
            versions[table.unique_id] = fingerprint(table, project_root)
        elif table.version is not None or table.as_of is not None:  # a pinned DuckLake snapshot never changes
            versions[table.unique_id] = f"pinned {table.version} {table.as_of}"
        else:
            query = _version_query(adapter, table)
            versions[table.unique_id] = None
            if query is not None:
                queries.append(query)
    if queries:
        union: exp.Query = queries[0]
        for query in queries[1:]:
            union = exp.union(union, query, distinct=False)
        try:
            versions.update({str(uid): str(version) for uid, version in adapter.execute(union)})
        except FeatureDuckError:
            pass  # a source that cannot be read fails its models' builds, which say why; here: no version
    return versions


def _version_query(adapter: EngineAdapter, table: SourceTable) -> exp.Select | None:
    label = exp.Literal.string(table.unique_id)
    if table.source_type == "ducklake":
        if adapter.DIALECT != "duckdb":
            return None
        snapshots = exp.Table(this=exp.Anonymous(this="ducklake_snapshots", expressions=[exp.Literal.string(table.source_name)]))
        return exp.select(label, _text(exp.Max(this=exp.column("snapshot_id")))).from_(snapshots)
    if table.is_database:
        if adapter.DIALECT == "postgres" and table.source_type == "postgres":
            return _count_and_newest(label, database_source_relation(table, "postgres").to_table(), table.timestamp_field)
        if adapter.DIALECT != "duckdb" or not table.timestamp_field:
            return None
        # the count and the max run on the source's server, not over streamed rows
        remote = _count_and_newest(exp.Literal.string(""), exp.Table(this=exp.to_identifier(table.identifier),
                                                                      db=exp.to_identifier(table.schema)), table.timestamp_field)
        assert remote is not None
        function = f"{table.source_type}_query"
        text = remote.sql(dialect="postgres" if table.source_type == "postgres" else "mysql")
        scan = exp.Table(this=exp.Anonymous(this=function, expressions=[exp.Literal.string(table.source_name), exp.Literal.string(text)]))
        return exp.select(label, exp.column("version")).from_(scan)
    relation = exp.Table(this=exp.to_identifier(table.identifier), db=exp.to_identifier(table.schema),
                         catalog=exp.to_identifier(table.database) if table.database else None)
    if adapter.DIALECT == "duckdb":
        digest = exp.Sum(this=exp.Anonymous(this="hash", expressions=[exp.column("source_rows")]))
        return exp.select(label, _joined(_text(exp.Count(this=exp.Star())), _text(digest))).from_(relation.as_("source_rows"))
    return _count_and_newest(label, relation, table.timestamp_field)


def _count_and_newest(label: exp.Expr, relation: exp.Table, timestamp_field: str | None) -> exp.Select | None:
    if not timestamp_field:
        return None
    newest = exp.func("COALESCE", _text(exp.Max(this=exp.column(timestamp_field, quoted=True))), exp.Literal.string(""))
    return exp.select(label, exp.alias_(_joined(_text(exp.Count(this=exp.Star())), newest), "version")).from_(relation)


def _joined(first: exp.Expr, second: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=exp.DPipe(this=first, expression=exp.Literal.string(":")), expression=second)


def _text(value: exp.Expr) -> exp.Cast:
    return exp.cast(value, exp.DataType.build("TEXT"))
