"""A DAG of node ids with the few graph operations featureduck needs.

Adjacency is kept in plain dicts; networkx is imported only when a graph
algorithm runs, so commands that need none (a cached compile) skip its
~0.1 s import.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import TYPE_CHECKING

from featureduck.errors import CycleError, SourceLocation

if TYPE_CHECKING:
    import networkx as nx


class Dag:
    """Edges point from a parent (dependency) to its child."""

    def __init__(self) -> None:
        self._parents: dict[str, list[str]] = {}
        self._children: dict[str, list[str]] = {}
        self._graph: nx.DiGraph | None = None

    def add_node(self, node: str) -> None:
        if node not in self._parents:
            self._parents[node] = []
            self._children[node] = []
            self._graph = None

    def add_edge(self, parent: str, child: str) -> None:
        self.add_node(parent)
        self.add_node(child)
        if parent not in self._parents[child]:
            self._parents[child].append(parent)
            self._children[parent].append(child)
            self._graph = None

    @property
    def nodes(self) -> list[str]:
        return list(self._parents)

    def parents(self, node: str) -> list[str]:
        return list(self._parents.get(node, ()))

    def children(self, node: str) -> list[str]:
        return list(self._children.get(node, ()))

    def _nx(self) -> nx.DiGraph:
        if self._graph is None:
            import networkx as nx

            graph: nx.DiGraph = nx.DiGraph()
            graph.add_nodes_from(self._parents)
            graph.add_edges_from((p, c) for c, parents in self._parents.items() for p in parents)
            self._graph = graph
        return self._graph

    def ancestors(self, node: str) -> set[str]:
        import networkx as nx

        return set(nx.ancestors(self._nx(), node))

    def descendants(self, node: str) -> set[str]:
        import networkx as nx

        return set(nx.descendants(self._nx(), node))

    def check_acyclic(self, files: dict[str, str] | None = None) -> None:
        """Raise CycleError naming the loop, e.g. `a -> b -> a`, each node with its
        file from `files` (node id -> path) and the error at the first one's."""
        import networkx as nx

        graph = self._nx()
        if nx.is_directed_acyclic_graph(graph):  # much faster than find_cycle
            return
        files = files or {}
        cycle = nx.find_cycle(graph)
        path = [edge[0] for edge in cycle] + [cycle[0][0]]
        named = [f"{node} ({files[node]})" if node in files else node for node in path[:-1]] + [path[-1]]
        first = files.get(path[0])
        raise CycleError("dependency cycle: " + " -> ".join(named), SourceLocation(first) if first else None,
                         "a model cannot ref() itself or one of its descendants")

    def topological_order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Nodes in dependency order; ties broken by name so output is stable (the order
        networkx's lexicographical_topological_sort gives, without importing it)."""
        nodes = set(self._parents) if subset is None else set(subset) & self._parents.keys()
        waiting = {node: sum(1 for parent in self._parents[node] if parent in nodes) for node in nodes}
        ready = [node for node, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for child in self._children[node]:
                if child in nodes:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        heapq.heappush(ready, child)
        if len(order) != len(nodes):
            self.check_acyclic()
        return order
