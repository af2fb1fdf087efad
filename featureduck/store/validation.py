"""Feature views checked against the columns their models produce.

The compiled query's output names are read from the sqlglot tree, so the
check needs no database. A model selecting `*` hides its columns; its view
is checked when the training set runs instead.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.parse import parse_model_sql
from featureduck.errors import CompilationError, FeatureDuckError
from featureduck.project.loader import ProjectDefinition
from featureduck.utils.suggest import did_you_mean


def check_feature_views(definition: ProjectDefinition, compiled: CompiledProject) -> list[FeatureDuckError]:
    """One error per feature view naming a column its model does not output."""
    errors: list[FeatureDuckError] = []
    for view in definition.feature_views.values():
        model = compiled.models.get(view.model)
        if model is None:
            continue  # the model's own error is reported already
        tree = parse_model_sql(model.sql, compiled.target.dialect, model.path)
        if not isinstance(tree, exp.Query) or any(isinstance(e, exp.Star) for e in tree.selects):
            continue
        columns = tree.named_selects
        wanted = [*definition.entities[view.entity].join_keys, view.timestamp_field, *(f.name for f in view.features)]
        for name in wanted:
            if name not in columns:
                errors.append(CompilationError(
                    f"feature view '{view.name}' needs column '{name}', which model '{view.model}' does not output",
                    view.location,
                    did_you_mean(name, columns) or f"its columns: {', '.join(columns)}",
                ))
                break
    return errors
