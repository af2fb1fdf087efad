"""Render model templates; the Jinja environment is built once per project load."""

from __future__ import annotations

import collections
import datetime
import os
import re
import traceback
import types
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import jinja2.ext

from featureduck.config.profiles import TargetInfo
from featureduck.config.project_config import merge_config_value
from featureduck.errors import SourceLocation, TemplateError
from featureduck.project.nodes import Model
from featureduck.templating.context import RenderOverrides, RenderScope, RenderState, ThisProxy
from featureduck.templating.fast_path import render_simple
from featureduck.templating.introspection import (
    AdapterProxy,
    Database,
    ExecuteFlag,
    Introspection,
    IntrospectionFunctions,
    RelationApi,
)
from featureduck.utils.suggest import did_you_mean

DEFAULT_MATERIALIZATION = "view"


@dataclass
class RenderedModel:
    """A model's SQL after Jinja, with what the render recorded."""

    sql: str
    config: dict[str, Any]
    refs: list[str]
    sources: list[tuple[str, str]]
    uses_this: bool
    renders_at_run: bool = False  # it read `execute` or asked the database: rendered again before it builds


class MissingVar(Exception):
    pass


@dataclass
class NodeInfo:
    """The `node` dbt hands the generate_*_name macros: the fields such macros read."""

    name: str
    resource_type: str
    package_name: str
    original_file_path: str
    config: dict[str, Any]
    fqn: list[str]
    version: str | None = None

    @property
    def unique_id(self) -> str:
        return f"{self.resource_type}.{self.package_name}.{self.name}"

    @property
    def path(self) -> str:
        return self.original_file_path

    @property
    def tags(self) -> list[str]:
        return list(self.config.get("tags") or [])


class ModelRenderer:
    """Renders models of one project for one target."""

    def __init__(
        self,
        scope: RenderScope,
        project_vars: dict[str, Any],
        target: TargetInfo,
        macro_files: list[tuple[str, str]],
    ) -> None:
        self.scope = scope
        self.vars = project_vars
        functions = IntrospectionFunctions(scope.introspection)
        self.env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            extensions=[jinja2.ext.do, jinja2.ext.loopcontrols],
            autoescape=False,
            keep_trailing_newline=True,
            cache_size=0,
        )
        self.env.globals.update(
            ref=scope.ref,
            source=scope.source,
            config=scope.config,
            is_incremental=scope.is_incremental,
            log=scope.log,
            this=ThisProxy(scope),
            var=self.var,
            env_var=self.env_var,
            target=target,
            modules={"datetime": datetime},
            run_started_at=datetime.datetime.now(datetime.UTC),
            execute=ExecuteFlag(scope.introspection),
            run_query=functions.run_query,
            statement=functions.statement,
            load_result=functions.load_result,
            adapter=AdapterProxy(scope.introspection),
            api=RelationApi,
        )
        self._templates: dict[tuple[str, str], jinja2.Template] = {}
        # env vars models read, with their values: part of the compile cache key
        self.env_vars_read: dict[str, str | None] = {}
        self.macro_names: dict[str, str] = {}
        for path, text in _builtin_macro_files():
            self._load_macros(path, text)
        # featureduck.<macro>: the built-in one, even where a project macro takes its bare name
        self.env.globals["featureduck"] = types.SimpleNamespace(**{name: self.env.globals[name] for name in self.macro_names})
        for path, text in macro_files:
            self._load_macros(path, text)

    def var(self, name: str, default: Any = MissingVar) -> Any:
        overrides = self.scope.overrides()
        if name in overrides.vars:
            return overrides.vars[name]
        if name in self.vars:
            return self.vars[name]
        if default is not MissingVar:
            return default
        hint = did_you_mean(name, self.vars) or "set it under `vars:` in the project file or pass --vars"
        raise self.scope._error(f"required var '{name}' is not set", hint)

    def env_var(self, name: str, default: Any = None) -> Any:
        overrides = self.scope.overrides()
        if name in overrides.env_vars:
            return str(overrides.env_vars[name])
        self.env_vars_read[name] = os.environ.get(name)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise self.scope._error(f"env var '{name}' is not set", f"export {name}=... or give env_var() a default")

    def relation_parts(self, node: NodeInfo) -> tuple[str, str, str]:
        """(database, schema, identifier) from the generate_*_name macros, the project's
        where it defines them, as dbt names every model and seed."""
        config, macros = node.config, self.env.globals
        try:
            return (
                str(_call(macros["generate_database_name"], config.get("database"), node)).strip(),
                str(_call(macros["generate_schema_name"], config.get("schema"), node)).strip(),
                str(_call(macros["generate_alias_name"], config.get("alias"), node)).strip(),
            )
        except TemplateError:
            raise
        except Exception as err:  # noqa: BLE001 - a failing naming macro is the node's error
            raise _template_error(err, node.original_file_path) from None

    def _load_macros(self, path: str, text: str) -> None:
        template = self._compile(path, _test_blocks_as_macros(text))
        try:
            module = template.make_module()
        except Exception as err:  # noqa: BLE001 - reported with file and line
            raise _template_error(err, path) from None
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, jinja2.runtime.Macro):
                self.env.globals[name] = value
                self.macro_names[name] = path

    def _template(self, model: Model) -> jinja2.Template:
        key = (model.path, model.checksum)  # one YAML file declares many tests: the path alone is not enough
        template = self._templates.get(key)
        if template is None:
            template = self._compile(model.path, model.raw_sql)
            self._templates[key] = template
        return template

    def _compile(self, path: str, text: str) -> jinja2.Template:
        try:
            code = self.env.compile(text, name=path, filename=path)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(f"Jinja syntax error: {err.message}", SourceLocation(path, err.lineno)) from None
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None), None)

    def render(self, model: Model, incremental: bool = False, database: Database | None = None,
               overrides: RenderOverrides | None = None) -> RenderedModel:
        """Render one model; `incremental` is what `is_incremental()` answers. With a
        `database`, `execute` is true and introspective queries run on it (a run-time render).
        `overrides` (a unit test's) replace vars, env vars and the values of macros the model calls."""
        overrides = overrides or RenderOverrides()
        state = RenderState(model.name, model.path, incremental, introspection=Introspection(database is not None, database),
                            overrides=overrides)
        self.scope.begin(state)
        try:
            macros = {name: _returning(value) for name, value in overrides.macros.items() if name != "is_incremental"}
            names = collections.ChainMap(macros, self.env.globals) if macros else self.env.globals
            sql = render_simple(model.raw_sql, names, model.path)
            if sql is None:
                sql = self._template(model).render(macros)
        except TemplateError:
            raise
        except Exception as err:  # noqa: BLE001 - any Jinja failure is the model's error
            raise _template_error(err, model.path) from None
        finally:
            self.scope.end()
        config = merged_config(model, state.config)
        return RenderedModel(sql, config, state.refs, state.sources, state.uses_this, state.introspection.asked)


def _returning(value: Any) -> Any:
    """A macro overridden by a unit test: whatever it is called with, the given value."""
    def macro(*args: Any, **kwargs: Any) -> Any:
        return value
    return macro


def _call(macro: Any, *args: Any) -> Any:
    return macro(*args)


_TEST_BLOCK = re.compile(r"{%(-?)\s*test\s+(\w+)\s*\(")
_END_TEST = re.compile(r"{%(-?)\s*endtest\s*(-?)%}")


def _test_blocks_as_macros(text: str) -> str:
    """dbt's generic tests, `{% test name(model, column_name) %}...{% endtest %}`, as the
    macros `test_<name>` (line numbers kept, so errors point at the right line)."""
    if "endtest" not in text:
        return text
    text = _TEST_BLOCK.sub(lambda m: f"{{%{m.group(1)} macro test_{m.group(2)}(", text)
    return _END_TEST.sub(lambda m: f"{{%{m.group(1)} endmacro {m.group(2)}%}}", text)


def merged_config(model: Model, file_config: dict[str, Any]) -> dict[str, Any]:
    """Folder config, then YAML `config:`, then the file's config(), dbt's precedence."""
    config: dict[str, Any] = {"materialized": DEFAULT_MATERIALIZATION}
    for layer in (model.folder_config, model.yaml_config, file_config):
        for key, value in layer.items():
            merge_config_value(config, key, value)
    return config


def _template_error(err: Exception, path: str) -> TemplateError:
    if isinstance(err, jinja2.TemplateSyntaxError):
        return TemplateError(f"Jinja syntax error: {err.message}", SourceLocation(err.filename or path, err.lineno))
    if isinstance(err, TemplateError):
        return err
    line = None
    file = path
    for frame, lineno in traceback.walk_tb(err.__traceback__):
        if frame.f_globals.get("__jinja_template__") is not None or frame.f_code.co_filename.endswith((".sql", ".j2")):
            file, line = frame.f_code.co_filename, lineno
    message = err.message if isinstance(err, jinja2.TemplateError) and err.message else str(err)
    return TemplateError(f"render failed: {message}", SourceLocation(file, line))


def _builtin_macro_files() -> list[tuple[str, str]]:
    folder = resources.files("featureduck.templating") / "macros"
    return sorted(
        (f"<featureduck>/macros/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
