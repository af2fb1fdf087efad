"""`fduck serve`: loads the project, then runs the serving app (several workers alike)."""

from __future__ import annotations

import os
from typing import Any

import orjson
from starlette.applications import Starlette

from featureduck.api import Project
from featureduck.cli.console import print_serving

_ENV = "FDUCK_SERVE_PROJECT"


def _app(project: Project) -> Starlette:
    from featureduck.serving.server import create_app

    return create_app(project.definition, project.config, project.online_store(), project.target)


def app_from_environment() -> Starlette:
    """uvicorn's factory in each worker process: the project travels in an environment variable."""
    spec = orjson.loads(os.environ[_ENV])
    return _app(Project.load(spec["project_dir"], target=spec["target"], vars=spec["vars"], profiles_dir=spec["profiles_dir"]))


def run_server(project: Project, host: str, port: int, workers: int) -> None:
    """Everything that can fail is checked before "Serving on" is printed: the
    `serve:` block, the port, the online store."""
    from featureduck.serving.config import ServeConfig
    from featureduck.serving.server import check_port, serve

    config = ServeConfig.from_project(project.config)
    check_port(host, port)
    app: Starlette | str
    if workers == 1:
        app = _app(project)
    else:
        project.online_store().close()  # each worker opens its own
        profiles = project.target.profiles_file
        spec: dict[str, Any] = {
            "project_dir": str(project.config.root), "target": project.target.name,
            "vars": project.vars, "profiles_dir": str(profiles.parent) if profiles else None,
        }
        os.environ[_ENV] = orjson.dumps(spec).decode()
        app = "featureduck.cli.serve:app_from_environment"
    print_serving(project.config.name, project.target.name, host, port, workers)
    serve(app, host, port, workers, factory=workers > 1, trusted_proxies=config.trusted_proxies)
