"""Which feature views can skip the tie ranking of a training set.

DuckDB's ASOF JOIN cannot break ties between feature rows with the same keys
and timestamp, so a training set ranks them first, which costs a window over
the whole view (most of a 10M-row training set's time). Whether a built
relation has ties is a fact about the build, so it is checked once, after the
model builds, and recorded with the SQL checksum it was built from; a
training set skips the ranking only for a view checked against the build
that is there now.
"""

from __future__ import annotations

import datetime

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView
from featureduck.runner.state import TieCheck, read_builds, read_tie_checks


def has_ties(view: FeatureView, relation: exp.Table, keys: list[str]) -> exp.Expr:
    """A scalar boolean: does the relation hold two rows with the same keys and timestamp?"""
    grouped = (
        exp.select("1")
        .from_(relation.copy())
        .group_by(*[exp.column(k, quoted=True) for k in keys], exp.column(view.timestamp_field, quoted=True))
        .having(exp.Count(this=exp.Star()) > 1)
        .limit(1)
    )
    return exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(grouped.subquery("ties"))) > 0


def checks_of_built_views(
    definition: ProjectDefinition,
    compiled: CompiledProject,
    built: dict[str, str],
    now: datetime.datetime,
) -> list[TieCheck]:
    """Checks for the views whose model was just built, answered by the
    engine as the state store records them (one round trip for all);
    `built` maps model name to SQL checksum."""
    checks = []
    for key, view in definition.feature_views.items():
        if view.model in built and view.model in compiled.models:
            keys = definition.entities[view.entity].join_keys
            relation = compiled.models[view.model].relation.to_table()
            checks.append(TieCheck(key, relation.sql(), built[view.model], has_ties(view, relation, keys), now))
    return checks


def untied_views(adapter: EngineAdapter, definition: ProjectDefinition) -> set[str]:
    """Keys of the views checked tie-free against the build now in place."""
    checks = read_tie_checks(adapter)
    if not checks:
        return set()
    builds = read_builds(adapter)
    untied = set()
    for key, view in definition.feature_views.items():
        check = checks.get(key)
        build = builds.get(f"model.{definition.config.name}.{view.model}")
        if check is not None and build is not None and not check.has_ties and check.sql_checksum == build.sql_checksum:
            untied.add(key)
    return untied
