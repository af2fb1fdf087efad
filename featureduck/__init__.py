"""featureduck: SQL-first feature engineering (dbt-style models, a feature store).

`Project` is imported lazily so that `fduck --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from featureduck.api import Project

__all__ = ["Project", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Project":
        from featureduck.api import Project

        return Project
    raise AttributeError(name)
