"""Model contracts: `contract: {enforced: true}` and the YAML's columns with data types.

A model with an enforced contract must build exactly the declared columns
(no more, no fewer) with the declared types, or it fails before the new
relation replaces the old one. Types are compared by their base type in the
target's terms (`varchar(20)` and `text` are both strings; `integer` is not
`bigint`), as dbt compares them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.dtypes import family, parse_dtype
from featureduck.engines.base import ColumnCheck, EngineAdapter
from featureduck.errors import CompilationError, SourceLocation
from featureduck.project.loader import ProjectDefinition


def enforced(config: dict[str, object]) -> bool:
    contract = config.get("contract")
    return isinstance(contract, dict) and contract.get("enforced") is True


def contract_checks(definition: ProjectDefinition, compiled: CompiledProject, adapter: EngineAdapter) -> dict[str, ColumnCheck]:
    """Per model name with an enforced contract, the check of its new relation's columns."""
    checks = {}
    for name, model in compiled.models.items():
        if not enforced(model.config):
            continue
        declared = definition.models[name]
        where = SourceLocation(declared.patch_file or declared.path)
        untyped = [c.name for c in declared.columns.values() if not c.data_type]
        if not declared.columns or untyped:
            raise CompilationError(
                f"model '{name}' enforces a contract, so every column needs a data_type"
                + (f" (missing on {', '.join(untyped)})" if untyped else ": it declares no columns"), where,
            )
        try:
            types = {c.name.lower(): (c.data_type or "", parse_dtype(c.data_type or "", definition.config.dialect))
                     for c in declared.columns.values()}
        except ValueError as err:
            raise CompilationError(f"model '{name}' contract: {err}", where) from None
        checks[name] = _checker(name, types, adapter.DIALECT, where)
    return checks


def _checker(name: str, declared: dict[str, tuple[str, exp.DataType]], dialect: str, where: SourceLocation) -> ColumnCheck:
    def check(described: list[tuple[str, str]]) -> None:
        built = {column.lower(): kind for column, kind in described}
        problems = [f"missing column '{c}'" for c in declared if c not in built]
        problems += [f"column '{c}' is not in the contract" for c in built if c not in declared]
        for column, (text, wanted) in declared.items():
            if column in built and not _same_type(wanted, built[column], dialect):
                problems.append(f"column '{column}' is {built[column]}, the contract says {text}")
        if problems:
            raise CompilationError(f"model '{name}' breaks its contract: {'; '.join(problems)}", where)

    return check


def _same_type(declared: exp.DataType, actual: str, dialect: str) -> bool:
    try:
        built = parse_dtype(actual, dialect)
    except ValueError:
        return False
    if family(declared) == "string" and family(built) == "string":
        return True
    return bool(declared.this == built.this)


def combine(first: ColumnCheck, second: ColumnCheck | None) -> ColumnCheck:
    """Both checks, the first one's error first."""
    if second is None:
        return first
    checks: tuple[Callable[[list[tuple[str, str]]], None], ...] = (first, second)

    def both(described: list[tuple[str, str]]) -> None:
        for check in checks:
            check(described)

    return both
