"""Reuse a whole compile when no input changed (file hashes, vars, target, env).

The key covers every file the loader read, the vars, the target's public
settings and the featureduck/sqlglot versions; env vars read by models are
stored with their values and must still match.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from featureduck import __version__
from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler
from featureduck.utils.hashing import sha256_json

CACHE_DIR = ".fduck_cache"


def cache_file(target_dir: Path, target_name: str) -> Path:
    return target_dir / CACHE_DIR / f"compile-{target_name}.json"


def _sqlglot_version() -> str:
    """Without importing sqlglot when nothing else has (a cached compile never
    needs it); once imported, its own attribute is cheaper than the metadata."""
    module = sys.modules.get("sqlglot")
    return str(module.__version__) if module is not None else version("sqlglot")


# Bumped when a compiled model holds something new, or the same SQL compiles otherwise (a
# meaning rewrite: date formats, functions of two meanings), so older caches are not read.
CACHE_FORMAT = 6


def cache_key(compiler: Compiler) -> str:
    target = compiler.target
    return sha256_json(
        {
            "format": CACHE_FORMAT,
            "featureduck": __version__,
            "sqlglot": _sqlglot_version(),
            "files": compiler.definition.file_hashes,
            "vars": compiler.vars,
            "yaml_env": compiler.definition.yaml_renderer.env_vars_read if compiler.definition.yaml_renderer else {},
            "target": [target.name, target.type, target.public_settings(), target.profile_name],
        }
    )


def load_cached(compiler: Compiler, target_dir: Path) -> CompiledProject | None:
    path = cache_file(target_dir, compiler.target.name)
    try:
        entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if entry.get("key") != cache_key(compiler):
        return None
    if any(os.environ.get(name) != value for name, value in entry.get("env", {}).items()):
        return None
    models = {m["name"]: CompiledModel.from_dict(m) for m in entry["models"]}
    disabled = set(entry.get("disabled", []))
    if set(models) | disabled != set(compiler.definition.models):
        return None
    project = CompiledProject(compiler.target, models, disabled=disabled, from_cache=True)
    project.dag = compiler.build_dag({name: (m.refs, m.sources) for name, m in models.items()})
    return project


def store(compiler: Compiler, target_dir: Path, project: CompiledProject) -> None:
    """Cache a compile that succeeded for every model; failures are never cached."""
    if project.errors:
        return
    env = compiler.renderer.env_vars_read if compiler.has_renderer else {}
    entry = {
        "key": cache_key(compiler),
        "env": env,
        "models": [m.to_dict() for m in project.models.values()],
        "disabled": sorted(project.disabled),
    }
    path = cache_file(target_dir, compiler.target.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(entry), encoding="utf-8")
    temp.replace(path)
