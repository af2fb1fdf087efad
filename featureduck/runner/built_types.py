"""What a built relation's column types show that the compile could not see.

One date minus another is a number of days in DuckDB and Postgres and an interval
of days in Spark. The compiler rewrites a subtraction of what the SQL shows to be
dates (compiler.function_meanings); two date columns it cannot tell from numbers.
On Spark their difference comes out as an `interval day` column, which a DuckDB or
Postgres project's SQL never makes that way, so such a column fails the model
before it replaces the previous relation, naming the columns.
"""

from __future__ import annotations

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.dialect_facts import dialect_facts
from featureduck.engines.base import ColumnCheck
from featureduck.errors import CompilationError, SourceLocation
from featureduck.project.loader import ProjectDefinition

_DAYS_INTERVAL = "interval day"  # Spark's type of a date minus a date


def date_difference_checks(definition: ProjectDefinition, compiled: CompiledProject, target_dialect: str) -> dict[str, ColumnCheck]:
    """Per model, the check of its built columns where the target subtracts dates into intervals and the project
    dialect into days; none otherwise."""
    dialect = definition.config.dialect
    source, dest = dialect_facts(dialect), dialect_facts(target_dialect)
    if source is None or dest is None or (source.date_difference, dest.date_difference) != ("days", "interval"):
        return {}
    checks = {}
    for name in compiled.models:
        declared = definition.models[name]
        checks[name] = _checker(name, SourceLocation(declared.path), dialect, target_dialect)
    return checks


def _checker(name: str, where: SourceLocation, dialect: str, target_dialect: str) -> ColumnCheck:
    def check(described: list[tuple[str, str]]) -> None:
        intervals = [column for column, kind in described if kind.lower() == _DAYS_INTERVAL]
        if intervals:
            raise CompilationError(
                f"model '{name}': {', '.join(intervals)} came out as intervals of days on {target_dialect}, where this "
                f"{dialect} project's date minus a date is a number of days: the model would give other values", where,
                "write date_diff('day', start, end) for a number of days")

    return check
