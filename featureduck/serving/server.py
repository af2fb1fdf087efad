"""The serving app on uvicorn, with httptools and uvloop.

Each worker process holds the project's definitions (no compile, no
database connection beyond the online store) and opens the store once.
"""

from __future__ import annotations

import socket
from typing import Any

from starlette.applications import Starlette

from featureduck.config.profiles import TargetConfig
from featureduck.config.project_config import ProjectConfig
from featureduck.engines.registry import create_adapter
from featureduck.errors import ConnectionFailure
from featureduck.online.base import OnlineStore
from featureduck.online.lookup import OnlineIndex
from featureduck.project.loader import ProjectDefinition
from featureduck.serving.app import build_app
from featureduck.serving.config import ServeConfig


def create_app(definition: ProjectDefinition, config: ProjectConfig, store: OnlineStore, target: TargetConfig | None = None) -> Starlette:
    """The app over an opened online store, which it closes on shutdown; with `target`,
    pushes to stream views may also land offline (the target is connected on the first)."""
    open_target = (lambda: create_adapter(target)) if target is not None else None
    return build_app(definition, OnlineIndex(definition, store), ServeConfig.from_project(config), open_target)


def check_port(host: str, port: int) -> None:
    """A port another process listens on is a clear error, before anything says it serves."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as err:
            raise ConnectionFailure(f"cannot serve on {host}:{port}: {err.strerror}",
                                    hint="choose another --port, or stop what listens there") from None


def serve(
    app: Starlette | str, host: str, port: int, workers: int = 1, factory: bool = False, trusted_proxies: tuple[str, ...] = (),
) -> None:
    """Run uvicorn; several workers need `app` as an import string (with `factory`).
    X-Forwarded-For names the client only when it comes from `trusted_proxies`."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host, "port": port, "http": "httptools", "log_level": "warning", "access_log": False,
        "loop": "uvloop" if _has_uvloop() else "asyncio",
        "proxy_headers": bool(trusted_proxies), "forwarded_allow_ips": list(trusted_proxies) or None,
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


