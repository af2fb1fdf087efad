"""The rest of the Jinja context dbt gives models and macros, beyond relations and
the database: `return()`, `exceptions`, `tojson`/`fromjson`/`toyaml`/`fromyaml`,
`set`/`set_strict`, `zip`, `modules`, `flags`, `invocation_id`, `model`,
`config.get`/`require` and `graph`. Packages (dbt_utils, dbt_date, ...) lean on
all of them.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2.compiler
import jinja2.runtime
import yaml

from featureduck.errors import TemplateError


class MacroReturn(Exception):
    """`{{ return(value) }}`: unwinds the macro, which then evaluates to `value`."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def macro_return(value: Any = None) -> str:
    raise MacroReturn(value)


class ReturningMacro(jinja2.runtime.Macro):
    """A macro as dbt calls it: its `return()` value when it returns one, else its text.
    Every macro is one (ReturningCodeGenerator), so a call from the same file returns too."""

    def _invoke(self, arguments: list[Any], autoescape: bool) -> Any:
        try:
            return super()._invoke(arguments, autoescape)
        except MacroReturn as returned:
            return returned.value


class ReturningCodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, making each macro a ReturningMacro (the environment's
    `returning_macro`) where it would make a plain Macro."""

    def macro_def(self, macro_ref: Any, frame: Any) -> None:
        arguments = ", ".join(repr(x.name) for x in macro_ref.node.args) + ("," if len(macro_ref.node.args) == 1 else "")
        name = getattr(macro_ref.node, "name", None)
        self.write(
            f"environment.returning_macro(environment, macro, {name!r}, ({arguments}),"
            f" {macro_ref.accesses_kwargs!r}, {macro_ref.accesses_varargs!r},"
            f" {macro_ref.accesses_caller!r}, context.eval_ctx.autoescape)"
        )


class Exceptions:
    """`exceptions.raise_compiler_error` and friends; errors name the model and line."""

    def __init__(self, error: Callable[[str], TemplateError]) -> None:
        self._error = error

    def raise_compiler_error(self, message: Any, node: Any = None) -> None:
        raise self._error(str(message))

    def raise_not_implemented(self, message: Any) -> None:
        raise self._error(f"not implemented: {message}")

    def raise_fail_fast_error(self, message: Any, node: Any = None) -> None:
        raise self._error(str(message))

    def warn(self, message: Any, node: Any = None) -> str:
        print(f"warning: {message}", file=sys.stderr)
        return ""


def tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys, default=str)
    except (TypeError, ValueError):
        return default


def fromjson(text: str, default: Any = None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def toyaml(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return yaml.safe_dump(value, sort_keys=sort_keys)
    except yaml.YAMLError:
        return default


def fromyaml(text: str, default: Any = None) -> Any:
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, AttributeError):
        return default


def as_set(value: Any, default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def set_strict(value: Any) -> set[Any]:
    return set(value)


def as_zip(*iterables: Any, default: Any = None) -> Any:
    try:
        return zip(*iterables, strict=False)
    except TypeError:
        return default


def zip_strict(*iterables: Any) -> Any:
    return zip(*iterables, strict=False)


MODULES = {"datetime": datetime, "re": re, "itertools": itertools, "json": json}


class Flags:
    """`flags`: what the command was asked (dbt's upper-case names)."""

    FULL_REFRESH = False
    STORE_FAILURES = False
    WHICH = "run"
    FAIL_FAST = False
    DEBUG = False
    WARN_ERROR = False
    STATE_MODIFIED_COMPARE_MORE_UNRENDERED_VALUES = False
    REQUIRE_SQL_HEADER_IN_TEST_CONFIGS = False

    def __getattr__(self, name: str) -> Any:
        return None


class ConfigProxy:
    """`config`: a call sets the model's config; `config.get` / `require` read it, as
    merged so far (project file, YAML, then the calls above)."""

    def __init__(self, set_config: Callable[..., str], current: Callable[[], dict[str, Any]],
                 error: Callable[[str], TemplateError]) -> None:
        self._set = set_config
        self._current = current
        self._error = error

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        return self._set(*args, **kwargs)

    def get(self, name: str, default: Any = None, validator: Any = None) -> Any:
        return self._current().get(name, default)

    def require(self, name: str, validator: Any = None) -> Any:
        config = self._current()
        if name not in config:
            raise self._error(f"the config '{name}' is required and not set")
        return config[name]

    def set(self, name: str, value: Any) -> str:
        return self._set(**{name: value})

    def persist_relation_docs(self) -> bool:
        return bool((self._current().get("persist_docs") or {}).get("relation"))

    def persist_column_docs(self) -> bool:
        return bool((self._current().get("persist_docs") or {}).get("columns"))


class LazyGraph(Mapping[str, Any]):
    """`graph`: the project's nodes and sources as dbt's manifest shapes them, built the
    first time a render asks."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        self._graph: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._graph is None:
            self._graph = self._build()
        return self._graph

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


INVOCATION_ID = str(uuid.uuid4())
