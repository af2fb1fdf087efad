"""A stream source's tables in the target: the landing table its rows append to, and
the dead-letter table beside it (`<table>__dead_letters`) for messages that could not
be read. Both are made on the first batch; a column declared later is added; a column
whose declared type no longer matches the table is an error naming the YAML file,
never a silent cast of new rows into the old type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import StreamError
from featureduck.project.nodes import SourceTable
from featureduck.streams.decode import DEAD_LETTER_COLUMNS, Column, landing_columns

DEAD_LETTER_SUFFIX = "__dead_letters"


STAGING_SUFFIX = "__cdc_batch"


@dataclass(frozen=True)
class LandingTables:
    rows: exp.Table  # appended to, or (changes) the mirror
    dead_letters: exp.Table
    columns: list[Column]
    staging: exp.Table  # a mirror's: where a batch's changes wait to be applied


def landing_tables(table: SourceTable, dialect: str) -> LandingTables:
    def named(identifier: str) -> exp.Table:
        return exp.Table(this=exp.to_identifier(identifier), db=exp.to_identifier(table.schema),
                         catalog=exp.to_identifier(table.database) if table.database else None)

    return LandingTables(named(table.identifier), named(table.identifier + DEAD_LETTER_SUFFIX), landing_columns(table, dialect),
                         named(table.identifier + STAGING_SUFFIX))


def ensure_landing(adapter: EngineAdapter, table: SourceTable, tables: LandingTables) -> None:
    adapter.create_schema(table.schema, table.database)
    dead = [Column(n, exp.DataType.build(t)) for n, t in DEAD_LETTER_COLUMNS]
    made = [(tables.rows, tables.columns), (tables.dead_letters, dead)]
    if table.stream is not None and table.stream.mirrors:  # the changes of a batch pass through it (streams.mirror)
        made.append((tables.staging, tables.columns))
    for relation, columns in made:
        existing = {name.lower(): kind for name, kind in adapter.columns(relation)} if adapter.relation_kind(relation) else None
        if existing is None:
            definitions = [exp.ColumnDef(this=exp.to_identifier(c.name, quoted=True), kind=c.type.copy()) for c in columns]
            adapter.execute(exp.Create(this=exp.Schema(this=relation.copy(), expressions=definitions), kind="TABLE", exists=True))
            adapter.remember(relation, "table")
            continue
        for column in columns:
            kind = existing.get(column.name.lower())
            if kind is None:
                adapter.add_column(relation, column.name, column.type.sql(adapter.traits.dialect))
            elif not _same_type(kind, column.type, adapter.traits.dialect):
                raise StreamError(
                    f"stream source '{table.source_name}.{table.name}': column '{column.name}' is declared "
                    f"{column.type.sql(adapter.traits.dialect)}, but {adapter.sql(relation)} holds it as {kind}", table.location,
                    "land it under a new identifier, or alter the table's column yourself",
                )


def _same_type(held: str, declared: exp.DataType, dialect: str) -> bool:
    try:
        return exp.DataType.build(held, dialect=dialect) == exp.DataType.build(declared.sql(dialect), dialect=dialect)
    except Exception:  # noqa: BLE001 - a type sqlglot cannot read is compared as text
        return held.lower() == declared.sql(dialect).lower()
