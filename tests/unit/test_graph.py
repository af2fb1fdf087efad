from __future__ import annotations

import pytest

from featureduck.errors import CycleError, UsageError
from featureduck.graph.dag import Dag
from featureduck.graph.selector import SelectableNode, select_nodes


def _graph() -> tuple[Dag, dict[str, SelectableNode]]:
    # a -> b -> d, a -> c -> d, e alone
    dag = Dag()
    nodes = {}
    for name, path, tags in [
        ("a", "models/staging/a.sql", ()), ("b", "models/marts/b.sql", ("daily",)),
        ("c", "models/marts/c.sql", ()), ("d", "models/marts/sub/d.sql", ("daily",)), ("e", "models/e.sql", ()),
    ]:
        nodes[name] = SelectableNode(name, name, path, tags, "model")
        dag.add_node(name)
    for parent, child in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        dag.add_edge(parent, child)
    return dag, nodes


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        (None, None, {"a", "b", "c", "d", "e"}),
        (["b"], None, {"b"}),
        (["+b"], None, {"a", "b"}),
        (["b+"], None, {"b", "d"}),
        (["+d"], None, {"a", "b", "c", "d"}),
        (["tag:daily"], None, {"b", "d"}),
        (["path:models/marts"], None, {"b", "c", "d"}),
        (["a e"], None, {"a", "e"}),
        (["a+,tag:daily"], None, {"b", "d"}),
        (["a+"], ["c", "tag:daily"], {"a"}),
        (["models/marts/sub"], None, {"d"}),
    ],
)
def test_selectors(select: list[str] | None, exclude: list[str] | None, expected: set[str]) -> None:
    dag, nodes = _graph()
    assert select_nodes(dag, nodes, select, exclude) == expected


def test_state_modified_uses_lookup() -> None:
    dag, nodes = _graph()
    assert select_nodes(dag, nodes, ["state:modified+"], None, lambda: {"b"}) == {"b", "d"}
    with pytest.raises(UsageError, match="--state"):
        select_nodes(dag, nodes, ["state:modified"], None, None)


def test_unknown_name_suggests() -> None:
    dag, nodes = _graph()
    with pytest.raises(UsageError, match="matches nothing"):
        select_nodes(dag, nodes, ["zzz"], None)


def test_cycle_reports_path() -> None:
    dag = Dag()
    dag.add_edge("x", "y")
    dag.add_edge("y", "z")
    dag.add_edge("z", "x")
    with pytest.raises(CycleError) as err:
        dag.check_acyclic()
    message = err.value.message
    assert message.startswith("dependency cycle: ")
    path = message.removeprefix("dependency cycle: ").split(" -> ")
    assert path[0] == path[-1] and set(path) == {"x", "y", "z"}


def test_topological_order_is_stable() -> None:
    dag, _ = _graph()
    assert dag.topological_order() == ["a", "b", "c", "d", "e"]
