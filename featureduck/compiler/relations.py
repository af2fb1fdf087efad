"""Logical names (model, source, this) to physical relations for a target."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

    def sql(self, dialect: str) -> str:
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


def source_expression(table: SourceTable, project_root: Path, target_dialect: str) -> exp.Expr:
    """What `source()` becomes: a reader call for files, else the table."""
    from sqlglot import exp

    if not table.is_file:
        return Relation(table.schema, table.identifier, table.database).to_table()
    assert table.format is not None and table.path is not None
    if table.format not in FILE_READERS:
        raise UnsupportedSqlError(f"source format '{table.format}' of '{table.source_name}.{table.name}' is not supported yet")
    if target_dialect != "duckdb" and not (target_dialect == "spark" and table.format == "parquet"):
        raise UnsupportedSqlError(
            f"source '{table.source_name}.{table.name}' reads {table.format} files, which a {target_dialect} target cannot read in place",
            hint="load the data into the target database and declare the source without `path`",
        )
    path = Path(table.path)
    location = str(path if path.is_absolute() else project_root / path)
    args: list[exp.Expr] = [exp.Literal.string(location)]
    args += [exp.EQ(this=exp.column(key), expression=exp.convert(value)) for key, value in table.options.items()]
    reader = exp.func(FILE_READERS[table.format], *args, dialect="duckdb")
    return exp.Table(this=reader, alias=exp.TableAlias(this=exp.to_identifier(table.name)))


def ephemeral_cte_name(model_name: str) -> str:
    return EPHEMERAL_CTE_PREFIX + model_name
