"""Build selected models on a thread pool, each as soon as its parents are built.

A failed model marks every selected descendant skipped; the rest of the DAG
keeps building. A model the run cache found unchanged (runner.fingerprints)
is reported `cached` and its dependents go on as if it had built. Ephemeral
models are inlined by the compiler, so they are not built; ordering passes
through them to their nearest built ancestors.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler
from featureduck.engines.base import ColumnCheck, EngineAdapter
from featureduck.errors import CompilationError, FeatureDuckError, SourceLocation
from featureduck.materializations.base import BuildContext, IncrementReader, no_increments
from featureduck.materializations.registry import builds_relation, strategy_for
from featureduck.runner.hooks import HookRunner
from featureduck.runner.results import NodeResult, RunReporter, RunResults

T = TypeVar("T")


class CallingThreadExecutor(Executor):
    """Runs each task as it is submitted. With one thread a run builds on the
    calling thread, which already holds the adapter's connection: no worker
    thread, and on Postgres no second connection to open."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - delivered through the future, as a pool would
            future.set_exception(err)
        return future


@dataclass
class RunPlan:
    """Which models to build and what each waits for."""

    order: list[str]
    waits_for: dict[str, set[str]] = field(default_factory=dict)
    dependents: dict[str, set[str]] = field(default_factory=dict)


def plan_run(project: CompiledProject, selected: set[str], names: dict[str, str]) -> RunPlan:
    """Selected, non-ephemeral models in topological order with their waits."""

    def builds(uid: str) -> bool:
        name = names.get(uid)
        if name is None or uid not in selected:
            return False
        model = project.models.get(name)
        return model is None or builds_relation(model.materialized)

    order = [uid for uid in project.dag.topological_order() if builds(uid)]
    runnable = set(order)
    nearest: dict[str, set[str]] = {}

    def nearest_runnable(uid: str) -> set[str]:
        if uid not in nearest:
            found: set[str] = set()
            for parent in project.dag.parents(uid):
                found |= {parent} if parent in runnable else nearest_runnable(parent)
            nearest[uid] = found
        return nearest[uid]

    plan = RunPlan(order)
    for uid in order:
        plan.waits_for[uid] = nearest_runnable(uid)
        plan.dependents.setdefault(uid, set())
        for parent in plan.waits_for[uid]:
            plan.dependents.setdefault(parent, set()).add(uid)
    return plan


class Runner:
    """One run's builds over one adapter. Keyword-only: a run has many settings and
    none reads well by position."""

    def __init__(
        self,
        *,
        compiler: Compiler,
        project: CompiledProject,
        adapter: EngineAdapter,
        selected: set[str],
        threads: int,
        reporter: RunReporter,
        full_refresh: bool = False,
        previous_checksums: dict[str, str] | None = None,
        checks: dict[str, ColumnCheck] | None = None,
        increments: IncrementReader | None = None,
        after_build: Callable[[str], bool] | None = None,
        before_build: Callable[[str], str | None] | None = None,
        hooks: HookRunner | None = None,
        fail_fast: bool = False,
    ) -> None:
        self.compiler = compiler
        self.fail_fast = fail_fast
        self.project = project
        self.adapter = adapter
        self.threads = max(1, threads)
        self.full_refresh = full_refresh
        self.reporter = reporter
        self.previous_checksums = previous_checksums or {}
        # per model name: a check of the new relation's columns before it replaces the old one
        self.checks = checks or {}
        # the incremental sources a model reads (none without a reader)
        self.increments = increments
        # `fduck build`: a built model's tests; False holds its dependents back
        self.after_build = after_build
        # `fduck build`: a model's unit tests, run first; a message skips the model
        self.before_build = before_build
        self.hooks = hooks  # models' pre- and post-hooks
        self.cached: dict[str, str] = {}
        self.names = {m.unique_id: name for name, m in compiler.definition.models.items()}
        self.plan = plan_run(project, selected, self.names)
        self._position = {uid: i + 1 for i, uid in enumerate(self.plan.order)}
        self.executed_sql: dict[str, str] = {}

    def run(self, cached: dict[str, str] | None = None) -> RunResults:
        """Build the plan; `cached` maps the models the run cache skips to what to say of each."""
        started = time.time()
        self.cached = cached or {}
        plan = self.plan
        total = len(plan.order)
        index = {uid: i + 1 for i, uid in enumerate(plan.order)}
        waiting = {uid: len(parents) for uid, parents in plan.waits_for.items()}
        ready = deque(uid for uid in plan.order if waiting[uid] == 0)
        results: dict[str, NodeResult] = {}
        executor = CallingThreadExecutor() if self.threads == 1 else ThreadPoolExecutor(self.threads, "fduck")
        stopped_by: list[str] = []  # --fail-fast: the node whose failure stopped the run
        with executor as pool:
            running: dict[Future[tuple[NodeResult, bool]], str] = {}

            def settle(uid: str, result: NodeResult, checked: bool) -> None:
                results[uid] = result
                if self.fail_fast and not stopped_by and (result.status == "error" or (result.built and not checked)):
                    stopped_by.append(uid)
                if result.built and not checked:
                    self._skip_descendants(uid, results, index, total, "its tests failed")
                elif result.built:
                    for child in sorted(plan.dependents[uid], key=index.__getitem__):
                        waiting[child] -= 1
                        if waiting[child] == 0 and child not in results:
                            ready.append(child)
                else:
                    self._skip_descendants(uid, results, index, total, "did not build")

            while (ready and not stopped_by) or running:
                while ready and not stopped_by and len(running) < self.threads:
                    uid = ready.popleft()
                    if uid in self.cached:  # settled here: a pool round trip costs more than the lookup
                        settle(uid, *self._cached_and_check(uid))
                        continue
                    self._report_start(uid, index[uid], total)
                    running[pool.submit(self._build_and_check, uid)] = uid
                if running:  # what runs when a failure stops the run finishes: nothing is left half built
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        settle(running.pop(future), *future.result())
        if stopped_by:
            why = f"skipped: --fail-fast stopped the run when '{self.names[stopped_by[0]]}' failed"
            for uid in plan.order:
                if uid not in results:
                    results[uid] = self._held(uid, why)
                    self.reporter.node_finished(index[uid], total, results[uid])
        ordered = [results[uid] for uid in plan.order if uid in results]
        return RunResults(ordered, time.time() - started)

    def _report_start(self, uid: str, position: int, total: int) -> None:
        self.reporter.node_started(position, total, self.names[uid], *self._described(uid))

    def _described(self, uid: str) -> tuple[str, str]:
        """A node's materialization and relation as told; one that did not compile has no
        relation, and its materialization is the one configured outside its SQL ("" if none)."""
        name = self.names[uid]
        model = self.project.models.get(name)
        if model is not None:
            return model.materialized, model.relation.sql(self.adapter.DIALECT)
        declared = self.compiler.definition.models[name]
        return str({**declared.folder_config, **declared.yaml_config}.get("materialized") or ""), name

    def _skip_descendants(self, failed: str, results: dict[str, NodeResult], index: dict[str, int], total: int, why: str) -> None:
        stack = list(self.plan.dependents[failed])
        now = time.time()
        failed_name = self.names[failed]
        while stack:
            uid = stack.pop()
            if uid in results:
                continue
            result = NodeResult(uid, self.names[uid], *self._described(uid), "skipped", now, now,
                                message=f"skipped: upstream model '{failed_name}' {why}")
            results[uid] = result
            self.reporter.node_finished(index[uid], total, result)
            stack.extend(self.plan.dependents[uid])

    def _cached_and_check(self, uid: str) -> tuple[NodeResult, bool]:
        held = self.before_build(uid) if self.before_build is not None else None
        if held:  # its unit tests failed: unchanged or not, it is held back, as a build would be
            result = self._held(uid, held)
            self.reporter.node_finished(self._position[uid], len(self.plan.order), result)
            return result, True
        name = self.names[uid]
        model = self.project.models[name]
        now = time.time()
        result = NodeResult(uid, name, model.materialized, model.relation.sql(self.adapter.DIALECT), "cached", now, now,
                            message=self.cached[uid])
        self.reporter.node_finished(self._position[uid], len(self.plan.order), result)
        return result, self.after_build(uid) if self.after_build is not None else True

    def _build_and_check(self, uid: str) -> tuple[NodeResult, bool]:
        """The build, reported as it ends, then (for `fduck build`) the tests it completes."""
        held = self.before_build(uid) if self.before_build is not None else None
        result = self._held(uid, held) if held else self._build(uid)
        self.reporter.node_finished(self._position[uid], len(self.plan.order), result)
        if not result.built or self.after_build is None:
            return result, True
        return result, self.after_build(uid)

    def _apply_configs(self, model: CompiledModel) -> None:
        """dbt's `grants` and `persist_docs` on the built relation (engines whose traits apply them)."""
        table = model.relation.to_table()
        if model.config.get("grants"):
            self.adapter.apply_grants(table, dict(model.config["grants"]))
        docs = model.config.get("persist_docs") or {}
        if docs.get("relation") or docs.get("columns"):
            declared = self.compiler.definition.models[model.name]
            columns = {n: c.description for n, c in declared.columns.items() if c.description} if docs.get("columns") else {}
            self.adapter.persist_docs(table, declared.description if docs.get("relation") else None, columns)

    def _held(self, uid: str, why: str) -> NodeResult:
        now = time.time()
        return NodeResult(uid, self.names[uid], *self._described(uid), "skipped", now, now, message=why)

    def _render_at_run(self, model: CompiledModel) -> CompiledModel:
        """dbt's second render: `execute` true, its queries run on the target. A ref the
        parse-time render did not see is an error, as in dbt: the DAG did not order it."""
        again = self.compiler.recompile(model.name, self.project, False)
        unseen = [ref for ref in again.refs if ref not in model.refs]
        if unseen:
            raise CompilationError(
                f"ref('{unseen[0]}') appears only when `execute` is true, so the build order could not include it",
                SourceLocation(model.path), f"add `-- depends_on: {{{{ ref('{unseen[0]}') }}}}` at the top of the model",
            )
        return again

    def _build(self, uid: str) -> NodeResult:
        name = self.names[uid]
        started = time.time()
        model = self.project.models.get(name)
        materialized, relation = self._described(uid)
        try:
            if model is None:
                raise self.project.errors[name]
            if model.renders_at_run:
                model = self._render_at_run(model)
            strategy = strategy_for(model.materialized, model.path)
            context = BuildContext(
                self.adapter,
                self.full_refresh,
                lambda incremental, sources: self.compiler.recompile(name, self.project, incremental, sources),
                self.previous_checksums.get(uid),
                self.checks.get(name),
                (lambda full: increments.increments(model, full)) if (increments := self.increments) else no_increments,
            )
            if self.hooks is not None:
                self.hooks.model_hooks(model, "pre_hook")
            outcome = strategy.build(model, context)
            if builds_relation(model.materialized):
                self._apply_configs(model)
            if self.hooks is not None:
                self.hooks.model_hooks(model, "post_hook")
            self.executed_sql[name] = outcome.sql
            return NodeResult(uid, name, materialized, relation, "success", started, time.time(), outcome.rows_affected, outcome.message)
        except FeatureDuckError as err:
            message = str(err) if err.location else f"{self.compiler.definition.models[name].path}: {err}"
            return NodeResult(uid, name, materialized, relation, "error", started, time.time(), message=message)
