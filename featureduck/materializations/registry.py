"""Materialization names -> strategies; unknown names fail with a did-you-mean."""

from __future__ import annotations

from featureduck.engines.base import EngineAdapter
from featureduck.errors import CompilationError, SourceLocation
from featureduck.materializations.base import Materialization
from featureduck.materializations.ephemeral import EphemeralMaterialization
from featureduck.materializations.external import ExternalMaterialization
from featureduck.materializations.incremental import IncrementalMaterialization
from featureduck.materializations.materialized_view import MaterializedViewMaterialization
from featureduck.materializations.snapshot import SnapshotMaterialization
from featureduck.materializations.table import TableMaterialization
from featureduck.materializations.view import ViewMaterialization
from featureduck.utils.suggest import did_you_mean

STRATEGIES: dict[str, Materialization] = {
    strategy.name: strategy
    for strategy in (
        ViewMaterialization(),
        TableMaterialization(),
        IncrementalMaterialization(),
        EphemeralMaterialization(),
        MaterializedViewMaterialization(),
        ExternalMaterialization(),
        SnapshotMaterialization(),
    )
}


def strategy_for(materialized: str, path: str) -> Materialization:
    try:
        return STRATEGIES[materialized]
    except KeyError:
        raise CompilationError(
            f"unknown materialization '{materialized}'",
            SourceLocation(path),
            did_you_mean(materialized, STRATEGIES) or f"choose one of: {', '.join(STRATEGIES)}",
        ) from None


def inlined_kinds() -> frozenset[str]:
    """The materializations the compiler inlines, building nothing."""
    return frozenset(name for name, strategy in STRATEGIES.items() if not strategy.builds_relation)


def builds_relation(materialized: str) -> bool:
    strategy = STRATEGIES.get(materialized)
    return strategy is None or strategy.builds_relation  # an unknown one fails when it builds, with its error


def table_like(materialized: str) -> bool:
    strategy = STRATEGIES.get(materialized)
    return strategy is not None and strategy.table_like


def live(materialized: str) -> bool:
    strategy = STRATEGIES.get(materialized)
    return strategy is not None and strategy.live


def cacheable(materialized: str) -> bool:
    """Whether the run cache may skip an unchanged model of this materialization."""
    strategy = STRATEGIES.get(materialized)
    return strategy is None or strategy.cacheable


def restores_from_rows(materialized: str, adapter: EngineAdapter) -> bool:
    """Seeds (and relations of a materialization no longer known) are put back from their rows."""
    strategy = STRATEGIES.get(materialized)
    return strategy is None or strategy.restores_from_rows(adapter)
