"""A DAG of node ids with the few graph operations featureduck needs."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from featureduck.errors import CycleError


class Dag:
    """Edges point from a parent (dependency) to its child."""

    def __init__(self) -> None:
        self._graph: nx.DiGraph = nx.DiGraph()

    def add_node(self, node: str) -> None:
        self._graph.add_node(node)

    def add_edge(self, parent: str, child: str) -> None:
        self._graph.add_edge(parent, child)

    @property
    def nodes(self) -> list[str]:
        return list(self._graph.nodes)

    def parents(self, node: str) -> list[str]:
        return list(self._graph.predecessors(node))

    def children(self, node: str) -> list[str]:
        return list(self._graph.successors(node))

    def ancestors(self, node: str) -> set[str]:
        return set(nx.ancestors(self._graph, node))

    def descendants(self, node: str) -> set[str]:
        return set(nx.descendants(self._graph, node))

    def check_acyclic(self) -> None:
        """Raise CycleError naming the loop, e.g. `a -> b -> a`."""
        try:
            cycle = nx.find_cycle(self._graph)
        except nx.NetworkXNoCycle:
            return
        path = [edge[0] for edge in cycle] + [cycle[0][0]]
        raise CycleError("dependency cycle: " + " -> ".join(path))

    def topological_order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Nodes in dependency order; ties broken by name so output is stable."""
        graph = self._graph if subset is None else self._graph.subgraph(subset)
        return list(nx.lexicographical_topological_sort(graph))
