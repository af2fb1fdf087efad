"""The serving app on uvicorn, with httptools and uvloop.

Each worker process holds the project's definitions (no compile, no
database connection beyond the online store) and opens the store once.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from featureduck.config.project_config import ProjectConfig
from featureduck.online.base import OnlineStore
from featureduck.online.lookup import OnlineIndex
from featureduck.project.loader import ProjectDefinition
from featureduck.serving.app import build_app
from featureduck.serving.config import ServeConfig


def create_app(definition: ProjectDefinition, config: ProjectConfig, store: OnlineStore) -> Starlette:
    """The app over an opened online store, which it closes on shutdown."""
    return build_app(definition, OnlineIndex(definition, store), ServeConfig.from_project(config))


def serve(app: Starlette | str, host: str, port: int, workers: int = 1, factory: bool = False) -> None:
    """Run uvicorn; several workers need `app` as an import string (with `factory`)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host, "port": port, "http": "httptools", "log_level": "warning", "access_log": False,
        "loop": "uvloop" if _has_uvloop() else "asyncio",
    }
    if workers > 1:
        options.update(workers=workers, factory=factory)
    uvicorn.run(app, **options)


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # Windows
        return False
    return True


