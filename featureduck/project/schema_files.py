"""The shapes of YAML declaration files (sources, models, ...) and their parsing.

Any YAML file under the project's paths may hold any of the top-level keys;
the key decides what it declares (as in dbt).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic

from featureduck.errors import SourceLocation, YamlError
from featureduck.project.nodes import (
    CHANGE_TIMESTAMP,
    DATABASE_SOURCES,
    FILE_FORMATS,
    MESSAGE_FORMATS,
    MESSAGE_TIMESTAMP,
    STREAM_OPTIONS,
    STREAM_SOURCES,
    TIME_TRAVEL_FORMATS,
    ColumnDef,
    Entity,
    Feature,
    FeatureView,
    SourceTable,
    StreamSpec,
)
from featureduck.utils.durations import parse_duration
from featureduck.utils.validation import validate_shape
from featureduck.utils.yaml_loader import LineDict, LineList


class _Shape(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class ColumnShape(_Shape):
    name: str
    description: str = ""
    data_type: str | None = None
    tests: list[Any] = []
    data_tests: list[Any] = []
    meta: dict[str, Any] = {}
    tags: list[str] = []
    quote: bool | None = None
    constraints: list[Any] = []
    config: dict[str, Any] = {}

    def to_column(self) -> ColumnDef:
        return ColumnDef(self.name, self.description, self.data_type, [*self.tests, *self.data_tests], self.meta)


class SourceTableShape(_Shape):
    name: str
    identifier: str | None = None
    description: str = ""
    # a file's format, or a stream's message format (MESSAGE_FORMATS)
    format: Literal["parquet", "csv", "json", "delta", "iceberg", "hudi", "duckdb", "avro", "debezium"] | None = None
    path: str | None = None
    options: dict[str, Any] = {}
    version: int | None = None
    as_of: datetime.datetime | None = None
    # a list of columns, or (a stream's typed columns) a mapping of name to type
    columns: list[ColumnShape] | dict[str, str | None] = []
    topic: str | None = None
    key: list[str] | str | None = None
    avro_schema: str | None = None  # format avro: the messages' writer schema (.avsc), relative to the project
    schema_registry: str | None = None  # format avro: messages framed with a schema id, their schemas from this registry
    timestamp_field: str | None = None
    loaded_at_field: str | None = None
    incremental: bool = False
    freshness: Any = None
    tests: list[Any] = []
    data_tests: list[Any] = []
    meta: dict[str, Any] = {}
    tags: list[str] = []
    config: dict[str, Any] = {}
    external: dict[str, Any] | None = None
    quoting: dict[str, Any] | None = None


class SourceShape(_Shape):
    name: str
    description: str = ""
    type: Literal["files", "postgres", "mysql", "ducklake", "kafka"] | None = None
    connection: str | dict[str, Any] | None = None  # a stream's client settings are a mapping
    cdc: bool = False  # a postgres source whose tables' changes are read from a replication slot into the target
    slot: str | None = None  # that slot's name; default featureduck_<project>_<source>
    schema_: str | None = pydantic.Field(None, alias="schema")
    database: str | None = None
    loader: str | None = None
    loaded_at_field: str | None = None
    freshness: Any = None
    meta: dict[str, Any] = {}
    tags: list[str] = []
    config: dict[str, Any] = {}
    quoting: dict[str, Any] | None = None
    overrides: str | None = None
    tables: list[SourceTableShape] = []


class ModelShape(_Shape):
    name: str
    description: str = ""
    config: dict[str, Any] = {}
    columns: list[ColumnShape] = []
    tests: list[Any] = []
    data_tests: list[Any] = []
    meta: dict[str, Any] = {}
    docs: dict[str, Any] = {}
    access: str | None = None
    group: str | None = None
    latest_version: Any = None
    versions: list[Any] = []
    constraints: list[Any] = []
    tags: list[str] = []


class SnapshotShape(ModelShape):
    """A `snapshots:` entry: with `relation:` a dbt 1.9 snapshot, else what YAML says
    about a `{% snapshot %}` block's snapshot."""

    relation: str | None = None


class SeedShape(_Shape):
    name: str
    description: str = ""
    config: dict[str, Any] = {}
    columns: list[ColumnShape] = []
    meta: dict[str, Any] = {}
    docs: dict[str, Any] = {}


class UnitFixtureShape(_Shape):
    input: str | None = None  # given only
    rows: list[dict[str, Any]] | str | None = None
    format: Literal["dict", "csv", "sql"] = "dict"
    fixture: str | None = None


class UnitOverridesShape(_Shape):
    vars: dict[str, Any] = {}
    macros: dict[str, Any] = {}
    env_vars: dict[str, Any] = {}


class UnitTestShape(_Shape):
    name: str
    model: str
    description: str = ""
    given: list[UnitFixtureShape] = []
    expect: UnitFixtureShape
    overrides: UnitOverridesShape = UnitOverridesShape()
    config: dict[str, Any] = {}
    versions: Any = None


class EntityShape(_Shape):
    name: str
    join_keys: list[str] = pydantic.Field(min_length=1)
    description: str = ""


class FeatureShape(_Shape):
    name: str
    dtype: str | None = None
    description: str = ""


class FeatureViewShape(_Shape):
    name: str
    entity: str
    model: str | None = None
    source: str | None = None  # source.table, a stream source's
    stream: bool = False
    timestamp_field: str
    features: list[FeatureShape] = pydantic.Field(min_length=1)
    ttl: str | int | None = None
    online: bool = False
    version: int = pydantic.Field(1, ge=1)
    freshness: Any = None
    description: str = ""
    tags: list[str] = []


class SchemaFileShape(_Shape):
    version: int | str | None = None
    sources: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    seeds: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    feature_views: list[dict[str, Any]] = []
    macros: list[dict[str, Any]] = []
    unit_tests: list[dict[str, Any]] = []
    # kept as written in the manifest: featureduck builds nothing from them (dbt's semantic layer, exposures)
    exposures: list[dict[str, Any]] = []
    semantic_models: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    saved_queries: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []


KEPT_AS_WRITTEN = ("exposures", "semantic_models", "metrics", "saved_queries", "groups")


@dataclass
class ModelPatch:
    """What a YAML file says about a model defined in a .sql file."""

    shape: ModelShape
    location: SourceLocation


@dataclass
class SchemaFile:
    """Everything one YAML file declares."""

    file: str
    sources: list[SourceTable] = field(default_factory=list)
    model_patches: list[ModelPatch] = field(default_factory=list)
    seed_patches: list[tuple[SeedShape, SourceLocation]] = field(default_factory=list)
    snapshots: list[ModelPatch] = field(default_factory=list)  # shapes are SnapshotShape
    entities: list[Entity] = field(default_factory=list)
    feature_views: list[FeatureView] = field(default_factory=list)
    unit_tests: list[tuple[UnitTestShape, SourceLocation]] = field(default_factory=list)
    kept: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # KEPT_AS_WRITTEN, by key


def parse_schema_file(data: Any, file: str, project: str, root_dir: str) -> SchemaFile:
    """Validate one loaded YAML document and turn it into declarations."""
    result = SchemaFile(file)
    if not isinstance(data, LineDict):
        raise YamlError("expected a mapping of declarations (sources:, models:, ...)", SourceLocation(file, 1))
    validate_shape(SchemaFileShape, data, file)
    for index, raw in enumerate(data.get("sources", [])):
        source = validate_shape(SourceShape, raw, file, ("sources", index))
        result.sources.extend(_source_tables(source, raw, file, project, root_dir))
    for index, raw in enumerate(data.get("models", [])):
        shape = validate_shape(ModelShape, raw, file, ("models", index))
        result.model_patches.append(ModelPatch(shape, SourceLocation(file, _line(raw))))
    for index, raw in enumerate(data.get("snapshots", [])):
        snapshot = validate_shape(SnapshotShape, raw, file, ("snapshots", index))
        result.snapshots.append(ModelPatch(snapshot, SourceLocation(file, _line(raw))))
    for index, raw in enumerate(data.get("seeds", [])):
        seed = validate_shape(SeedShape, raw, file, ("seeds", index))
        result.seed_patches.append((seed, SourceLocation(file, _line(raw))))
    for key in KEPT_AS_WRITTEN:
        for index, raw in enumerate(data.get(key) or []):
            if not isinstance(raw, dict) or "name" not in raw:
                raise YamlError(f"'{key}.{index}' must be a mapping with a name", SourceLocation(file, _line(raw) or _line(data)))
            result.kept.setdefault(key, []).append({**raw, "original_file_path": file})
    for index, raw in enumerate(data.get("unit_tests", [])):
        unit = validate_shape(UnitTestShape, raw, file, ("unit_tests", index))
        result.unit_tests.append((unit, SourceLocation(file, _line(raw))))
    for index, raw in enumerate(data.get("entities", [])):
        entity = validate_shape(EntityShape, raw, file, ("entities", index))
        result.entities.append(Entity(entity.name, entity.join_keys, SourceLocation(file, _line(raw)), entity.description))
    for index, raw in enumerate(data.get("feature_views", [])):
        view = validate_shape(FeatureViewShape, raw, file, ("feature_views", index))
        location = SourceLocation(file, _line(raw))
        try:
            ttl = parse_duration(view.ttl) if view.ttl is not None else None
        except ValueError as err:
            raise YamlError(f"'feature_views.{index}.ttl': {err}", SourceLocation(file, raw.line_of("ttl"))) from None
        if (view.model is None) == (view.source is None):
            raise YamlError(f"feature view '{view.name}' names " + ("both a model and a source" if view.model else "no model"), location,
                            "give `model: <model>`, or `source: <source>.<table>` for a stream source")
        named = view.source.split(".") if view.source else None
        if named is not None and len(named) != 2:
            raise YamlError(f"feature view '{view.name}': source '{view.source}' is not `<source>.<table>`",
                            SourceLocation(file, raw.line_of("source")))
        result.feature_views.append(FeatureView(
            view.name, view.entity, view.model, view.timestamp_field,
            [
                Feature(f.name, f.dtype, f.description, SourceLocation(file, _line(raw["features"][i]) or location.line))
                for i, f in enumerate(view.features)
            ],
            location,
            ttl, view.online, view.version, view.freshness, view.description, view.tags,
            (named[0], named[1]) if named else None, view.stream,
        ))
    return result


def _source_tables(source: SourceShape, raw: LineDict, file: str, project: str, root_dir: str) -> list[SourceTable]:
    if source.type in DATABASE_SOURCES and not isinstance(source.connection, str):
        raise YamlError(f"source '{source.name}' of type {source.type} has no connection string", SourceLocation(file, _line(raw)),
                        "add `connection: \"{{ env_var('APP_DSN') }}\"`")
    if source.cdc and source.type != "postgres":
        raise YamlError(f"source '{source.name}': cdc reads a Postgres replication slot: it is for sources of type postgres",
                        SourceLocation(file, raw.line_of("cdc")))
    if source.type not in STREAM_SOURCES and isinstance(source.connection, dict):
        raise YamlError(f"source '{source.name}': a connection mapping is for kafka sources; a {source.type or 'files'} source takes "
                        "a connection string", SourceLocation(file, raw.line_of("connection")))
    tables = []
    raw_tables: LineList = raw.get("tables", LineList())
    for index, table in enumerate(source.tables):
        line = raw_tables.item_lines[index] if index < len(raw_tables) else _line(raw)
        location = SourceLocation(file, line)
        if source.type in STREAM_SOURCES or source.cdc:
            tables.append(_stream_table(source, table, raw, file, project, location, root_dir))
            continue
        if isinstance(table.columns, dict):
            raise YamlError(f"source table '{source.name}.{table.name}': columns are a list of `- name:` entries (a mapping of "
                            "name to type is for stream sources)", location)
        if table.topic is not None or table.key is not None:
            raise YamlError(f"source table '{source.name}.{table.name}': topic and key are for stream sources (`type: kafka`)", location)
        fmt: str | None = table.format
        path = table.path if table.path is not None else _external_location(source, table, location)
        if path is not None and fmt is None:
            fmt = _format_from_path(path, location)
        if fmt in FILE_FORMATS and path is None:
            raise YamlError(f"source table '{source.name}.{table.name}' has format '{fmt}' but no path", location)
        if source.type in DATABASE_SOURCES and (path is not None or fmt is not None):
            raise YamlError(f"source table '{source.name}.{table.name}' is in a {source.type} database: it takes no path or format",
                            location)
        versioned = fmt in TIME_TRAVEL_FORMATS or source.type == "ducklake"
        if (table.version is not None or table.as_of is not None) and not versioned:
            raise YamlError(f"source table '{source.name}.{table.name}': version and as_of choose a version of a "
                            f"{', '.join(TIME_TRAVEL_FORMATS)} or ducklake table, not of {fmt or 'a database table'}", location)
        if table.version is not None and table.as_of is not None:
            raise YamlError(f"source table '{source.name}.{table.name}' gives both version and as_of: choose one", location)
        timestamp_field = table.timestamp_field or table.loaded_at_field or source.loaded_at_field
        if table.incremental and not timestamp_field:
            raise YamlError(f"source table '{source.name}.{table.name}' is incremental but has no timestamp_field", location,
                            "name the column that stamps each row, e.g. `timestamp_field: updated_at`")
        tables.append(
            SourceTable(
                source_name=source.name,
                name=table.name,
                project=project,
                location=location,
                identifier=table.identifier or table.name,
                schema=source.schema_ or source.name,
                database=source.database,
                source_type=source.type or "files",
                connection=source.connection if isinstance(source.connection, str) else None,
                connection_location=SourceLocation(file, raw.line_of("connection")) if source.connection else None,
                format=fmt,
                path=path,
                options=table.options,
                version=table.version,
                as_of=table.as_of.isoformat(sep=" ") if table.as_of else None,
                description=table.description,
                columns={c.name: c.to_column() for c in table.columns if isinstance(c, ColumnShape)},  # a list here (checked above)
                timestamp_field=timestamp_field,
                incremental=table.incremental,
                # a table's own `freshness: null` turns its source's SLA off, as in dbt
                freshness=table.freshness if "freshness" in table.model_fields_set else source.freshness,
                tests=[*table.tests, *table.data_tests],
                meta={**source.meta, **table.meta},
                tags=[*source.tags, *table.tags],
            )
        )
    return tables


def _stream_table(source: SourceShape, table: SourceTableShape, raw: LineDict, file: str, project: str,
                  location: SourceLocation, root_dir: str) -> SourceTable:
    """A table of a kafka source (its topic's messages decoded into typed columns, or
    with format debezium the changes they carry), or of a postgres source with `cdc`
    (its changes, from a replication slot): `fduck stream` lands it in `<source>.<table>`
    of the target (appended, or a mirror the changes are applied to)."""
    name = f"{source.name}.{table.name}"
    connection_line = SourceLocation(file, raw.line_of("connection"))
    if source.cdc:
        if table.format is not None or table.topic is not None:
            raise YamlError(f"source table '{name}' mirrors a Postgres table: it takes no format or topic", location)
        remote = f"{source.schema_ or 'public'}.{table.identifier or table.name}"
        slot = source.slot or re.sub(r"[^a-z0-9_]", "_", f"featureduck_{project}_{source.name}".lower())[:63]
        spec = StreamSpec(remote, "wal2json", (), {"slot": slot}, connection_line, "postgres", str(source.connection))
    else:
        settings = source.connection if isinstance(source.connection, dict) else {}
        if not settings.get("bootstrap_servers"):
            raise YamlError(f"source '{source.name}' of type kafka has no connection.bootstrap_servers", SourceLocation(file, _line(raw)),
                            "add `connection: {bootstrap_servers: \"{{ env_var('KAFKA_BOOTSTRAP') }}\"}`")
        fmt = table.format or "json"
        if fmt not in MESSAGE_FORMATS:
            raise YamlError(f"source table '{name}': messages in format '{fmt}' cannot be read yet", location,
                            "the message formats read are: " + ", ".join(MESSAGE_FORMATS))
        if fmt == "avro" and not (table.avro_schema or table.schema_registry):
            raise YamlError(f"source table '{name}' reads Avro messages: give their schema", location,
                            "`avro_schema: schemas/events.avsc`, or `schema_registry: \"{{ env_var('SCHEMA_REGISTRY_URL') }}\"` "
                            "for messages in Confluent's framing")
        if fmt != "avro" and (table.avro_schema or table.schema_registry):
            raise YamlError(f"source table '{name}': avro_schema and schema_registry are for `format: avro`", location)
        if table.avro_schema and not (Path(root_dir) / table.avro_schema).is_file():
            raise YamlError(f"source table '{name}': avro_schema {table.avro_schema} is not a file", location)
        spec = StreamSpec(table.topic or table.name, fmt, (), dict(settings), connection_line,
                          avro_schema=table.avro_schema, schema_registry=table.schema_registry)
    if table.path is not None or table.version is not None or table.as_of is not None:
        raise YamlError(f"source table '{name}' is a stream: it takes a topic, not a path, version or as_of", location)
    _check_stream_options(name, spec.format, table.options, location)
    written = table.columns if isinstance(table.columns, dict) else {c.name: c.data_type for c in table.columns}
    untyped = [column for column, kind in written.items() if not kind]
    if not written or untyped:
        raise YamlError(f"source table '{name}': " + (f"column '{untyped[0]}' has no type" if untyped else "declares no columns"),
                        location, "a stream's messages are decoded into typed columns: `columns: {user_id: bigint, amount: double}`")
    key = [table.key] if isinstance(table.key, str) else list(table.key or [])
    for column in key:
        if column not in written:
            raise YamlError(f"source table '{name}': key column '{column}' is not among its columns", location)
    if spec.mirrors and not key:
        raise YamlError(f"source table '{name}' mirrors a table's changes: it needs its primary key", location,
                        "name it: `key: [id]`")
    stamped = CHANGE_TIMESTAMP if spec.mirrors else MESSAGE_TIMESTAMP
    timestamp_field = table.timestamp_field or stamped
    if timestamp_field != stamped and timestamp_field not in written:
        raise YamlError(f"source table '{name}': timestamp_field '{timestamp_field}' is not among its columns", location,
                        f"omit it to stamp rows with the time of their message or change ({stamped})")
    if isinstance(table.columns, dict):
        columns = {column: ColumnDef(column, data_type=str(kind)) for column, kind in written.items()}
    else:
        columns = {c.name: c.to_column() for c in table.columns}
    return SourceTable(
        source_name=source.name, name=table.name, project=project, location=location,
        # a mirror of a Postgres table lies in the target under the source's name (`schema:` names the table's own)
        identifier=table.identifier or table.name, schema=source.name if source.cdc else source.schema_ or source.name,
        database=None if source.cdc else source.database,
        source_type=str(source.type), description=table.description, columns=columns, timestamp_field=timestamp_field,
        incremental=table.incremental,
        freshness=table.freshness if "freshness" in table.model_fields_set else source.freshness,
        tests=[*table.tests, *table.data_tests], meta={**source.meta, **table.meta}, tags=[*source.tags, *table.tags],
        stream=dataclasses.replace(spec, key=tuple(key)), options=table.options,
    )


def _check_stream_options(name: str, fmt: str, options: dict[str, Any], location: SourceLocation) -> None:
    """A stream table's `options:` are its decoding's (streams.decode): one it does not
    read, or a value it does not know, is an error, never ignored."""
    known = STREAM_OPTIONS.get(fmt, {})
    for option, value in options.items():
        if option not in known:
            raise YamlError(f"source table '{name}': option '{option}' is not read for format {fmt}", location,
                            ("its options are: " + ", ".join(known)) if known else f"format {fmt} takes no options")
        allowed = known[option]
        if allowed is str and not isinstance(value, str) or isinstance(allowed, tuple) and value not in allowed:
            raise YamlError(f"source table '{name}': option {option} is {value!r}", location,
                            "give " + (" or ".join(allowed) if isinstance(allowed, tuple) else "a text"))


def _external_location(source: SourceShape, table: SourceTableShape, location: SourceLocation) -> str | None:
    """dbt-duckdb's `meta: {external_location: ...}` (the table's, else its source's, with
    `{name}` and `{identifier}` filled in): the table is that file. A reader call in it
    (`read_csv(...)`) is an error: write the file's path and `options:` instead."""
    written = (table.meta.get("external_location") or table.config.get("external_location")
               or source.meta.get("external_location") or source.config.get("external_location"))
    if written is None:
        return None
    text = str(written)
    if "(" in text:
        raise YamlError(f"source table '{source.name}.{table.name}': external_location {text!r} is a reader call", location,
                        "give the file's path as external_location (its format from the suffix) and its reader's options "
                        "under `options:`")
    try:
        return text.format(name=table.name, identifier=table.identifier or table.name)
    except (KeyError, IndexError, ValueError) as err:
        raise YamlError(f"source table '{source.name}.{table.name}': external_location {text!r} names {err}, "
                        "not {name} or {identifier}", location) from None


def _format_from_path(path: str, location: SourceLocation) -> str:
    lowered = path.lower().rstrip("*/")
    for fmt, suffixes in (("parquet", (".parquet",)), ("csv", (".csv", ".csv.gz", ".tsv")), ("json", (".json", ".jsonl", ".ndjson"))):
        if lowered.endswith(suffixes):
            return fmt
    raise YamlError(f"cannot tell the format of '{path}'", location, "add `format: parquet|csv|json`")


def _line(raw: Any) -> int | None:
    return getattr(raw, "line", None)
