"""Materialization names -> strategies; unknown names fail with a did-you-mean."""

from __future__ import annotations

from featureduck.errors import CompilationError, SourceLocation
from featureduck.materializations.base import Materialization
from featureduck.materializations.ephemeral import EphemeralMaterialization
from featureduck.materializations.incremental import IncrementalMaterialization
from featureduck.materializations.materialized_view import MaterializedViewMaterialization
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
