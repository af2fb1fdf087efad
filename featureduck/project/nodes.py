"""The declared resources of a project, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from featureduck.errors import SourceLocation

FILE_FORMATS = ("parquet", "csv", "json")
# Reader table functions per file format, in DuckDB SQL.
FILE_READERS = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}


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
    format: str | None = None
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    timestamp_field: str | None = None
    incremental: bool = False
    freshness: Any = None
    tests: list[Any] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    @property
    def unique_id(self) -> str:
        return f"source.{self.project}.{self.source_name}.{self.name}"

    @property
    def is_file(self) -> bool:
        return self.path is not None

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
        }


@dataclass
class Model:
    """A SQL model file plus what YAML says about it (before rendering)."""

    name: str
    project: str
    path: str  # relative to the project root, forward slashes
    raw_sql: str
    checksum: str
    folder_config: dict[str, Any] = field(default_factory=dict)
    yaml_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    tests: list[Any] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    patch_file: str | None = None

    @property
    def unique_id(self) -> str:
        return f"model.{self.project}.{self.name}"
