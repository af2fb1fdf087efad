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


class IncrementReader(Protocol):
    """What the incremental sources a model reads hold beyond their watermarks."""

    def increments(self, model: CompiledModel, full: bool) -> Sequence[SourceIncrement]:
        """For a full build (True) or an incremental one."""


def no_increments(full: bool) -> Sequence[SourceIncrement]:
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
    source_increments: Callable[[bool], Sequence[SourceIncrement]] = no_increments


@dataclass
class BuildOutcome:
    rows_affected: int | None
    message: str
    sql: str  # the model query actually sent to the engine


class Materialization(ABC):
    """A way to build a model. Each strategy says what the rest of fduck asks of it, so
    a new one cannot silently miss backups, the run cache or validation."""

    name: ClassVar[str]
    # False: nothing is built; the compiler inlines the model into its dependents
    builds_relation: ClassVar[bool]
    # its relation holds rows (backups snapshot it); else it reads its inputs when queried
    table_like: ClassVar[bool]
    # False: always built, never skipped as unchanged by the run cache (a snapshot's rows depend on when it runs)
    cacheable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        missing = [trait for trait in ("name", "builds_relation", "table_like") if not hasattr(cls, trait)]
        if missing:
            raise TypeError(f"materialization {cls.__name__} does not say its {', '.join(missing)}")

    @property
    def live(self) -> bool:
        """Reads its inputs when queried (a view, an inlined model): the run cache counts them."""
        return not self.table_like

    def validate(self, model: CompiledModel) -> None:  # noqa: B027 - most strategies build any config
        """Refuse a model whose config this strategy cannot build, at compile time."""

    def advice(self, model: CompiledModel) -> list[tuple[str, str]]:
        """(rule, message) for configs this strategy builds but likely not as meant (`fduck explain`)."""
        return []

    def restores_from_rows(self, adapter: EngineAdapter) -> bool:
        """Whether a backup's rows put the relation back on this engine (else `fduck run` rebuilds it)."""
        return self.table_like

    @abstractmethod
    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome: ...


def replace_table(adapter: EngineAdapter, relation: Relation, query_sql: str, check: ColumnCheck | None) -> int | None:
    """Rebuild a table atomically; a failure leaves the previous relation in place."""
    adapter.create_schema(relation.schema, relation.database)
    return adapter.replace_table(relation.to_table(), query_sql, check)
