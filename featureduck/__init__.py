"""featureduck: SQL-first feature engineering (dbt-style models, a feature store).

`Project` is imported lazily so that `fduck --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from featureduck.api import Project
    from featureduck.udfs.decorator import udf

__all__ = ["Project", "__version__", "udf"]


def __getattr__(name: str) -> Any:
    if name == "Project":
        from featureduck.api import Project

        return Project
    if name == "udf":
        from featureduck.udfs.decorator import udf

        return udf
    raise AttributeError(name)
