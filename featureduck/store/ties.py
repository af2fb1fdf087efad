"""Which feature views can skip the tie ranking of a training set.

DuckDB's ASOF JOIN cannot break ties between feature rows with the same keys
and timestamp, so a training set ranks them first, which costs a window over
the whole view (most of a 10M-row training set's time). Whether a built
table has ties is a fact about the build, so it is checked once, after the
model builds, and recorded with the SQL checksum it was built from and the
model's fingerprint. A training set skips the ranking only where the check
holds for the rows it reads now: for a table, checked against the build that
is there; for a view (which shows the current rows of what it reads),
checked at the fingerprint the view has now — its definition and the data
versions of the files, tables and seeds beneath it (runner.fingerprints).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.relations import Relation
from featureduck.engines.base import EngineAdapter
from featureduck.materializations.registry import live
from featureduck.project.ids import NodeId
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView
from featureduck.runner.fingerprints import read_beneath, recorded_builds, standing_version
from featureduck.runner.state import TieCheck, read_builds, read_tie_checks
from featureduck.sources.versions import data_versions


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
    built: dict[str, tuple[str, str | None]],
    now: datetime.datetime,
) -> list[TieCheck]:
    """Checks for the views whose model was just built, answered by the
    engine as the state store records them (one round trip for all);
    `built` maps model name to its SQL checksum and fingerprint."""
    checks = []
    for key, view in definition.feature_views.items():
        if view.model is not None and view.model in built and view.model in compiled.models:
            keys = definition.entities[view.entity].join_keys
            relation = compiled.models[view.model].relation.to_table()
            checksum, fingerprint = built[view.model]
            checks.append(TieCheck(key, relation.sql(), checksum, has_ties(view, relation, keys), now, fingerprint))
    return checks


def untied_views(
    adapter: EngineAdapter, definition: ProjectDefinition, compiled: CompiledProject, seeds: dict[str, Relation],
    project_root: Path, version: str,
) -> set[str]:
    """Keys of the views checked tie-free against the rows they read now;
    `seeds` maps each seed's name to its relation."""
    checks = read_tie_checks(adapter)
    if not checks:
        return set()
    builds = read_builds(adapter)
    candidates = {}
    for key, view in definition.feature_views.items():
        check = checks.get(key)
        if view.model is None:  # a stream source's rows are never checked tie-free: they grow by the second
            continue
        build = builds.get(str(NodeId("model", definition.config.name, view.model)))
        if check is not None and build is not None and not check.has_ties and check.sql_checksum == build.sql_checksum:
            candidates[key] = (view, build, check)
    views = [compiled.models[str(v.model)] for v, b, _ in candidates.values() if live(b.materialized) and v.model in compiled.models]
    data: dict[str, str | None] = {}
    if views:  # only a view's check needs the versions of what it reads now
        beneath = read_beneath(compiled, views)
        data = data_versions(adapter, [definition.sources[k] for k in beneath.sources], beneath.seed_tables(definition, seeds),
                             project_root)
    recorded = recorded_builds(builds)
    return {
        key for key, (_, build, check) in candidates.items()
        if not live(build.materialized) or (check.fingerprint is not None and check.fingerprint == standing_version(
            definition, compiled, recorded, data, version, adapter.session_time_zone(), build.unique_id))
    }
