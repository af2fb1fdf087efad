"""The shape every relation object in Jinja shares (ref(), source(), this, api.Relation)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class RelationLike(Mapping[str, Any]):
    """dbt's Relation as macros see it: attributes, and a mapping whose `metadata.type`
    ends in Relation (dbt_utils checks `obj is mapping` to tell relations apart)."""

    identifier: str
    schema: str | None
    database: str | None
    is_cte = False
    type = "table"

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    @property
    def is_table(self) -> bool:
        return True

    @property
    def is_view(self) -> bool:
        return False

    def _fields(self) -> dict[str, Any]:
        return {"metadata": {"type": "Relation"}, "path": {"database": self.database, "schema": self.schema,
                                                            "identifier": self.identifier}, "type": self.type}

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())

    def __html__(self) -> str:
        return str(self)

    def render(self) -> str:
        return str(self)

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> RelationLike:
        return self

    def incorporate(self, **_: Any) -> RelationLike:
        return self

    def quote(self, **_: Any) -> RelationLike:
        return self

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)
