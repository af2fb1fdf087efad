"""`fduck build`: seeds, models, snapshots and tests in DAG order over one session. A test runs
once what it reads is built; a node whose error-severity test fails holds back its
dependents."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from featureduck.compiler.compile import CompiledProject
from featureduck.materializations.registry import builds_relation
from featureduck.project.ids import NodeId
from featureduck.runner import artifacts
from featureduck.runner.results import NodeResult, RunResults
from featureduck.runner.scheduler import plan_run
from featureduck.tasks.options import RunOptions
from featureduck.tasks.run import RunOutcome, run_hooks, run_models
from featureduck.tasks.seed import load_seeds
from featureduck.tasks.test import select_tests
from featureduck.tasks.workspace import Selection, Workspace
from featureduck.testing.execute import TestResult, TestsAfterBuilds

if TYPE_CHECKING:
    from featureduck.tasks.reporting import Reporter


def build(workspace: Workspace, options: RunOptions, reporter: Reporter) -> tuple[RunResults, list[TestResult]]:
    started = time.perf_counter()
    selection = workspace.selection(options.selector)
    tests = select_tests(workspace, options.selector)
    compiled = selection.compiled
    building = {uid for uid in selection.selected if NodeId.parse(uid).kind in ("model", "snapshot", "seed")}
    with workspace.session(options.threads) as session:
        hooks = run_hooks(session, selection)
        hooks.run_hooks("on-run-start")
        session.prepare(workspace.definition.sources[key] for key in sorted({k for t in tests for k in t.sources}))
        checker = TestsAfterBuilds(
            session.adapter, tests, workspace.config.name, workspace.definition.ref_ids(),
            set(workspace.selectable_nodes(compiled)) - building, reporter, _stand_ins(compiled), _reads_inlined(compiled),
        )
        seeded = Selection(compiled, {uid for uid in building if NodeId.parse(uid).kind == "seed"})
        names = {model.unique_id: name for name, model in workspace.definition.models.items()}
        planned = plan_run(compiled, building, names).order  # the models and snapshots that build a relation
        reporter.plan(len(seeded.selected) + len(planned) + len(tests))  # one numbering
        checker.after(None)  # tests of sources and of nodes this command does not build
        seeds = load_seeds(session, seeded, reporter) if seeded.selected else []
        held = [result.unique_id for result in seeds if result.status != "success" or not checker.after(result.unique_id)]
        skipped = sorted({d for uid in held for d in compiled.dag.descendants(uid)} & building)
        held_names = ", ".join(NodeId.parse(uid).name for uid in held)
        why = f"skipped: upstream seed {held_names} did not load or failed its tests"
        if held and options.fail_fast:  # the first failure stops the build: nothing more starts
            skipped = sorted(planned)
            why = f"skipped: --fail-fast stopped the build when seed {NodeId.parse(held[0]).name} failed"
        skips = _held_back(workspace, selection, skipped, why)
        for position, skip in enumerate(skips, start=1):
            reporter.node_finished(position, len(skips), skip)
        models = Selection(compiled, selection.selected - set(skipped))
        if any(NodeId.parse(uid).kind in ("model", "snapshot") for uid in models.selected & building):
            ran = run_models(session, models, options, reporter, checker.after, checker.before)
        else:
            ran = RunOutcome(RunResults([], 0.0), {})
        checker.skip_pending()
        tested = [checker.results[i] for i in sorted(checker.results)]
        results = RunResults([*seeds, *ran.results.results, *skips], time.perf_counter() - started)
        artifacts.write_compiled(workspace.config.target_dir, workspace.target.name,
                                 {compiled.models[n].path: sql for n, sql in ran.executed_sql.items()})
        nodes = [*results.results, *_saved_queries(workspace), *(t.to_node_result() for t in tested)]
        try:
            hooks.run_hooks("on-run-end", nodes)
        finally:
            recorded = RunResults([*hooks.recorded, *nodes], results.elapsed)
            artifacts.write_run_results(workspace.config.target_dir, workspace.target.name, "build", recorded)
            artifacts.record_test_results(workspace.config.target_dir, workspace.target.name,
                                          (t.to_node_result() for t in tested))
    return results, tested


def _saved_queries(workspace: Workspace) -> list[NodeResult]:
    """dbt's build lists each saved query as a node with nothing to do (its exports run in
    dbt Cloud's semantic layer): so does featureduck's run_results.json."""
    now, project = time.time(), workspace.config.name
    return [NodeResult(f"saved_query.{project}.{name}", name, "saved_query", "", "no-op", now, now)
            for name in sorted(workspace.definition.kept.get("saved_queries", {}))]


def _stand_ins(compiled: CompiledProject) -> dict[str, set[str]]:
    """Per model that builds no relation (ephemeral): the nearest nodes above it that do."""
    inlined = {m.unique_id for m in compiled.models.values() if not builds_relation(m.materialized)}

    def nearest(uid: str) -> set[str]:
        found: set[str] = set()
        for parent in compiled.dag.parents(uid):
            found |= nearest(parent) if parent in inlined else {parent}
        return found

    return {uid: nearest(uid) for uid in inlined}


def _reads_inlined(compiled: CompiledProject) -> dict[str, set[str]]:
    """Per node: the models inlined into it (ephemeral), through chains of them."""
    inlined = {m.unique_id for m in compiled.models.values() if not builds_relation(m.materialized)}

    def through(uid: str) -> set[str]:
        found: set[str] = set()
        for parent in compiled.dag.parents(uid):
            if parent in inlined:
                found |= {parent} | through(parent)
        return found

    return {uid: read for uid in compiled.dag.nodes if (read := through(uid))}


def _held_back(workspace: Workspace, selection: Selection, skipped: list[str], why: str) -> list[NodeResult]:
    """What a seed that did not load (or failed its tests) holds back, as skips."""
    now = time.time()
    relation = {name: model.relation.sql(workspace.target.dialect) for name, model in selection.compiled.models.items()}
    names = [NodeId.parse(uid).name for uid in skipped]
    materialized = {name: model.materialized for name, model in selection.compiled.models.items()}
    return [NodeResult(uid, name, materialized.get(name, "model"), relation.get(name, name), "skipped", now, now, message=why)
            for uid, name in zip(skipped, names, strict=True)]
