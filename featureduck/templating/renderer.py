"""Render model templates; the Jinja environment is built once per project load."""

from __future__ import annotations

import collections
import datetime
import hashlib
import os
import re
import sys
import traceback
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import jinja2.ext

from featureduck.config.profiles import TargetInfo
from featureduck.config.project_config import merge_config_value
from featureduck.errors import SourceLocation, TemplateError
from featureduck.project.nodes import Model
from featureduck.templating import dbt_context
from featureduck.templating.context import ModelProxy, RenderOverrides, RenderScope, RenderState, ThisProxy
from featureduck.templating.dbt_context import Exceptions
from featureduck.templating.fast_path import render_simple
from featureduck.templating.introspection import (
    AdapterProxy,
    Database,
    ExecuteFlag,
    Introspection,
    IntrospectionFunctions,
    RelationApi,
)
from featureduck.templating.macro_namespaces import INTERNAL, MacroRegistry
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
        graph: Callable[[], dict[str, Any]] | None = None,
        packages: dict[str, list[tuple[str, str]]] | None = None,
        dialect: str = "duckdb",
        search_orders: dict[str, list[str]] | None = None,
        package_vars: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """`graph()`: the project's nodes as dbt's `graph` shows them, built when first read;
        `packages`: each installed package's macro files; `dialect`: the project's SQL, whose
        engine adapter.dispatch picks implementations for; `search_orders`: the `dispatch:` config;
        `package_vars`: each package's own `vars:`, the defaults its nodes read."""
        self.scope = scope
        self.package_vars = package_vars or {}
        self.vars = project_vars
        functions = IntrospectionFunctions(scope.introspection)
        self.env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            extensions=[jinja2.ext.do, jinja2.ext.loopcontrols],
            autoescape=False,
            keep_trailing_newline=True,
            cache_size=0,
        )
        self.env.context_class = LiveContext
        self.env.code_generator_class = dbt_context.ReturningCodeGenerator
        self.env.returning_macro = dbt_context.ReturningMacro  # type: ignore[attr-defined]
        self.macros = MacroRegistry(scope.project_name, self.env.globals, dialect, search_orders or {})
        # packages are written for dbt, where an undefined name renders empty; the project's
        # own Jinja stays strict, so a misspelt name is an error rather than nothing
        self.package_env = self.env.overlay(undefined=jinja2.Undefined)
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
            schema=target.schema, database=target.database,  # dbt's: the target's (a snapshot's target_schema=schema)
            modules=dbt_context.MODULES,
            run_started_at=datetime.datetime.now(datetime.UTC),
            execute=ExecuteFlag(scope.introspection),
            run_query=functions.run_query,
            statement=functions.statement,
            load_result=functions.load_result,
            adapter=AdapterProxy(scope.introspection, self.macros.dispatch),
            api=RelationApi,
            exceptions=Exceptions(lambda message: scope._error(message)),
            tojson=dbt_context.tojson, fromjson=dbt_context.fromjson, toyaml=dbt_context.toyaml, fromyaml=dbt_context.fromyaml,
            set=dbt_context.as_set, set_strict=dbt_context.set_strict, zip=dbt_context.as_zip, zip_strict=dbt_context.zip_strict,
            flags=dbt_context.Flags(), invocation_id=dbt_context.INVOCATION_ID, graph=dbt_context.LazyGraph(graph or dict),
            model=ModelProxy(scope, self.current_config), project_name=scope.project_name,
            dbt_version="1.11.0", print=_print,
            local_md5=lambda text: hashlib.md5(str(text).encode(), usedforsecurity=False).hexdigest(),
        )
        self.env.globals["return"] = dbt_context.macro_return
        self.env.globals["config"] = dbt_context.ConfigProxy(scope.config, self.current_config, lambda m: scope._error(m))
        self._templates: dict[tuple[str, str], jinja2.Template] = {}
        # env vars models read, with their values: part of the compile cache key
        self.env_vars_read: dict[str, str | None] = {}
        # dbt's internal macros and featureduck's, bare and as dbt.<macro> / featureduck.<macro>; then each
        # package's, as <package>.<macro>; then the project's, bare (winning over the internal ones)
        for namespace, path, text in _builtin_macro_files():
            self._load_macros(path, text, namespace, bare=True)
        for package, files in (packages or {}).items():
            for path, text in files:
                self._load_macros(path, text, package, bare=False)
        for path, text in macro_files:
            self._load_macros(path, text, scope.project_name, bare=True)

    def current_config(self) -> dict[str, Any]:
        """The rendering model's config so far: the project file's and YAML's, then its config() calls."""
        state = self.scope.state
        config = dict(state.base_config)
        for key, value in state.config.items():
            merge_config_value(config, key, value)
        return config

    def var(self, name: str, default: Any = MissingVar) -> Any:
        overrides = self.scope.overrides()
        if name in overrides.vars:
            return overrides.vars[name]
        package = self.scope.state.package if self.scope.rendering else None
        if package is not None:  # a package's node: the project's vars scoped to it, the project's, then the package's own
            scoped = self.vars.get(package)
            if isinstance(scoped, dict) and name in scoped:
                return scoped[name]
        if name in self.vars:
            return self.vars[name]
        if package is not None and name in self.package_vars.get(package, {}):
            return self.package_vars[package][name]
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

    def _load_macros(self, path: str, text: str, package: str, bare: bool) -> None:
        """A macro file's macros into `package`'s namespace, and into the bare names when
        `bare`. A bare name inside a package's macro means what it means to the project
        rendering (dbt resolves it there), then, where dbt would find nothing, the package's own."""
        own = self.macros.package(package)
        lookups = self.env.make_globals(None) if bare else collections.ChainMap(self.env.globals, own)
        template = self._compile(path, _test_blocks_as_macros(text), lookups, self.env if bare else self.package_env)
        try:  # run the module's body ourselves: a module exports no _private macro, which packages call
            context = template.new_context()
            for _ in template.root_render_func(context):
                pass
        except Exception as err:  # noqa: BLE001 - reported with file and line
            raise _template_error(err, path) from None
        for name, value in context.vars.items():
            if isinstance(value, jinja2.runtime.Macro):
                own[name] = value
                if bare:
                    self.env.globals[name] = own[name]

    def _template(self, model: Model) -> jinja2.Template:
        key = (model.path, model.checksum)  # one YAML file declares many tests: the path alone is not enough
        template = self._templates.get(key)
        if template is None:
            template = self._compile(model.path, model.raw_sql)
            self._templates[key] = template
        return template

    def _compile(self, path: str, text: str, lookups: MutableMapping[str, Any] | None = None,
                 env: jinja2.Environment | None = None) -> jinja2.Template:
        env = env or self.env
        try:
            code = env.compile(text, name=path, filename=path)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(f"Jinja syntax error: {err.message}", SourceLocation(path, err.lineno)) from None
        return env.template_class.from_code(env, code, lookups if lookups is not None else env.make_globals(None), None)

    def render(self, model: Model, incremental: bool = False, database: Database | None = None,
               overrides: RenderOverrides | None = None) -> RenderedModel:
        """Render one model; `incremental` is what `is_incremental()` answers. With a
        `database`, `execute` is true and introspective queries run on it (a run-time render).
        `overrides` (a unit test's) replace vars, env vars and the values of macros the model calls."""
        overrides = overrides or RenderOverrides()
        package = model.project if model.project != self.scope.project_name else None
        state = RenderState(model.name, model.path, incremental, introspection=Introspection(database is not None, database),
                            overrides=overrides, base_config=merged_config(model, {}), raw_sql=model.raw_sql, package=package,
                            resource_type=model.resource_type)
        self.scope.begin(state)
        try:
            macros = {name: _returning(value) for name, value in overrides.macros.items() if name != "is_incremental"}
            macros |= overrides.names
            if package is not None:  # a package's node calls its own package's macros first, as in dbt
                macros = {**self.macros.package(package), **macros}
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


def _print(*values: Any) -> str:
    print(*values, file=sys.stderr)
    return ""


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


def _builtin_macro_files() -> list[tuple[str, str, str]]:
    """(namespace, path, text): macros/*.sql are featureduck's, macros/dbt/*.sql dbt's internal ones."""
    folder = resources.files("featureduck.templating") / "macros"
    found = [("featureduck", f"<featureduck>/macros/{entry.name}", entry.read_text(encoding="utf-8"))
             for entry in folder.iterdir() if entry.name.endswith(".sql")]
    found += [(INTERNAL, f"<featureduck>/macros/dbt/{entry.name}", entry.read_text(encoding="utf-8"))
              for entry in (folder / "dbt").iterdir() if entry.name.endswith(".sql")]
    return sorted(found, key=lambda item: (item[0] != INTERNAL, item[1]))


class LiveContext(jinja2.runtime.Context):
    """A context that finds macros loaded after its template: Jinja copies the globals when
    a macro file's module is made, so a macro calling one from a later file (or a package's
    own, or an override the project loads last) would not find it. Names given to this
    render (a unit test's macro overrides) still come first."""

    def __init__(self, environment: jinja2.Environment, parent: dict[str, Any], name: str | None,
                 blocks: dict[str, Any], globals: MutableMapping[str, Any] | None = None) -> None:  # noqa: A002 - Jinja's name
        super().__init__(environment, parent, name, blocks, globals)
        self._live = globals

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            return self.vars[key]
        if key in self.parent and key not in self.globals_keys:
            return self.parent[key]
        if self._live is not None and key in self._live:
            return self._live[key]
        return self.parent.get(key, jinja2.utils.missing)
