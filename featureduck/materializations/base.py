"""The strategy interface and the table swap every rebuild shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from featureduck.compiler.compile import CompiledModel
from featureduck.compiler.relations import Relation
from featureduck.engines.base import EngineAdapter

TEMP_SUFFIX = "__fduck_tmp"


@dataclass
class BuildContext:
    adapter: EngineAdapter
    full_refresh: bool
    # Render and compile the model again with is_incremental() answering the flag.
    recompile: Callable[[bool], CompiledModel]


@dataclass
class BuildOutcome:
    rows_affected: int | None
    message: str
    sql: str  # the model query actually sent to the engine


class Materialization(ABC):
    name: ClassVar[str]

    @abstractmethod
    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome: ...


def replace_table(adapter: EngineAdapter, relation: Relation, query_sql: str) -> int | None:
    """Build under a temporary name and swap in, all in one transaction.

    A failure anywhere rolls back, so the previous table (or view) stays.
    """
    table = relation.to_table()
    temp = relation.with_identifier(relation.identifier + TEMP_SUFFIX).to_table()
    adapter.create_schema(relation.schema, relation.database)
    existing = adapter.relation_kind(table)
    with adapter.transaction():
        adapter.drop(temp, "table")
        rows = adapter.create_table_as(temp, query_sql)
        if existing is not None:
            adapter.drop(table, existing)
        adapter.rename(temp, relation.identifier)
    return rows
