"""Jinja in YAML values (dbt_project.yml, schema files) rendered as dbt renders it.

dbt renders every string of its project file and schema files with `target`,
`var()` and `env_var()` before reading any config, so `+enabled: "{{ var('x',
false) }}"` is the boolean false and `+tags: ["{{ target.name }}"]` the target's
name. Rendering is "native": a value that is one expression keeps the Python
type it evaluates to; `as_bool`, `as_number` and `as_native` parse text. Keys
dbt renders later (hooks, test arguments, descriptions) and secrets
(`connection`) and a stream's schema registry are left as written.
"""

from __future__ import annotations

import ast
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from featureduck.errors import ProjectError, SourceLocation
from featureduck.utils.yaml_loader import LineDict, LineList

# Keys rendered later, where they are used (as dbt does), or never stored rendered.
LATE_KEYS = frozenset({
    "description", "tests", "data_tests", "pre-hook", "post-hook", "pre_hook", "post_hook",
    "on-run-start", "on-run-end", "query-comment", "vars", "connection", "given", "expect", "overrides",
    "schema_registry",  # a stream's, rendered when it streams (streams.avro): compiling needs none of it
})


class _Native(str):
    """A text a filter asked to be parsed as a Python literal."""


class _Text(str):
    """A text `as_text` asked to be kept as text."""


def _native_concat(values: Iterable[Any]) -> Any:
    """dbt's native concatenation: one non-text value is kept as it is; text is
    parsed as a literal only when a filter asked for it or several parts joined."""
    head = list(itertools.islice(values, 2))
    if not head:
        return ""
    if len(head) == 1:
        value = head[0]
        if isinstance(value, _Text):
            return str(value)
        if not isinstance(value, _Native):
            return value
        raw = str(value)
    else:
        raw = "".join(str(v) for v in itertools.chain(head, values))
    try:
        parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, TypeError):
        return raw
    return raw if isinstance(parsed, str) else parsed


@dataclass
class YamlRenderer:
    """Renders YAML trees for one target and one set of vars; records env vars read
    (with their values), which the compile cache key must include."""

    target: Any
    project_vars: dict[str, Any]
    env_vars_read: dict[str, str | None] = field(default_factory=dict)
    _env: Any = None

    def render_tree(self, value: Any, file: str, line: int = 0, skip: frozenset[str] = LATE_KEYS) -> Any:
        """A copy of `value` with each string holding Jinja rendered; lines kept."""
        if isinstance(value, LineDict):
            rendered = LineDict()
            rendered.line, rendered.key_lines = value.line, dict(value.key_lines)
            for key, item in value.items():
                plain = key[1:] if isinstance(key, str) and key.startswith("+") else key
                rendered[key] = item if plain in skip else self.render_tree(item, file, value.line_of(key), skip)
            return rendered
        if isinstance(value, LineList):
            items = LineList(self.render_tree(item, file, value.item_lines[i] if i < len(value.item_lines) else value.line, skip)
                             for i, item in enumerate(value))
            items.line, items.item_lines = value.line, list(value.item_lines)
            return items
        if isinstance(value, dict):
            return {k: v if k in skip else self.render_tree(v, file, line, skip) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_tree(item, file, line, skip) for item in value]
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return self.render_text(value, file, line)
        return value

    def render_text(self, text: str, file: str, line: int) -> Any:
        import jinja2  # only a project with Jinja in its YAML pays for it

        try:
            template = self._environment().from_string(text)
            return _native_concat(template.root_render_func(template.new_context(self._context())))
        except ProjectError:
            raise
        except _MissingEnvVar as err:
            raise ProjectError(f"env var '{err.name}' is not set", SourceLocation(file, line),
                               f"export {err.name}=... or give env_var() a default") from None
        except _MissingVar as err:
            raise ProjectError(f"required var '{err.name}' is not set", SourceLocation(file, line),
                               "set it under `vars:` in the project file or pass --vars") from None
        except jinja2.TemplateError as err:
            raise ProjectError(f"Jinja in a YAML value failed: {err.message or err}", SourceLocation(file, line)) from None

    def _environment(self) -> Any:
        if self._env is None:
            import jinja2
            import jinja2.nativetypes

            class Environment(jinja2.nativetypes.NativeEnvironment):
                concat = staticmethod(_native_concat)

            env = Environment(undefined=jinja2.StrictUndefined)
            env.filters.update(as_bool=_Native, as_number=_Native, as_native=_Native, as_text=_Text)
            self._env = env
        return self._env

    def _context(self) -> dict[str, Any]:
        return {"target": self.target, "var": self._var, "env_var": self._env_var}

    def _var(self, name: str, *default: Any) -> Any:
        if name in self.project_vars:
            return self.project_vars[name]
        if not default:
            raise _MissingVar(name)
        return default[0]

    def _env_var(self, name: str, default: Any = None) -> Any:
        self.env_vars_read[name] = os.environ.get(name)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise _MissingEnvVar(name)


class _MissingVar(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _MissingEnvVar(_MissingVar):
    pass

