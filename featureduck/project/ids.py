"""Node ids as dbt writes them (`model.shop.orders`, `source.shop.raw.events`), typed.

The DAG, the manifest and the state store keep ids as text; code that needs
an id's kind or name parses it here instead of splitting strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

NodeKind = Literal["model", "snapshot", "seed", "source", "test", "unit_test", "entity", "feature_view"]
KINDS: tuple[NodeKind, ...] = get_args(NodeKind)


@dataclass(frozen=True, order=True)
class NodeId:
    kind: NodeKind
    package: str
    name: str  # a source's is `source_name.table`, a unit test's `model.test`

    @classmethod
    def parse(cls, text: str) -> NodeId:
        kind, package, name = (text.split(".", 2) + ["", ""])[:3]
        if kind not in KINDS or not package or not name:
            raise ValueError(f"{text!r} is not a node id (kind.package.name, kind one of {', '.join(KINDS)})")
        return cls(cast(NodeKind, kind), package, name)

    def __str__(self) -> str:
        return f"{self.kind}.{self.package}.{self.name}"


def node_name(text: str) -> str:
    """The name part of a node id given as text."""
    return NodeId.parse(text).name


def node_kind(text: str) -> NodeKind:
    return NodeId.parse(text).kind
