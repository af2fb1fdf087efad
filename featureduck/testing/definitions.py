"""Data tests as declared: generic tests on columns, models and sources in YAML, and
singular tests in the test paths, each turned into a Jinja query of failing rows.

A generic test is a macro `test_<name>(model, column_name, ...)` (built-in:
unique, not_null, accepted_values, relationships, expression; a project adds
its own with `{% test name(...) %}` blocks). Declared the dbt ways:

    columns:
      - name: status
        tests:
          - not_null
          - accepted_values: {values: [placed, shipped], config: {severity: warn}}
          - relationships: {to: ref('customers'), field: customer_id, where: "status <> 'test'"}
    tests:
      - expression: "amount >= 0"

Names follow dbt's (`not_null_orders_status`, `source_unique_raw_orders_id`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from featureduck.errors import ProjectError, SourceLocation
from featureduck.project.loader import ProjectDefinition
from featureduck.utils.suggest import did_you_mean

SEVERITIES = ("error", "warn")
_CONFIG_KEYS = ("severity", "where", "store_failures", "name", "enabled")
_RELATION_ARGUMENT = re.compile(r"^\s*(ref|source)\s*\(.*\)\s*$", re.DOTALL)
_NAME_LIMIT = 63  # identifier length Postgres keeps


@dataclass(frozen=True)
class DataTest:
    name: str
    unique_id: str
    test_type: str  # the generic test's name, or "singular"
    raw_sql: str  # Jinja that renders to the query selecting failing rows
    location: SourceLocation
    attached_to: str | None = None  # the model or source table tested
    attached_label: str | None = None  # its name as the output shows it
    column: str | None = None
    config: dict[str, Any] = field(default_factory=dict)  # severity, where, store_failures
    alias: str | None = None  # the table its failures are stored in, when not its name (dbt shortens long names)

    @property
    def failures_identifier(self) -> str:
        return self.alias or self.name

    @property
    def severity(self) -> str:
        return str(self.config.get("severity", "error")).lower()

    @property
    def store_failures(self) -> bool:
        return bool(self.config.get("store_failures", False))


def collect_tests(definition: ProjectDefinition) -> dict[str, DataTest]:
    """Every data test of the project, by name."""
    project = definition.config.name
    packages = set(definition.packages)
    found: dict[str, DataTest] = {}

    def add(test: DataTest) -> None:
        if test.name in found:
            raise ProjectError(f"two data tests are named '{test.name}' (also at {found[test.name].location})", test.location,
                               "give one a `name:` of its own")
        found[test.name] = test

    for model in definition.models.values():
        where = SourceLocation(model.patch_file or model.path)
        target = (model.resource_type, model.unique_id, model.name, f"ref('{model.name}')", model.name)
        for column in model.columns.values():
            for spec in column.tests:
                add(_generic(spec, target, column.name, where, model.project, packages))
        for spec in model.tests:
            add(_generic(spec, target, None, where, model.project, packages))
    for seed in definition.seeds.values():
        target = ("seed", seed.unique_id, seed.name, f"ref('{seed.name}')", seed.name)
        for column in seed.columns.values():
            for spec in column.tests:
                add(_generic(spec, target, column.name, SourceLocation(seed.patch_file or seed.path), seed.project, packages))
    for table in definition.sources.values():
        label = f"{table.source_name}.{table.name}"
        target = ("source", table.unique_id, label, f"source('{table.source_name}', '{table.name}')",
                  f"{table.source_name}_{table.name}")
        for column in table.columns.values():
            for spec in column.tests:
                add(_generic(spec, target, column.name, table.location, project, packages))
        for spec in table.tests:
            add(_generic(spec, target, None, table.location, project, packages))
    for unit in definition.unit_tests.values():
        if unit.config.get("enabled", True) is False:
            continue
        model = definition.models[unit.model]
        add(DataTest(unit.name, unit.unique_id, "unit", "", unit.location, model.unique_id, model.name, None,
                     {"tags": unit.config.get("tags", [])}))
    for singular in definition.singular_tests.values():
        add(DataTest(singular.name, f"test.{project}.{singular.name}", "singular", singular.text, SourceLocation(singular.path, 1)))
    return {name: test for name, test in found.items() if test.config.get("enabled", True) is not False}


def _generic(
    spec: Any, target: tuple[str, str, str, str, str], column: str | None, location: SourceLocation, project: str,
    packages: Collection[str] = (),
) -> DataTest:
    """One YAML test; a dotted name (`dbt_utils.expression_is_true`) is that package's test."""
    kind, attached_to, label, relation, name_part = target
    test_type, arguments, config = _parse_spec(spec, location)
    namespace, _, short = test_type.rpartition(".")
    if namespace and namespace not in packages:
        raise ProjectError(f"generic test '{test_type}' comes from package '{namespace}', which is not installed", location,
                           did_you_mean(namespace, packages) or "add it to packages.yml and run `fduck deps`")
    macro = f"{namespace}.test_{short}" if namespace else f"test_{short}"
    model = "{{ " + relation + " }}"
    if config.get("where"):
        model = f"(select * from {model} where {config['where']}) as dbt_subquery"
    keywords = ([f"column_name={_literal(column)}"] if column is not None else []) + [
        f"{key}={_argument(value)}" for key, value in arguments.items()
    ]
    raw_sql = (
        "{%- set __fd_model -%}" + model + "{%- endset -%}\n"
        f"{{{{ {macro}(model=__fd_model{''.join(', ' + k for k in keywords)}) }}}}\n"
    )
    prefix = "source_" if kind == "source" else ""
    named = prefix + test_type.replace(".", "_")  # dbt_utils.expression_is_true: dbt_utils_expression_is_true_<model>...
    name, alias = (str(config["name"]), None) if config.get("name") else _dbt_name(named, name_part, column, arguments)
    return DataTest(name, f"test.{project}.{name}", test_type, raw_sql, location, attached_to, label, column, config, alias)


def _parse_spec(spec: Any, location: SourceLocation) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(test name, arguments, config) of `- unique`, `- accepted_values: {values: [...]}`,
    dbt 1.10's `{arguments: {...}, config: {...}}`, or `- expression: "a > 0"`."""
    if isinstance(spec, str):
        return spec, {}, {}
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ProjectError(f"a data test is a name or a mapping of one name to its arguments, got {spec!r}", location)
    test_type, body = next(iter(spec.items()))
    test_type = str(test_type)
    if test_type == "expression" and isinstance(body, str):
        body = {"expression": body}
    if test_type == "accepted_values" and isinstance(body, list):
        body = {"values": body}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ProjectError(f"the arguments of data test '{test_type}' must be a mapping, got {body!r}", location)
    body = dict(body)
    config = dict(body.pop("config", None) or {})
    arguments = dict(body.pop("arguments", None) or {})
    for key in _CONFIG_KEYS:
        if key in body:
            config[key] = body.pop(key)
    arguments.update(body)
    unknown = [key for key in config if key not in _CONFIG_KEYS]
    if unknown:
        raise ProjectError(f"data test '{test_type}' has unknown config {', '.join(unknown)}", location,
                           f"known: {', '.join(_CONFIG_KEYS)}")
    if str(config.get("severity", "error")).lower() not in SEVERITIES:
        raise ProjectError(f"data test '{test_type}' has severity {config['severity']!r}; use error or warn", location)
    return test_type, arguments, config


def _dbt_name(test_type: str, node: str, column: str | None, arguments: dict[str, Any]) -> tuple[str, str | None]:
    """dbt's (name, alias): the name spells the test out in full; past the identifier
    length Postgres keeps, the alias (its failures table) is the test and node
    shortened, then a digest of the full name, as dbt's are."""
    # dbt: the test, the node, then its arguments (the column first) joined by "__"
    flat = ([column] if column else []) + [_flatten(value) for key, value in sorted(arguments.items()) if key != "quote"]
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", "_".join([test_type, node]) + ("_" + "__".join(flat) if flat else ""))
    if len(name) <= _NAME_LIMIT:
        return name, None
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    return name, f"{re.sub(r'[^0-9a-zA-Z_]+', '_', f'{test_type}_{node}')[:30]}_{digest}"


def _flatten(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "__".join(_flatten(v) for v in value)
    return str(value)


def _argument(value: Any) -> str:
    """A test argument as Jinja: `ref(...)` and `source(...)` strings are evaluated, as in dbt."""
    if isinstance(value, str) and _RELATION_ARGUMENT.match(value):
        return value.strip()
    return _literal(value)


def _literal(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
