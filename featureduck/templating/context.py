"""The objects a model's Jinja sees: relations, target, and per-render state.

Jinja macros look up free names in the environment's globals when called, so
the model-specific functions (ref, source, config, this, is_incremental) are
global proxies reading the render in progress on the current thread. That
lets project macros call them too, and lets threads render concurrently.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from featureduck.config.project_config import merge_config_value
from featureduck.errors import SourceLocation, TemplateError
from featureduck.templating.introspection import Introspection
from featureduck.templating.relation_like import RelationLike
from featureduck.utils.suggest import did_you_mean

REF_PREFIX = "__fduck_ref__"
SOURCE_PREFIX = "__fduck_src__"
THIS_PLACEHOLDER = "__fduck_this__"
_SAFE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def placeholder(text: str) -> str:
    """The identifier that stands for a relation until the compiler resolves it."""
    return text if _SAFE_IDENTIFIER.match(text) else '"' + text.replace('"', '""') + '"'


class RelationPlaceholder(RelationLike):
    """What `ref()`, `source()` and `this` render to, until the compiler resolves it."""

    def __init__(self, placeholder_name: str, identifier: str, schema: str | None) -> None:
        self.placeholder_name = placeholder_name
        self.identifier = identifier
        self.schema = schema
        self.database = None

    def __str__(self) -> str:
        return placeholder(self.placeholder_name)


@dataclass(frozen=True)
class RenderOverrides:
    """What one render replaces or adds: a unit test's vars, env vars and macros' values, a hook's names."""

    vars: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, Any] = field(default_factory=dict)
    macros: dict[str, Any] = field(default_factory=dict)
    names: dict[str, Any] = field(default_factory=dict)  # plain names for this render (on-run-end's `results`)


_NO_OVERRIDES = RenderOverrides()


@dataclass
class RenderState:
    """What one render of one model records."""

    model_name: str
    path: str
    incremental: bool
    config: dict[str, Any] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    uses_this: bool = False
    log: list[str] = field(default_factory=list)
    introspection: Introspection = field(default_factory=Introspection)
    overrides: RenderOverrides = _NO_OVERRIDES
    base_config: dict[str, Any] = field(default_factory=dict)  # the project file's and YAML's, before config() calls
    raw_sql: str = ""
    package: str | None = None  # a package's node: its name (its macros and vars come first)
    resource_type: str = "model"  # or snapshot


class RenderScope:
    """Known names plus the thread-local render in progress."""

    def __init__(self, project_name: str, models: dict[str, str], sources: dict[tuple[str, str], Any], target_schema: str) -> None:
        """`models`: what ref() names (models, snapshots, seeds), each with its package (or the project)."""
        self.project_name = project_name
        self.models = models
        self.sources = sources
        self.target_schema = target_schema
        self._local = threading.local()

    @property
    def state(self) -> RenderState:
        state: RenderState | None = getattr(self._local, "state", None)
        if state is None:
            raise TemplateError("ref(), source(), config() and this are only available while rendering a model")
        return state

    @property
    def rendering(self) -> bool:
        return getattr(self._local, "state", None) is not None

    def begin(self, state: RenderState) -> None:
        self._local.state = state

    def end(self) -> None:
        self._local.state = None

    def overrides(self) -> RenderOverrides:
        state: RenderState | None = getattr(self._local, "state", None)
        return state.overrides if state is not None else _NO_OVERRIDES

    def introspection(self) -> Introspection:
        """The render in progress's; outside one (a macro module loading), a parse-time one."""
        state: RenderState | None = getattr(self._local, "state", None)
        return state.introspection if state is not None else Introspection()

    # --- functions exposed to Jinja -------------------------------------------------

    def ref(self, *args: str, **kwargs: Any) -> RelationPlaceholder:
        if len(args) == 2:
            package, name = args
        elif len(args) == 1:
            package, name = None, args[0]
        else:
            raise self._error("ref() takes a model name (or a package and a model name)")
        if name not in self.models:
            raise self._error(f"unknown ref '{name}'", did_you_mean(name, self.models))
        if package is not None and package != self.models[name]:  # names are unique across packages: one answer
            raise self._error(f"ref('{package}', '{name}'): '{name}' is in {self.models[name]}, not {package}")
        if name == self.state.model_name:
            raise self._error(f"model '{name}' refs itself; use {{{{ this }}}} for the model's own relation")
        state = self.state
        if name not in state.refs:
            state.refs.append(name)
        return RelationPlaceholder(REF_PREFIX + name, name, None)

    def source(self, source_name: str, table_name: str) -> RelationPlaceholder:
        key = (source_name, table_name)
        if key not in self.sources:
            known_sources = {s for s, _ in self.sources}
            if source_name not in known_sources:
                raise self._error(f"unknown source '{source_name}'", did_you_mean(source_name, known_sources))
            tables = [t for s, t in self.sources if s == source_name]
            raise self._error(f"source '{source_name}' has no table '{table_name}'", did_you_mean(table_name, tables))
        state = self.state
        if key not in state.sources:
            state.sources.append(key)
        return RelationPlaceholder(f"{SOURCE_PREFIX}{source_name}__{table_name}", table_name, source_name)

    def config(self, *args: Any, **kwargs: Any) -> str:
        if args and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
        import jinja2  # only while rendering: a cached compile never loads it

        for key, value in kwargs.items():  # as dbt merges calls: tags add up, meta merges
            if isinstance(value, jinja2.Undefined):  # passed along, it would fail far from here, or name nothing
                raise self._error(f"config {key}= is given {value._undefined_name or 'a name'!r}, which is undefined")
            merge_config_value(self.state.config, key, value)
        return ""

    def is_incremental(self) -> bool:
        return self.state.incremental

    def log(self, message: Any, info: bool = False) -> str:
        self.state.log.append(str(message))
        if info:
            print(message, file=sys.stderr)
        return ""

    def _error(self, message: str, hint: str | None = None) -> TemplateError:
        return TemplateError(message, SourceLocation(self.state.path, template_line(self.state.path)), hint)


class ModelProxy(Mapping[str, Any]):
    """`model`: the node rendering, as dbt's manifest shapes it (the fields macros read)."""

    def __init__(self, scope: RenderScope, current_config: Any) -> None:
        self._scope = scope
        self._config = current_config

    def _data(self) -> dict[str, Any]:
        state = self._scope.state
        config = self._config()
        project = state.package or self._scope.project_name
        custom = config.get("schema")
        return {
            "name": state.model_name, "unique_id": f"{state.resource_type}.{project}.{state.model_name}",
            "resource_type": state.resource_type, "package_name": project, "original_file_path": state.path, "path": state.path,
            "config": config,
            "tags": list(config.get("tags") or []), "raw_code": state.raw_sql, "raw_sql": state.raw_sql,
            "alias": str(config.get("alias") or state.model_name), "database": config.get("database"),
            "schema": f"{self._scope.target_schema}_{custom}" if custom else self._scope.target_schema,
            "fqn": [project, *state.path.split("/")[1:-1], state.model_name], "refs": [[r] for r in state.refs],
            "depends_on": {"nodes": [f"model.{project}.{r}" for r in state.refs]},
        }

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data()[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


class ThisProxy(RelationLike):
    """`{{ this }}`: the model's own relation, whichever model is rendering."""

    def __init__(self, scope: RenderScope) -> None:
        self._scope = scope

    def _relation(self) -> RelationPlaceholder:
        state = self._scope.state
        state.uses_this = True
        identifier = str(state.config.get("alias") or state.model_name)
        return RelationPlaceholder(THIS_PLACEHOLDER, identifier, self._scope.target_schema)

    def __str__(self) -> str:
        return str(self._relation())

    @property
    def identifier(self) -> str:  # type: ignore[override]
        return self._relation().identifier

    @property
    def schema(self) -> str | None:  # type: ignore[override]
        return self._relation().schema

    @property
    def database(self) -> str | None:  # type: ignore[override]
        return None


def template_line(path: str) -> int | None:
    """The template line being executed by the innermost frame rendering `path`."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None and frame.f_code.co_filename == path:
            line: int = template.get_corresponding_lineno(frame.f_lineno)
            return line
        frame = frame.f_back  # type: ignore[assignment]
    return None
