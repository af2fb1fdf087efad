"""Feature views checked against the columns their models produce.

At compile time, with no database: the compiled query's output names are
read from the sqlglot tree, and a feature's declared dtype is compared with
the type the model fixes for that column (a cast, a count, or the model's
declared `data_type`); a column whose type depends on the data it reads is
left to the build. A model selecting `*` hides its columns; its view is
checked when it builds and when a training set runs.

At build time, the new relation's columns (as the engine's catalog types
them) are compared with every declared dtype before it replaces the previous
relation, inside the swap's transaction where the engine has them (on Spark
against the table built under a temporary name, and a view's query before
it is created). A model whose types drifted fails and the relation serving
training sets stays as it was: a dbt model contract, for feature views.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.compile import CompiledModel, CompiledProject
from featureduck.compiler.dtypes import family, is_known, parse_dtype
from featureduck.compiler.parse import parse_model_sql
from featureduck.compiler.projection import row_wise_table
from featureduck.engines.base import ColumnCheck, EngineAdapter
from featureduck.errors import CompilationError, FeatureDuckError
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import Feature, FeatureView, Model
from featureduck.utils.suggest import did_you_mean


def check_feature_views(definition: ProjectDefinition, compiled: CompiledProject) -> list[FeatureDuckError]:
    """One error per feature view naming a column its model does not output,
    and one per feature whose dtype is no type or not the model's."""
    errors: list[FeatureDuckError] = []
    dialect = definition.config.dialect
    for view in definition.feature_views.values():
        errors += _dtype_errors(view, dialect)
        if view.source is not None:
            errors += _source_view_errors(view, definition)
            continue
        assert view.model is not None
        model = compiled.models.get(view.model)
        if model is None:
            continue  # the model's own error is reported already
        tree = parse_model_sql(model.sql, compiled.target.dialect, model.path)
        if view.stream:
            refused = stream_model_fault(view, model, tree, definition)
            if refused is not None:
                errors.append(CompilationError(refused, view.location,
                                               "a stream view reads a stream source directly, or a model that only picks, "
                                               "computes and filters its rows: `select user_id, amount * 2 as doubled from "
                                               "{{ source('clicks', 'events') }} where amount > 0`"))
                continue
        if not isinstance(tree, exp.Query) or any(isinstance(e, exp.Star) for e in tree.selects):
            continue
        columns = tree.named_selects
        wanted = [*definition.entities[view.entity].join_keys, view.timestamp_field, *(f.name for f in view.features)]
        missing = [name for name in wanted if name not in columns]
        if missing:
            errors.append(CompilationError(
                f"feature view '{view.name}' needs column '{missing[0]}', which model '{view.model}' does not output",
                view.location,
                did_you_mean(missing[0], columns) or f"its columns: {', '.join(columns)}",
            ))
            continue
        fixed = _fixed_types(tree, definition.models[view.model], dialect)
        for feature in view.features:
            declared = _declared(feature, dialect)
            actual = fixed.get(feature.name)
            if declared is not None and actual is not None and family(declared) != family(actual):
                errors.append(_mismatch(view, feature, actual.sql(dialect), f"model {compiled.models[view.model].path}"))
    return errors


def stream_model_fault(view: FeatureView, model: CompiledModel, tree: exp.Expr, definition: ProjectDefinition) -> str | None:
    """Why `model` cannot feed stream view `view` batch by batch, or None: it must be a
    row-wise projection (compiler.projection) of one stream source that appends rows."""
    table, why = row_wise_table(tree)
    reads = [definition.sources[key] for key in model.sources if key in definition.sources]
    if table is None:
        return f"feature view '{view.name}' is `stream: true` over model '{model.name}', which is not a row-wise projection: {why}"
    if len(reads) != 1 or model.refs or reads[0].stream is None or reads[0].stream.mirrors:
        return (f"feature view '{view.name}' is `stream: true` over model '{model.name}', which does not read one stream "
                "source of appended messages")
    return None


def _source_view_errors(view: FeatureView, definition: ProjectDefinition) -> list[FeatureDuckError]:
    """A view over a stream source: its columns are the source's declared, typed columns."""
    assert view.source is not None
    table = definition.sources[view.source]
    dialect = definition.config.dialect
    assert table.stream is not None
    columns = {**{c.name: c.data_type for c in table.columns.values()}, **dict(table.stream.extra_columns)}
    wanted = [*definition.entities[view.entity].join_keys, view.timestamp_field, *(f.name for f in view.features)]
    missing = [name for name in wanted if name not in columns]
    if missing:
        return [CompilationError(
            f"feature view '{view.name}' needs column '{missing[0]}', which source '{'.'.join(view.source)}' does not declare",
            view.location, did_you_mean(missing[0], columns) or f"its columns: {', '.join(columns)}",
        )]
    errors: list[FeatureDuckError] = []
    for feature in view.features:
        declared = _declared(feature, dialect)
        actual = exp.DataType.build(str(columns[feature.name]), dialect=dialect)
        if declared is not None and family(declared) != family(actual):
            errors.append(_mismatch(view, feature, actual.sql(dialect), f"source {'.'.join(view.source)}"))
    return errors


def build_checks(definition: ProjectDefinition, adapter: EngineAdapter) -> dict[str, ColumnCheck]:
    """Per model name, the check its feature views' declared dtypes make of the
    relation it builds, before that relation replaces the previous one."""
    dialect = definition.config.dialect
    typed: dict[str, list[tuple[FeatureView, Feature, exp.DataType]]] = {}
    for view in definition.feature_views.values():
        for feature in view.features:
            declared = _declared(feature, dialect)
            if declared is not None and view.model is not None:  # a source's columns are typed already
                typed.setdefault(view.model, []).append((view, feature, declared))

    def checker(features: list[tuple[FeatureView, Feature, exp.DataType]], path: str) -> ColumnCheck:
        def check(described: list[tuple[str, str]]) -> None:
            columns = {name.lower(): kind for name, kind in described}
            for view, feature, declared in features:
                kind = columns.get(feature.name.lower())
                if kind is None:
                    raise CompilationError(
                        f"feature view '{view.name}' needs column '{feature.name}', which model {path} does not output",
                        view.location,
                    )
                actual = parse_dtype(kind, adapter.DIALECT) if _parses(kind, adapter.DIALECT) else None
                if actual is not None and family(declared) != family(actual):
                    raise _mismatch(view, feature, f"{kind} on {adapter.TYPE}", f"model {path}")

        return check

    return {name: checker(features, definition.models[name].path) for name, features in typed.items() if name in definition.models}


def _dtype_errors(view: FeatureView, dialect: str) -> list[FeatureDuckError]:
    errors: list[FeatureDuckError] = []
    for feature in view.features:
        if feature.dtype is None:
            continue
        try:
            parse_dtype(feature.dtype, dialect)
        except ValueError as err:
            errors.append(CompilationError(
                f"feature '{feature.name}' of view '{view.name}': dtype {err}",
                feature.location or view.location,
                "a SQL type of the project's dialect, e.g. bigint, double, decimal(18, 2), varchar, boolean, timestamp, int[]",
            ))
    return errors


def _declared(feature: Feature, dialect: str) -> exp.DataType | None:
    if feature.dtype is None or not _parses(feature.dtype, dialect):
        return None  # reported by _dtype_errors
    return parse_dtype(feature.dtype, dialect)


def _parses(text: str, dialect: str) -> bool:
    try:
        parse_dtype(text, dialect)
    except ValueError:
        return False
    return True


def _fixed_types(tree: exp.Query, model: Model, dialect: str) -> dict[str, exp.DataType]:
    """Output columns whose type the SQL fixes whatever the data: an outermost
    cast or count, or the type the model's YAML declares for the column."""
    fixed: dict[str, exp.DataType] = {}
    for name, column in model.columns.items():
        if column.data_type and _parses(column.data_type, dialect):
            fixed[name] = parse_dtype(column.data_type, dialect)
    for projection in tree.selects:
        value = projection.unalias() if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Cast) and is_known(value.to):  # TryCast is a Cast
            fixed.setdefault(projection.alias_or_name, value.to)
        elif isinstance(value, exp.Count):
            fixed.setdefault(projection.alias_or_name, exp.DataType.build("bigint"))
    return fixed


def _mismatch(view: FeatureView, feature: Feature, actual: str, producer: str) -> CompilationError:
    return CompilationError(
        f"feature '{feature.name}' of view '{view.name}' is declared {feature.dtype}, "
        f"but {producer} outputs it as {actual}",
        feature.location or view.location,
        "cast it in the model to the declared type" if producer.startswith("model") else "declare the same type on both",
    )
