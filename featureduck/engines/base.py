"""The interface every engine adapter implements, and the DDL they share.

Statements around a model's query (CREATE, MERGE, ALTER ... RENAME) are
sqlglot expressions generated in the engine's dialect. The model's own query
is already target SQL produced by the compiler; it is attached to a generated
statement head rather than parsed a second time on the run's hot path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from sqlglot import exp

from featureduck.config.profiles import TargetConfig

RelationKind = str  # "table" | "view" | "materialized_view"


class EngineAdapter(ABC):
    """Primitives a materialization strategy composes; flags say what degrades."""

    TYPE: ClassVar[str]
    DIALECT: ClassVar[str]
    SUPPORTS_MATERIALIZED_VIEWS: ClassVar[bool] = False
    SUPPORTS_MERGE: ClassVar[bool] = False
    SUPPORTS_TRANSACTIONS: ClassVar[bool] = False

    def __init__(self, target: TargetConfig) -> None:
        self.target = target

    # --- connection --------------------------------------------------------------------

    @abstractmethod
    def open(self) -> None:
        """Connect; raises ConnectionFailure with a clear reason."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def execute(self, sql: str | exp.Expression, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's cursor and fetch its rows."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""

    # --- catalog -----------------------------------------------------------------------

    @abstractmethod
    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        """'table', 'view' or None when the relation does not exist."""

    @abstractmethod
    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        """(name, type) of a relation's columns, in order."""

    # --- DDL and DML built from sqlglot expressions ------------------------------------

    def sql(self, expression: exp.Expression) -> str:
        return expression.sql(dialect=self.DIALECT)

    def create_schema(self, schema: str, database: str | None = None) -> None:
        target = exp.Table(db=exp.to_identifier(schema), catalog=exp.to_identifier(database) if database else None)
        self.execute(exp.Create(this=target, kind="SCHEMA", exists=True))

    def create_view(self, table: exp.Table, query_sql: str) -> None:
        head = exp.Create(this=table, kind="VIEW", replace=True)
        self.execute(f"{self.sql(head)} AS\n{query_sql}")

    def create_table_as(self, table: exp.Table, query_sql: str, temporary: bool = False) -> int | None:
        properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
        head = exp.Create(this=table, kind="TABLE", properties=properties)
        rows = self.execute(f"{self.sql(head)} AS\n{query_sql}")
        return _count(rows)

    def drop(self, table: exp.Table, kind: RelationKind) -> None:
        materialized = kind == "materialized_view"
        self.execute(exp.Drop(tables=[table], kind="VIEW" if materialized else kind.upper(), materialized=materialized, exists=True))

    def rename(self, table: exp.Table, new_identifier: str) -> None:
        action = exp.AlterRename(this=exp.Table(this=exp.to_identifier(new_identifier)))
        self.execute(exp.Alter(this=table, kind="TABLE", actions=[action]))

    def insert_by_name(self, target: exp.Table, source: exp.Table, columns: list[str]) -> int | None:
        select = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(source)
        insert = exp.Insert(this=exp.Schema(this=target, expressions=[exp.to_identifier(c, quoted=True) for c in columns]), expression=select)
        return _count(self.execute(insert))

    def delete_matching(self, target: exp.Table, source: exp.Table, keys: list[str]) -> int | None:
        """Delete target rows whose key appears in source (delete+insert, merge emulation)."""
        key_tuple = exp.Tuple(expressions=[exp.column(k, quoted=True) for k in keys])
        subquery = exp.select(*[exp.column(k, quoted=True) for k in keys]).from_(source)
        condition = exp.In(this=key_tuple if len(keys) > 1 else exp.column(keys[0], quoted=True), query=exp.Subquery(this=subquery))
        return _count(self.execute(exp.Delete(this=target, where=exp.Where(this=condition))))

    def merge(self, target: exp.Table, source: exp.Table, keys: list[str], columns: list[str]) -> int | None:
        """MERGE on `keys`: update matched rows, insert new ones."""
        t, s = "__fduck_t", "__fduck_s"
        on = exp.and_(*[exp.column(k, t, quoted=True).eq(exp.column(k, s, quoted=True)) for k in keys])
        updates = [
            exp.EQ(this=exp.column(c, quoted=True), expression=exp.column(c, s, quoted=True)) for c in columns if c not in keys
        ]
        insert = exp.Insert(
            this=exp.Tuple(expressions=[exp.column(c, quoted=True) for c in columns]),
            expression=exp.Tuple(expressions=[exp.column(c, s, quoted=True) for c in columns]),
        )
        whens = []
        if updates:
            whens.append(exp.When(matched=True, then=exp.Update(expressions=updates)))
        whens.append(exp.When(matched=False, then=insert))
        merge = exp.Merge(
            this=_aliased(target, t),
            using=_aliased(source, s),
            on=on,
            whens=exp.Whens(expressions=whens),
        )
        return _count(self.execute(merge))


def _aliased(table: exp.Table, alias: str) -> exp.Table:
    copy = table.copy()
    copy.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return copy


def _count(rows: list[tuple[Any, ...]]) -> int | None:
    if rows and len(rows[0]) == 1 and isinstance(rows[0][0], int):
        return int(rows[0][0])
    return None
