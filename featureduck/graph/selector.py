"""dbt-style selection: name, +name, name+, tag:, path:, state:modified.

Space-separated selectors are a union, comma-joined parts an intersection,
as in dbt. `--exclude` removes its selection afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from featureduck.errors import UsageError
from featureduck.graph.dag import Dag
from featureduck.project.ids import NodeId
from featureduck.utils.suggest import did_you_mean


@dataclass(frozen=True)
class SelectableNode:
    """What selection needs to know about a node."""

    unique_id: str
    name: str
    path: str
    tags: tuple[str, ...]
    resource_type: str
    tested: str | None = None  # a test's: the node it tests (tests are no DAG nodes)


# Returns the unique ids of modified nodes; given only when state is used.
ModifiedLookup = Callable[[], set[str]]


def select_nodes(
    dag: Dag,
    nodes: dict[str, SelectableNode],
    select: Iterable[str] | None,
    exclude: Iterable[str] | None = None,
    modified: ModifiedLookup | None = None,
) -> set[str]:
    """The ids chosen by `select` minus those chosen by `exclude`."""
    select_terms = _split(select)
    chosen = set(nodes) if not select_terms else set().union(*(_intersection(dag, nodes, t, modified) for t in select_terms))
    for term in _split(exclude):
        chosen -= _intersection(dag, nodes, term, modified)
    return chosen


def _split(values: Iterable[str] | None) -> list[str]:
    return [term for value in values or () for term in value.split()]


def _intersection(dag: Dag, nodes: dict[str, SelectableNode], term: str, modified: ModifiedLookup | None) -> set[str]:
    parts = [_one(dag, nodes, part, modified) for part in term.split(",")]
    return set.intersection(*parts)


def _one(dag: Dag, nodes: dict[str, SelectableNode], term: str, modified: ModifiedLookup | None) -> set[str]:
    with_parents = term.startswith("+")
    with_children = term.endswith("+")
    core = term.strip("+")
    if not core:
        raise UsageError(f"empty selector '{term}'")
    base = _match(nodes, core, modified)
    result = set(base)
    for node in base:
        if nodes[node].resource_type in ("test", "unit_test"):  # `+test`: the node it tests and that one's parents
            tested = nodes[node].tested
            if with_parents and tested is not None:
                result |= {tested} | dag.ancestors(tested)
            continue
        if with_parents:
            result |= dag.ancestors(node)
        if with_children:
            result |= dag.descendants(node)
    return result


def _match(nodes: dict[str, SelectableNode], core: str, modified: ModifiedLookup | None) -> set[str]:
    method, _, value = core.partition(":") if ":" in core else ("", "", core)
    if method == "tag":
        return {uid for uid, n in nodes.items() if value in n.tags}
    if method == "path":
        prefix = value.rstrip("/")
        return {uid for uid, n in nodes.items() if n.path == prefix or n.path.startswith(prefix + "/")}
    if method == "state":
        if value != "modified":
            raise UsageError(f"unknown state selector 'state:{value}'", hint="supported: state:modified")
        if modified is None:
            raise UsageError("state:modified needs --state DIR (a folder holding a saved manifest.json)")
        return modified() & set(nodes)
    if method == "package":
        return {uid for uid in nodes if NodeId.parse(uid).package == value}
    if method in ("resource_type", "resource-type"):
        return {uid for uid, n in nodes.items() if n.resource_type == value}
    if method == "source":  # dbt's source:app (every table of it) or source:app.users
        return {uid for uid, n in nodes.items() if n.resource_type == "source" and value in (n.name, n.name.split(".", 1)[0])}
    if method:
        raise UsageError(f"unknown selector method '{method}:'",
                         hint=did_you_mean(method, ["tag", "path", "state", "resource_type", "package", "source"]))
    found = {uid for uid, n in nodes.items() if n.name == core}
    if not found:
        # a path given without `path:`, like dbt accepts
        found = {uid for uid, n in nodes.items() if n.path == core or n.path.startswith(core.rstrip("/") + "/")}
    if not found:
        raise UsageError(f"selector '{core}' matches nothing", hint=did_you_mean(core, sorted({n.name for n in nodes.values()})))
    return found
