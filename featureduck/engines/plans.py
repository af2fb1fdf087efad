"""Query plans with timings, as engines report them, in one shape.

Each adapter turns its engine's own analyzed plan (DuckDB's JSON profile,
Postgres's EXPLAIN ANALYZE in JSON) into a tree of PlanNode with each
operator's own time, so `fduck explain` ranks operators the same way on
every engine. Spark gives no per-operator time outside its UI: its plan is
kept as text, with the query's wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class PlanNode:
    operator: str
    detail: str  # the table, filter or join condition, where the engine says
    seconds: float | None  # this operator's own time (its children's excluded)
    rows: int | None
    children: list[PlanNode] = field(default_factory=list)

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def render(self, prefix: str = "") -> list[str]:
        timing = f"{self.seconds * 1000:,.1f} ms" if self.seconds is not None else "-"
        rows = f"{self.rows:,} rows" if self.rows is not None else ""
        lines = [f"{prefix}{self.operator}  [{timing}{', ' + rows if rows else ''}]" + (f"  {self.detail}" if self.detail else "")]
        for child in self.children:
            lines += child.render(prefix + "  ")
        return lines

    def to_dict(self) -> dict[str, object]:
        return {"operator": self.operator, "detail": self.detail, "seconds": self.seconds, "rows": self.rows,
                "children": [c.to_dict() for c in self.children]}


@dataclass
class Plan:
    root: PlanNode | None  # None: the engine gave no timed tree (text holds its plan)
    seconds: float  # the analyzed query's time
    text: str = ""

    def slowest(self, count: int = 5) -> list[PlanNode]:
        if self.root is None:
            return []
        timed = [node for node in self.root.walk() if node.seconds is not None]
        return sorted(timed, key=lambda node: -(node.seconds or 0.0))[:count]

    def lines(self) -> list[str]:
        return self.root.render() if self.root is not None else self.text.splitlines()
