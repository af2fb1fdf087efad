"""The strategy interface and the table swap every rebuild shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from featureduck.compiler.compile import CompiledModel
from featureduck.compiler.relations import Relation
from featureduck.engines.base import ColumnCheck, EngineAdapter


@dataclass
class BuildContext:
    adapter: EngineAdapter
    full_refresh: bool
    # Render and compile the model again with is_incremental() answering the flag.
    recompile: Callable[[bool], CompiledModel]
    # Checksum of the SQL the model was last built from (state store), if any.
    previous_checksum: str | None = None
    # Checks the new relation's columns before it replaces the previous one (feature dtypes).
    check: ColumnCheck | None = None


@dataclass
class BuildOutcome:
    rows_affected: int | None
    message: str
    sql: str  # the model query actually sent to the engine


class Materialization(ABC):
    name: ClassVar[str]

    @abstractmethod
    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome: ...


def replace_table(adapter: EngineAdapter, relation: Relation, query_sql: str, check: ColumnCheck | None) -> int | None:
    """Rebuild a table atomically; a failure leaves the previous relation in place."""
    adapter.create_schema(relation.schema, relation.database)
    return adapter.replace_table(relation.to_table(), query_sql, check)
