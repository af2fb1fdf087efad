"""`fduck run`: build the selected models in DAG order over one session.

Before the builds: one catalog query, the state store read, file sources
staged, database sources attached, watermarks read, the dtype and contract
checks made. Then the run cache decides what is unchanged (runner.fingerprints),
the runner builds the rest, and the state store records what was built, with
the feature views' tie checks.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.relations import is_staged, staged_relation
from featureduck.engines.base import ColumnCheck
from featureduck.materializations.registry import builds_relation, cacheable, live
from featureduck.project.ids import NodeId
from featureduck.runner import artifacts
from featureduck.runner.built_types import date_difference_checks
from featureduck.runner.contracts import combine, contract_checks
from featureduck.runner.fingerprints import Fingerprint, model_fingerprints, read_beneath, recorded_builds
from featureduck.runner.hooks import HookRunner, hook_texts
from featureduck.runner.results import NodeResult, RunResults
from featureduck.runner.scheduler import Runner
from featureduck.runner.state import NodeRun, legacy_builds_table, read_builds, record_run, runs_table
from featureduck.sources.staging import StagedSource, stage_file_sources
from featureduck.sources.versions import data_versions
from featureduck.sources.watermarks import WatermarkedSources, create_state_tables, read_watermarks
from featureduck.sources.watermarks import state_tables as watermark_tables
from featureduck.tasks.options import RunOptions
from featureduck.tasks.session import Session
from featureduck.tasks.workspace import Selection, Workspace
from featureduck.utils.clock import utc_now
from featureduck.utils.hashing import sha256_text

if TYPE_CHECKING:
    from featureduck.tasks.reporting import Reporter


@dataclass
class RunOutcome:
    results: RunResults
    executed_sql: dict[str, str]  # per model name: the SQL sent, where it differs from the compiled SQL


def run(workspace: Workspace, options: RunOptions, reporter: Reporter) -> RunResults:
    """The command (`run` builds models, `snapshot` snapshots): a session of its own,
    then the artifacts dbt writes."""
    chosen = workspace.selection(options.selector)
    kind = "snapshot" if options.snapshots else "model"
    selection = Selection(chosen.compiled, {uid for uid in chosen.selected if NodeId.parse(uid).kind == kind})
    with workspace.session(options.threads) as session:
        hooks = run_hooks(session, selection)
        hooks.run_hooks("on-run-start")
        outcome = run_models(session, selection, options, reporter)
        try:
            hooks.run_hooks("on-run-end", outcome.results.results)
        finally:
            write_artifacts(workspace, options.command, outcome, hooks.recorded)
    return outcome.results


def run_hooks(session: Session, selection: Selection | None = None) -> HookRunner:
    """The session's hook runner. Given the `selection` a run starts with, the schemas its
    models build in are created first, as dbt creates them before on-run-start."""
    if selection is not None:
        for model in selection.compiled.models.values():
            if model.unique_id in selection.selected and builds_relation(model.materialized):
                session.adapter.create_schema(model.relation.schema, model.relation.database)
    return HookRunner(session.adapter, session.workspace.compiler, session.compiled)


def write_artifacts(workspace: Workspace, command: str, outcome: RunOutcome, hooks: list[NodeResult] | None = None) -> None:
    """target/compiled with the SQL sent; run_results.json with the run hooks' operations first, as dbt's."""
    compiled = workspace.compile()
    target_dir, target = workspace.config.target_dir, workspace.target.name
    artifacts.write_compiled(target_dir, target, {compiled.models[n].path: sql for n, sql in outcome.executed_sql.items()})
    results = outcome.results
    artifacts.write_run_results(target_dir, target, command, RunResults([*(hooks or []), *results.results], results.elapsed))


def run_models(
    session: Session, selection: Selection, options: RunOptions, reporter: Reporter, after_build: Callable[[str], bool] | None = None,
    before_build: Callable[[str], str | None] | None = None,
) -> RunOutcome:
    """Build the selected models; failures skip their dependents. A model whose
    fingerprint is unchanged since its last build is not built again unless the
    cache is off or on a full refresh. `after_build(model id)` runs after each
    model builds (`fduck build`: its tests); False skips its dependents.
    `before_build(model id)` runs before (its unit tests); a message skips it."""
    from featureduck import __version__

    workspace, adapter, compiled = session.workspace, session.adapter, selection.compiled
    definition = workspace.definition
    # what the selected models read, through the models inlined into them and the views above them
    beneath = read_beneath(compiled, [m for m in compiled.models.values()
                                      if m.unique_id in selection.selected or not builds_relation(m.materialized)])
    read = [definition.sources[key] for key in beneath.sources]
    file_sources = [table for table in read if is_staged(table, adapter.traits)]
    # one catalog query for the state store, the models' schemas and the staged sources'
    adapter.preload_catalog(
        [runs_table(adapter), legacy_builds_table(adapter), *watermark_tables(adapter)]
        + [m.relation.to_table() for m in compiled.models.values() if m.unique_id in selection.selected]
        + [staged_relation(table, workspace.target.schema).to_table() for table in file_sources]
    )
    builds = read_builds(adapter)
    checksums = {uid: record.sql_checksum for uid, record in builds.items()}
    # --full-refresh reloads staged file sources too
    staged = stage_file_sources(adapter, file_sources, workspace.config.root, workspace.target.schema,
                                {} if options.full_refresh else checksums)
    for item in staged:
        reporter.source_staged(f"{item.source.source_name}.{item.source.name}", item.relation, item.rows)
    session.prepare(t for t in read if not is_staged(t, adapter.traits))
    watermarks = {}
    if any(table.incremental for table in read):
        create_state_tables(adapter)
        watermarks = read_watermarks(adapter)
    runner = Runner(
        compiler=workspace.compiler, project=compiled, adapter=adapter, selected=selection.selected, threads=session.threads,
        reporter=reporter, full_refresh=options.full_refresh, previous_checksums=checksums, checks=_column_checks(session),
        increments=WatermarkedSources(adapter, definition, watermarks), after_build=after_build, before_build=before_build,
        hooks=run_hooks(session), fail_fast=options.fail_fast,
    )
    seeds = beneath.seed_tables(definition, workspace.compiler.seed_relations())
    fingerprints = model_fingerprints(
        definition, compiled, set(runner.plan.order), recorded_builds(builds),
        data_versions(adapter, read, seeds, workspace.config.root), __version__, adapter.session_time_zone(),
    )
    cached = {}
    if options.use_cache and not options.full_refresh:
        relations = {m.unique_id: m.relation.to_table() for m in compiled.models.values()}
        # a model rendered at run time has SQL the cache has not seen, a model's hooks (and
        # persisted docs) effects it cannot see: such models always build
        at_run = {m.unique_id for m in compiled.models.values()
                  if m.renders_at_run or hook_texts(m.config.get("pre_hook")) or hook_texts(m.config.get("post_hook"))
                  or m.config.get("persist_docs")  # descriptions are outside the fingerprint
                  or not cacheable(m.materialized)}
        cached = {
            uid: f"unchanged since {builds[uid].built_at:%Y-%m-%d %H:%M:%S} UTC" for uid, fingerprint in fingerprints.items()
            if fingerprint.value is not None and uid in builds and builds[uid].fingerprint == fingerprint.value
            and adapter.relation_kind(relations[uid]) is not None and uid not in at_run
        }
    results = runner.run(cached)
    _record(session, compiled, results, runner.executed_sql, fingerprints, staged)
    executed = {n: sql for n, sql in runner.executed_sql.items() if sql != compiled.models[n].sql}
    return RunOutcome(results, executed)


def _column_checks(session: Session) -> dict[str, ColumnCheck]:
    """Per model: its dates' differences (runner.built_types), its contract, then its feature
    views' declared dtypes, checked against what the engine built before it replaces the
    previous relation."""
    definition, adapter = session.workspace.definition, session.adapter
    checks: dict[str, ColumnCheck] = {}
    if definition.feature_views:
        from featureduck.store.validation import build_checks

        checks = build_checks(definition, adapter)
    for name, contract in contract_checks(definition, session.compiled, adapter).items():
        checks[name] = combine(contract, checks.get(name))
    for name, days in date_difference_checks(definition, session.compiled, adapter.DIALECT).items():
        checks[name] = combine(days, checks.get(name))
    return checks


def _record(
    session: Session, compiled: CompiledProject, results: RunResults, executed_sql: dict[str, str],
    fingerprints: dict[str, Fingerprint], staged: list[StagedSource],
) -> None:
    """The state store's rows for this run: each node built (a view with the definition and
    inputs its cache entry stands for), each staged source, the feature views' tie checks."""
    now = utc_now()
    built = {r.name: sha256_text(executed_sql[r.name]) for r in results.results if r.status == "success"}
    rows = [_node_run(r, fingerprints.get(r.unique_id) if r.status == "success" else None, built.get(r.name), now)
            for r in results.results if r.status != "skipped"]
    # a staged source's row holds the fingerprint of the files it was loaded from
    rows += [
        NodeRun(item.source.unique_id, f"{item.source.source_name}.{item.source.name}", item.relation, "staged",
                "staged", now, item.fingerprint, rows_affected=item.rows)
        for item in staged if item.rows is not None
    ]
    definition = session.workspace.definition
    tie_checks = []
    if definition.feature_views:
        from featureduck.store.ties import checks_of_built_views

        # each with the fingerprint its model was built at: a view's check holds only at that one
        uids = {m.name: m.unique_id for m in compiled.models.values()}
        checked = {name: (checksum, fingerprints[uids[name]].value if uids[name] in fingerprints else None)
                   for name, checksum in built.items()}
        tie_checks = checks_of_built_views(definition, compiled, checked, now)
    record_run(session.adapter, rows, tie_checks)


def _node_run(result: NodeResult, fingerprint: Fingerprint | None, checksum: str | None, now: datetime.datetime) -> NodeRun:
    keeps_inputs = fingerprint is not None and live(result.materialized)
    return NodeRun(
        result.unique_id, result.name, result.relation, result.materialized, result.status, now, checksum,
        fingerprint.value if fingerprint else None,
        datetime.datetime.fromtimestamp(result.started_at, datetime.UTC).replace(tzinfo=None), result.execution_time,
        result.rows_affected,
        definition=fingerprint.definition if fingerprint and keeps_inputs else None,
        inputs=fingerprint.inputs.to_dict() if fingerprint and keeps_inputs else None,
    )

