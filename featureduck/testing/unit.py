"""dbt's unit tests: a model's SQL over given rows, its output compared to expected rows.

As dbt does it: each input's rows are typed as the real relation's columns
(so that relation must be built; a missing column is null, an unknown one an
error), the model is rendered with the test's overrides and compiled reading
the fixtures in its refs', sources' and `this`'s place, and the expected rows
are typed as the model's output. Only the expected rows' columns are
compared, as multisets: the rows only one side has are the failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject, Compiler
from featureduck.compiler.parse import generate_sql, parse_model_sql
from featureduck.compiler.relations import source_expression
from featureduck.compiler.resolve import prepend_ctes
from featureduck.engines.base import EngineAdapter
from featureduck.errors import CompilationError, DatabaseError, UsageError
from featureduck.project.nodes import UnitInput, UnitTest
from featureduck.templating.context import REF_PREFIX, SOURCE_PREFIX, THIS_PLACEHOLDER, RenderOverrides

_SHOWN_DIFFERENCES = 10


@dataclass(frozen=True)
class UnitCase:
    """A unit test with the compiler and project it runs against (on the test's thread)."""

    test: UnitTest
    compiler: Compiler
    project: CompiledProject


@dataclass(frozen=True)
class UnitOutcome:
    differences: int
    message: str
    sql: str


def run_unit(adapter: EngineAdapter, case: UnitCase) -> UnitOutcome:
    """Differences between the model's output over the given rows and the expected rows."""
    test, compiler = case.test, case.compiler
    dialect = adapter.DIALECT
    fixtures: list[tuple[str, exp.Expr]] = []
    inputs: dict[str, exp.Table] = {}
    for position, given in enumerate(test.given, start=1):
        cte = f"__fd_unit_input_{position}"
        fixtures.append((cte, _fixture_query(adapter, case, given)))
        inputs[_placeholder(given)] = exp.Table(this=exp.to_identifier(cte), alias=exp.TableAlias(this=exp.to_identifier(_alias(given))))
    macros = dict(test.overrides.get("macros", {}))
    incremental = bool(macros.pop("is_incremental", False))
    overrides = RenderOverrides(dict(test.overrides.get("vars", {})), dict(test.overrides.get("env_vars", {})), macros)
    model = compiler.compile_with_inputs(test.model, case.project, inputs, incremental, overrides)
    missing = [f"ref('{r}')" for r in model.refs if REF_PREFIX + r not in inputs]
    missing += [f"source('{s}', '{t}')" for s, t in model.sources if f"{SOURCE_PREFIX}{s}__{t}" not in inputs]
    if incremental and model.uses_this and THIS_PLACEHOLDER not in inputs:
        missing.append("this")
    if missing:
        raise CompilationError(f"unit test '{test.name}': model '{test.model}' reads {', '.join(missing)} with no `given` input",
                        test.location, "give every ref and source the model reads (and `this`, when is_incremental is true)")
    tree = prepend_ctes(parse_model_sql(model.sql, dialect, model.path), fixtures)
    actual = _aliased(tree, "__fd_actual")
    output = _columns(adapter, exp.select("*").from_(actual.copy()), f"the output of model '{test.model}'")
    expected, compared = _expected(test, output, actual, dialect)
    picked = [exp.column(output[name.lower()][0], quoted=True) for name in compared]
    actual_rows = exp.select(*picked).from_(actual.copy())
    expected_rows = exp.select(*[exp.column(output[name.lower()][0], quoted=True) for name in compared]).from_(
        _aliased(expected, "__fd_expected"))
    only = exp.union(
        exp.select(exp.Literal.string("+ actual").as_("__fd_side"), exp.Star()).from_(
            exp.except_(actual_rows.copy(), expected_rows.copy(), distinct=False).subquery("__fd_extra")),
        exp.select(exp.Literal.string("- expected").as_("__fd_side"), exp.Star()).from_(
            exp.except_(expected_rows, actual_rows, distinct=False).subquery("__fd_missing")),
        distinct=False,
    )
    sql = generate_sql(only, dialect, model.path)
    rows = adapter.fetch(sql, "arrow").to_pylist()
    if not rows:
        return UnitOutcome(0, "", sql)
    shown = "\n".join(f"  {row.pop('__fd_side')}: {row}" for row in rows[:_SHOWN_DIFFERENCES])
    more = f"\n  ... and {len(rows) - _SHOWN_DIFFERENCES} more" if len(rows) > _SHOWN_DIFFERENCES else ""
    return UnitOutcome(len(rows), f"{test.location}: actual differs from expected:\n{shown}{more}", sql)


def _aliased(query: exp.Expr, name: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _placeholder(given: UnitInput) -> str:
    if given.kind == "this":
        return THIS_PLACEHOLDER
    if given.kind == "source":
        source, table = given.name.split(".", 1)
        return f"{SOURCE_PREFIX}{source}__{table}"
    return REF_PREFIX + given.name


def _alias(given: UnitInput) -> str:
    """The name column qualifiers use for the input, as for the relation it stands for."""
    return given.name.split(".", 1)[1] if given.kind == "source" else given.name


def _relation(case: UnitCase, given: UnitInput, traits: Any) -> exp.Expr:
    """What the given rows stand in for, as the engine reads it: their columns' types are its."""
    compiler = case.compiler
    if given.kind == "source":
        source, table = given.name.split(".", 1)
        declared = compiler.definition.sources[(source, table)]
        return source_expression(declared, compiler.definition.config.root, traits, compiler.target.schema)
    seeds = compiler.seed_relations()
    if given.name in seeds:
        return seeds[given.name].to_table()
    model = case.project.models.get(given.name)
    if model is None:
        raise CompilationError(f"unit test '{case.test.name}': input {given.input} did not compile", case.test.location)
    return model.relation.to_table()


def _fixture_query(adapter: EngineAdapter, case: UnitCase, given: UnitInput) -> exp.Expr:
    test = case.test
    if isinstance(given.rows, str):  # format sql: the rows' own query, in the target's SQL
        return parse_model_sql(given.rows, adapter.DIALECT, test.location.file)
    relation = _relation(case, given, adapter.traits)
    columns = _columns(adapter, exp.select("*").from_(relation.copy()), f"input {given.input}",
                       f"build it first: unit tests type their rows as the columns of {adapter.sql(relation)}")
    return _rows_query(given.rows, columns, f"unit test '{test.name}' input {given.input}", test)


def _expected(test: UnitTest, output: dict[str, tuple[str, exp.DataType | None]], actual: exp.Subquery,
              dialect: str) -> tuple[exp.Expr, list[str]]:
    """The expected rows as a query, and the columns compared (the expected rows' own)."""
    names = [original for original, _ in output.values()]
    if isinstance(test.expect, str):
        return parse_model_sql(test.expect, dialect, test.location.file), names
    if not test.expect:
        return exp.select("*").from_(actual.copy()).where(exp.false()), names
    compared = [str(key) for key in test.expect[0]]
    return _rows_query(test.expect, output, f"unit test '{test.name}' expect", test, compared), compared


def _rows_query(rows: list[dict[str, Any]], columns: dict[str, tuple[str, exp.DataType | None]], what: str,
                test: UnitTest, only: list[str] | None = None) -> exp.Expr:
    """SELECT ... UNION ALL SELECT ...: one select per row, each value cast to its column's
    type, the columns not given null (all of them for an input, `only` for expected rows)."""
    wanted = [name.lower() for name in only] if only is not None else list(columns)
    for row in rows:
        for key in row:
            if str(key).lower() not in columns:
                raise CompilationError(f"{what}: no column '{key}'", test.location,
                                f"columns: {', '.join(original for original, _ in columns.values())}")
    selects: list[exp.Select] = []
    for row in rows or [{}]:
        given = {str(key).lower(): value for key, value in row.items()}
        selects.append(exp.select(*[
            _typed(given.get(name), columns[name][1]).as_(exp.to_identifier(columns[name][0], quoted=True)) for name in wanted
        ]))
    query: exp.Expr = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    if not rows:
        query = exp.select("*").from_(_aliased(query, "__fd_none")).where(exp.false())
    return query


def _typed(value: Any, kind: exp.DataType | None) -> exp.Expr:
    if value is None:
        literal: exp.Expr = exp.null()
    elif isinstance(value, bool):
        literal = exp.Boolean(this=value)
    elif isinstance(value, (int, float)):
        literal = exp.Literal.number(value)
    else:
        literal = exp.Literal.string(str(value))
    return exp.cast(literal, kind.copy()) if kind is not None else literal


def _columns(adapter: EngineAdapter, query: exp.Expr, what: str, hint: str | None = None
             ) -> dict[str, tuple[str, exp.DataType | None]]:
    """Lower-cased name -> (name, SQL type) of a query's columns, as the engine types them."""
    try:
        described = adapter.query_columns(adapter.sql(query))
    except DatabaseError as err:
        raise UsageError(f"the columns of {what} could not be read: {err}", hint=hint) from None
    return {name.lower(): (name, _sql_type(kind, adapter.DIALECT)) for name, kind in described}


def _sql_type(kind: str, dialect: str) -> exp.DataType | None:
    """The engine's type name as sqlglot reads it (None: one no literal is cast to)."""
    try:
        parsed = exp.DataType.build(kind, dialect=dialect)
    except Exception:  # noqa: BLE001 - sqlglot's parse errors: an engine type it does not know
        return None
    return None if parsed.is_type(exp.DataType.Type.UNKNOWN, exp.DataType.Type.USERDEFINED, exp.DataType.Type.NULL) else parsed
