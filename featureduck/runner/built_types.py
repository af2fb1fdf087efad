"""What a built relation's column types show that the compile could not see.

One date minus another is a number of days in DuckDB and Postgres and an interval
of days in Spark. The compiler rewrites a subtraction of what the SQL shows to be
dates (compiler.function_meanings); two date columns it cannot tell from numbers.
On Spark their difference comes out as an `interval day` column; one whose
expression holds no INTERVAL (which would mean an interval in any dialect) fails
the model before it replaces the previous relation, naming the columns.
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
    for name, model in compiled.models.items():
        declared = definition.models[name]
        checks[name] = _checker(name, model.sql, SourceLocation(declared.path), dialect, target_dialect)
    return checks


def _checker(name: str, sql: str, where: SourceLocation, dialect: str, target_dialect: str) -> ColumnCheck:
    def check(described: list[tuple[str, str]]) -> None:
        intervals = [column for column, kind in described if kind.lower() == _DAYS_INTERVAL]
        if intervals:
            intervals = [column for column in intervals if not _written_as_interval(sql, column, target_dialect)]
        if intervals:
            raise CompilationError(
                f"model '{name}': {', '.join(intervals)} came out as intervals of days on {target_dialect}, where this "
                f"{dialect} project's date minus a date is a number of days: the model would give other values", where,
                "write date_diff('day', start, end) for a number of days")

    return check


def _written_as_interval(sql: str, column: str, dialect: str) -> bool:
    """The model's outer query computes the column with an INTERVAL (`ts + interval 1 day`, a literal)."""
    import sqlglot

    try:
        query = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return False
    for projection in query.selects if isinstance(query, sqlglot.exp.Query) else []:
        if projection.alias_or_name.lower() == column.lower():
            return projection.find(sqlglot.exp.Interval) is not None
    return False
