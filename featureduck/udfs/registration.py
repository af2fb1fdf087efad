"""Loading a project's functions/ files and registering their UDFs on the run's engine.

The files are imported once per process, each as its own module, when a
command connects to a DuckDB or Spark target; their decorated functions
become SQL functions there before any model runs. Postgres cannot run
Python: nothing is registered, and a model calling one of the functions is a
compile error (compiler.portability).
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import ProjectError, SourceLocation
from featureduck.project.loader import ProjectDefinition
from featureduck.udfs.decorator import ATTRIBUTE, UdfSpec

_LOADED: dict[tuple[str, str], Any] = {}  # (path, content hash) -> module


def load_functions(definition: ProjectDefinition) -> list[tuple[UdfSpec, Callable[..., Any]]]:
    found = []
    for path in sorted({f.path for f in definition.functions.values()}):
        module = _module(definition.config.root / path, path, definition.file_hashes[path])
        for value in vars(module).values():
            spec = getattr(value, ATTRIBUTE, None)
            if isinstance(spec, UdfSpec) and getattr(value, "__module__", None) == module.__name__:
                found.append((spec, value))
    return found


def register_functions(adapter: EngineAdapter, definition: ProjectDefinition, project_dialect: str) -> None:
    if not definition.functions or not adapter.traits.python_udfs:
        return
    for spec, function in load_functions(definition):
        params = [_engine_type(t, project_dialect, adapter.DIALECT, spec, definition) for t in spec.params]
        returns = _engine_type(spec.returns, project_dialect, adapter.DIALECT, spec, definition)
        adapter.register_function(spec.name, params, returns, spec.vectorized, function)


def _module(file: Path, path: str, content_hash: str) -> Any:
    key = (str(file), content_hash)
    if key not in _LOADED:
        name = f"featureduck_functions_{content_hash[:12]}_{file.stem}"
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:  # noqa: BLE001 - any error of project code, reported with its line
            del sys.modules[name]
            lines = [frame.lineno for frame in traceback.extract_tb(err.__traceback__) if Path(frame.filename) == file]
            where = SourceLocation(path, lines[-1] if lines else None)
            raise ProjectError(f"importing it failed: {type(err).__name__}: {err}", where) from None
        _LOADED[key] = module
    return _LOADED[key]


def _engine_type(type_text: str, project_dialect: str, engine_dialect: str, spec: UdfSpec, definition: ProjectDefinition) -> str:
    try:
        return exp.DataType.build(type_text, dialect=project_dialect).sql(dialect=engine_dialect)
    except Exception:  # noqa: BLE001 - sqlglot's parse errors
        declared = definition.functions[spec.name]
        where = SourceLocation(declared.path, declared.line)
        raise ProjectError(f"function '{spec.name}': '{type_text}' is not a SQL type", where) from None
