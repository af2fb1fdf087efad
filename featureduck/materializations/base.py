"""The strategy interface and the table swap every rebuild shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from featureduck.compiler.compile import CompiledModel
from featureduck.compiler.relations import Relation
from featureduck.engines.base import ColumnCheck, EngineAdapter
from featureduck.project.nodes import SourceTable

if TYPE_CHECKING:
    from sqlglot import exp


class SourceIncrement(Protocol):
    """The rows of one incremental source a build reads (featureduck.sources.watermarks)."""

    table: SourceTable

    def take(self) -> exp.Table:
        """Snapshot the rows to read; the relation the model reads instead of the source."""

    def advance(self) -> list[exp.Expr]:
        """Statements moving the watermark, run in the transaction that commits the model."""

    def discard(self) -> None:
        """Drop the snapshot."""


def _no_increments(full: bool) -> Sequence[SourceIncrement]:
    return []


@dataclass
class BuildContext:
    adapter: EngineAdapter
    full_refresh: bool
    # Render and compile the model again with is_incremental() answering the flag,
    # reading the sources keyed in the mapping from the relations given.
    recompile: Callable[[bool, dict[tuple[str, str], exp.Table] | None], CompiledModel]
    # Checksum of the SQL the model was last built from (state store), if any.
    previous_checksum: str | None = None
    # Checks the new relation's columns before it replaces the previous one (feature dtypes).
    check: ColumnCheck | None = None
    # The incremental sources the model reads, for a full build (True) or an incremental one.
    source_increments: Callable[[bool], Sequence[SourceIncrement]] = _no_increments


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
