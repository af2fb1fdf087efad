"""`@featureduck.udf(returns=...)`: marks a function of a project's functions/ folder as a
SQL function. Nothing heavy is imported here: `import featureduck` stays fast.

    import featureduck

    @featureduck.udf(returns="DOUBLE")
    def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...

    @featureduck.udf(returns="VARCHAR", params=["VARCHAR"], vectorized=True)
    def normalize(texts):  # a pyarrow Array in, a pyarrow Array out
        import pyarrow.compute as pc
        return pc.utf8_lower(pc.utf8_trim_whitespace(texts))

Types are SQL type names in the project's dialect. Parameter types default to
the annotations (float DOUBLE, int BIGINT, str VARCHAR, bool BOOLEAN, date
DATE, datetime TIMESTAMP). A scalar function is called per row and, as in
DuckDB, not at all for a row with a NULL argument (the result is NULL); a
vectorized one gets and returns pyarrow Arrays, a batch of rows at a time.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__featureduck_udf__"
_ANNOTATION_TYPES = {float: "DOUBLE", int: "BIGINT", str: "VARCHAR", bool: "BOOLEAN", datetime.date: "DATE",
                     datetime.datetime: "TIMESTAMP"}


@dataclass(frozen=True)
class UdfSpec:
    name: str
    params: tuple[str, ...]
    returns: str
    vectorized: bool


def udf(returns: str, params: list[str] | None = None, name: str | None = None, vectorized: bool = False) -> Callable[[F], F]:
    def mark(function: F) -> F:
        parameters = list(inspect.signature(function).parameters)
        if params is not None:
            declared = tuple(params)
        else:
            hints = get_type_hints(function)
            missing = [p for p in parameters if _ANNOTATION_TYPES.get(hints.get(p)) is None]  # type: ignore[arg-type]
            if missing:
                raise TypeError(f"@featureduck.udf on {function.__name__}: give params=[SQL types] or annotate "
                                f"{', '.join(missing)} as float, int, str, bool, date or datetime")
            declared = tuple(_ANNOTATION_TYPES[hints[p]] for p in parameters)
        if len(declared) != len(parameters):
            raise TypeError(f"@featureduck.udf on {function.__name__}: {len(declared)} params for {len(parameters)} arguments")
        setattr(function, ATTRIBUTE, UdfSpec(name or function.__name__, declared, returns, vectorized))
        return function

    return mark
