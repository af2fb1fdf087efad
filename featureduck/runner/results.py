"""Per-node outcomes of a run, as written to run_results.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class NodeResult:
    unique_id: str
    name: str
    materialized: str
    relation: str
    status: str  # success | cached (unchanged, not built again) | error | skipped | no-op (nothing to build: a saved query)
    started_at: float
    completed_at: float
    rows_affected: int | None = None
    message: str = ""

    @property
    def built(self) -> bool:
        """The relation is there, as it should be: built now, or found unchanged."""
        return self.status in ("success", "cached")

    @property
    def execution_time(self) -> float:
        return self.completed_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "name": self.name,
            "status": self.status,
            "materialized": self.materialized,
            "relation": self.relation,
            "timing": {"started_at": self.started_at, "completed_at": self.completed_at},
            "execution_time": round(self.execution_time, 6),
            "rows_affected": self.rows_affected,
            "message": self.message,
        }


@dataclass
class RunResults:
    results: list[NodeResult]
    elapsed: float

    @property
    def failed(self) -> bool:
        return any(r.status == "error" for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


class RunReporter(Protocol):
    """The runner's part of the tasks' reporter (featureduck.tasks.reporting): one line
    per model as it starts and as it ends."""

    def node_started(self, index: int, total: int, name: str, materialized: str, relation: str) -> None: ...

    def node_finished(self, index: int, total: int, result: NodeResult) -> None: ...
