"""The declared resources of a project, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from featureduck.errors import SourceLocation
from featureduck.project.ids import NodeId, NodeKind

FILE_FORMATS = ("parquet", "csv", "json", "delta", "iceberg", "hudi")
# Reader table functions per file format, in DuckDB SQL; hudi has none (the hudi package reads it).
FILE_READERS = {
    "parquet": "read_parquet", "csv": "read_csv", "json": "read_json", "delta": "delta_scan", "iceberg": "iceberg_scan",
}
# The DuckDB extension a reader needs (its pip wheel: featureduck[delta], [iceberg]).
READER_EXTENSIONS = {"delta": "delta", "iceberg": "iceberg"}
# Formats whose table versions can be chosen: `version:` or `as_of:`.
TIME_TRAVEL_FORMATS = ("delta", "iceberg", "hudi")
DATABASE_SOURCES = ("postgres", "mysql", "ducklake")
STREAM_SOURCES = ("kafka",)
MESSAGE_FORMATS = ("json", "avro", "debezium")  # what a kafka source's messages are: project.schema_files checks it
# formats whose messages are changes to a table: applied to a mirror of it (streams.mirror), not appended
CHANGE_FORMATS = ("debezium", "wal2json")
# the `options:` a stream table's format reads (streams.decode), each with its values (str: any text)
STREAM_OPTIONS: dict[str, dict[str, type | tuple[str, ...]]] = {
    "debezium": {"timestamp_unit": ("microseconds", "milliseconds"), "unavailable_value_placeholder": str,
                 "decimal_handling": ("precise", "string", "double"), "binary_handling": ("bytes", "base64", "base64-url-safe", "hex")},
}
# the landing table's columns beside the declared ones: where each message came from
KAFKA_COLUMNS = (("_kafka_partition", "INTEGER"), ("_kafka_offset", "BIGINT"), ("_kafka_timestamp", "TIMESTAMP"))
MESSAGE_TIMESTAMP = "_kafka_timestamp"
# a mirror's columns beside the declared ones: the last change applied to each row
MIRROR_COLUMNS = (("_cdc_op", "VARCHAR"), ("_cdc_lsn", "BIGINT"), ("_cdc_updated_at", "TIMESTAMP"))
CHANGE_TIMESTAMP = "_cdc_updated_at"


@dataclass
class ColumnDef:
    name: str
    description: str = ""
    data_type: str | None = None
    tests: list[Any] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "data_type": self.data_type,
            "tests": self.tests,
            "meta": self.meta,
        }


@dataclass(frozen=True)
class StreamSpec:
    """What a stream source table consumes: a Kafka topic of messages in one format,
    each message a row of the declared columns (json) or a change to one (debezium);
    or (kind postgres) a Postgres table's changes, read from a logical replication slot."""

    topic: str  # the Kafka topic; for kind postgres, the table it mirrors, `schema.table`
    format: str  # MESSAGE_FORMATS, or wal2json for kind postgres
    key: tuple[str, ...]
    settings: dict[str, Any]  # as written (env_var() unrendered): the Kafka client's; for postgres, the slot's name
    settings_location: SourceLocation
    kind: str = "kafka"  # kafka | postgres
    connection: str | None = None  # kind postgres: the database's connection string, as written
    avro_schema: str | None = None  # format avro: the writer schema's .avsc file, relative to the project
    schema_registry: str | None = None  # format avro: a Confluent schema registry's URL, as written (env_var() unrendered)

    @property
    def mirrors(self) -> bool:
        """Its messages are changes: the table holds the source table's current rows."""
        return self.format in CHANGE_FORMATS

    @property
    def extra_columns(self) -> tuple[tuple[str, str], ...]:
        """The columns its table holds beside the declared ones."""
        return MIRROR_COLUMNS if self.mirrors else KAFKA_COLUMNS


@dataclass
class SourceTable:
    """One table of a source: in the target database, or files read in place."""

    source_name: str
    name: str
    project: str
    location: SourceLocation
    identifier: str
    schema: str
    database: str | None = None
    source_type: str = "files"
    connection: str | None = None  # postgres and mysql sources: as written, env_var() unrendered
    connection_location: SourceLocation | None = None
    format: str | None = None
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # a table version (delta) or snapshot id (iceberg) to read
    as_of: str | None = None  # or the version current at this time (ISO text)
    description: str = ""
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    timestamp_field: str | None = None
    incremental: bool = False
    freshness: Any = None
    tests: list[Any] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    stream: StreamSpec | None = None  # a stream source: `fduck stream` lands its messages in this table

    @property
    def unique_id(self) -> str:
        return str(NodeId("source", self.project, f"{self.source_name}.{self.name}"))

    @property
    def is_file(self) -> bool:
        return self.path is not None

    @property
    def is_database(self) -> bool:
        """A table in another database server, read through a DuckDB scanner (a table
        whose changes are captured is read where they are applied, in the target)."""
        return self.source_type in DATABASE_SOURCES and self.stream is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "resource_type": "source",
            "source_name": self.source_name,
            "name": self.name,
            "identifier": self.identifier,
            "schema": self.schema,
            "database": self.database,
            "type": self.source_type,
            "format": self.format,
            "path": self.path,
            "description": self.description,
            "columns": {n: c.to_dict() for n, c in self.columns.items()},
            "timestamp_field": self.timestamp_field,
            "incremental": self.incremental,
            "freshness": self.freshness,
            "tests": self.tests,
            "tags": self.tags,
            "meta": self.meta,
            "original_file_path": self.location.file,
            **({"topic": self.stream.topic, "message_format": self.stream.format, "key": list(self.stream.key)} if self.stream else {}),
        }


@dataclass
class Model:
    """A SQL model file plus what YAML says about it (before rendering); a dbt snapshot
    is one too, of resource type `snapshot`: it is compiled, ordered and selected as a model."""

    name: str
    project: str
    path: str  # relative to the project root, forward slashes
    raw_sql: str
    checksum: str
    folder_config: dict[str, Any] = field(default_factory=dict)
    folder_lines: dict[str, int] = field(default_factory=dict)  # the project file's line of each folder config
    yaml_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    tests: list[Any] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    patch_file: str | None = None
    resource_type: NodeKind = "model"  # or "snapshot"

    @property
    def unique_id(self) -> str:
        return str(NodeId(self.resource_type, self.project, self.name))


@dataclass
class Seed:
    """A CSV file in the seed paths, loaded into a table by `fduck seed`; models ref it."""

    name: str
    project: str
    path: str  # relative to the project root
    config: dict[str, Any] = field(default_factory=dict)  # column_types, schema, alias, delimiter, enabled
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    description: str = ""
    patch_file: str | None = None

    @property
    def unique_id(self) -> str:
        return str(NodeId("seed", self.project, self.name))


@dataclass
class UnitInput:
    """One `given:` of a unit test: what stands in for a ref, a source or `this`.
    `rows` are dicts (formats dict and csv, parsed at load) or SQL text (format sql)."""

    input: str  # as written: ref('x'), source('s', 't') or this
    kind: str  # ref | source | this
    name: str  # the ref's name, "source.table", or the model's own name for `this`
    rows: list[dict[str, Any]] | str
    format: str  # dict | csv | sql


@dataclass
class UnitTest:
    """dbt 1.8's unit test: the model's SQL run over given rows, compared to expected rows."""

    name: str
    project: str
    model: str
    given: list[UnitInput]
    expect: list[dict[str, Any]] | str  # rows, or SQL text (format sql)
    location: SourceLocation
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # vars, macros, env_vars
    config: dict[str, Any] = field(default_factory=dict)  # tags, enabled
    description: str = ""

    @property
    def unique_id(self) -> str:
        return f"unit_test.{self.project}.{self.model}.{self.name}"


@dataclass
class Entity:
    """What features describe: a user, a merchant; identified by its join keys."""

    name: str
    join_keys: list[str]
    location: SourceLocation
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "join_keys": self.join_keys, "description": self.description}


@dataclass
class Feature:
    name: str
    dtype: str | None = None  # a SQL type name in the project's dialect
    description: str = ""
    location: SourceLocation | None = None


def online_table(view: str, version: int) -> str:
    """The table (or LMDB database) a view version is kept in online: `online_<view>`;
    versions after the first apart, as `online_<view>_v<n>`. Two views whose names
    give one table are refused when the project loads."""
    return f"online_{view}" if version == 1 else f"online_{view}_v{version}"


@dataclass
class FeatureView:
    """Features of an entity computed by a model (or read from a stream source's
    landing table), stamped by `timestamp_field`."""

    name: str
    entity: str
    model: str | None  # exactly one of model and source
    timestamp_field: str
    features: list[Feature]
    location: SourceLocation
    ttl_seconds: int | None = None
    online: bool = False
    version: int = 1
    freshness: Any = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    source: tuple[str, str] | None = None  # (source, table) of a stream source
    stream: bool = False  # `fduck stream` writes it online as messages arrive

    @property
    def key(self) -> str:
        """`name@version`: versions of one view live side by side."""
        return f"{self.name}@{self.version}"

    @property
    def online_table(self) -> str:
        return online_table(self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "entity": self.entity,
            "model": self.model,
            "source": ".".join(self.source) if self.source else None,
            "stream": self.stream,
            "timestamp_field": self.timestamp_field,
            "ttl_seconds": self.ttl_seconds,
            "online": self.online,
            "freshness": self.freshness,
            "features": [{"name": f.name, "dtype": f.dtype, "description": f.description} for f in self.features],
            "description": self.description,
            "tags": self.tags,
            "original_file_path": self.location.file,
        }
