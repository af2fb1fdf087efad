"""Run data tests: each compiled query counted in the engine, its failing rows kept
in a table when `store_failures` is set, on a pool of the adapter's threads."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject, Compiler
from featureduck.engines.base import EngineAdapter
from featureduck.errors import FeatureDuckError
from featureduck.project.ids import NodeId
from featureduck.runner.results import NodeResult
from featureduck.testing.definitions import DataTest
from featureduck.testing.unit import UnitCase, run_unit

AUDIT_SUFFIX = "_dbt_test__audit"  # where dbt keeps stored failures, so its users find them


@dataclass
class TestResult:
    test: DataTest
    status: str  # pass | warn | fail | error | skipped (in a build, what it reads was not built)
    failures: int | None
    started_at: float
    completed_at: float
    message: str = ""
    sql: str = ""
    stored_in: str | None = None

    @property
    def execution_time(self) -> float:
        return self.completed_at - self.started_at

    def to_node_result(self) -> NodeResult:
        """As run_results.json records it: status pass, warn, fail or error; the failures in the message."""
        message = self.message or (f"{self.failures} failing rows" if self.failures else "")
        return NodeResult(self.test.unique_id, self.test.name, "test", self.stored_in or "", self.status,
                          self.started_at, self.completed_at, self.failures, message)


class TestProgress(Protocol):
    """The tests' part of the tasks' reporter (featureduck.tasks.reporting)."""

    def test_started(self, index: int, total: int, test: DataTest) -> None: ...

    def test_finished(self, index: int, total: int, result: TestResult) -> None: ...


def failures_table(adapter: EngineAdapter, test: DataTest) -> exp.Table:
    return exp.Table(this=exp.to_identifier(test.failures_identifier), db=exp.to_identifier(adapter.target.schema + AUDIT_SUFFIX))


@dataclass(frozen=True)
class CompiledTest:
    test: DataTest
    sql: str | None  # None: it failed to compile
    config: dict[str, object]
    error: str = ""
    refs: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    unit: UnitCase | None = None  # a unit test: compiled and run when what it reads is built
    at_run: tuple[Compiler, CompiledProject] | None = None  # its Jinja asks the database: compiled when it runs


def compile_tests(compiler: Compiler, project: CompiledProject, tests: list[DataTest]) -> list[CompiledTest]:
    """Each test's query for the target, on the calling thread (rendering is not thread-safe).
    A singular test's own `{{ config(severity='warn') }}` joins its config."""
    compiled = []
    for test in tests:
        if test.test_type == "unit":
            compiled.append(_unit_test(compiler, project, test))
            continue
        try:
            query = compiler.compile_query(test.name, test.location.file, test.raw_sql, project)
        except FeatureDuckError as err:
            compiled.append(CompiledTest(test, None, test.config, str(err) if err.location else f"{test.location}: {err}"))
            continue
        own = {k: v for k, v in query.config.items() if k in _QUERY_CONFIGS}
        # a singular test's config() is its own; a generic test's (its macro's) is a default its YAML overrides
        config = {**test.config, **own} if test.test_type == "singular" else {**own, **test.config}
        at_run = (compiler, project) if query.renders_at_run and not query.sql else None
        compiled.append(CompiledTest(
            test, query.sql, config, "", tuple(query.refs), tuple((k[0], k[1]) for k in query.sources), at_run=at_run,
        ))
    return compiled


def _unit_test(compiler: Compiler, project: CompiledProject, test: DataTest) -> CompiledTest:
    """A unit test reads what its model reads: it runs once those are built."""
    unit = compiler.definition.unit_tests[test.unique_id]
    model = project.models.get(unit.model)
    if model is None:
        return CompiledTest(test, None, test.config, f"{test.location}: model '{unit.model}' did not compile")
    return CompiledTest(test, "", test.config, "", tuple(model.refs), tuple(model.sources), UnitCase(unit, compiler, project))


def run_test(adapter: EngineAdapter, compiled: CompiledTest) -> TestResult:
    started = time.time()
    test, sql = compiled.test, compiled.sql
    if sql is None:
        return TestResult(test, "error", None, started, time.time(), compiled.error)
    if compiled.unit is not None:
        return _run_unit(adapter, compiled.unit, test, started)
    if compiled.at_run is not None:  # dbt's second render, with `execute` true, now that what it reads is built
        compiler, project = compiled.at_run
        try:
            sql = compiler.compile_query(test.name, test.location.file, test.raw_sql, project).sql
        except FeatureDuckError as err:
            return TestResult(test, "error", None, started, time.time(), str(err) if err.location else f"{test.location}: {err}")
    stored_in = None
    config = compiled.config
    try:
        calc: exp.Expr = exp.maybe_parse(str(config.get("fail_calc") or "count(*)"), dialect=adapter.DIALECT)
        if config.get("store_failures"):
            table = failures_table(adapter, test)
            adapter.create_schema(str(table.db))
            adapter.replace_table(table, sql)
            counted: exp.Expr = exp.select(calc).from_(table)
            stored_in = adapter.sql(table)
        else:
            counted = exp.select(calc).from_(exp.maybe_parse(sql, dialect=adapter.DIALECT).subquery("failures"))
        value = adapter.execute(counted)[0][0]
        failures = int(value or 0)
    except (FeatureDuckError, ValueError, TypeError) as err:
        return TestResult(test, "error", None, started, time.time(), f"{test.location}: {err}", sql)
    try:
        status = _status(failures, config)
    except ValueError as err:
        return TestResult(test, "error", None, started, time.time(), f"{test.location}: {err}", sql)
    return TestResult(test, status, failures, started, time.time(), "", sql, stored_in)


_QUERY_CONFIGS = ("severity", "store_failures", "fail_calc", "warn_if", "error_if")
_CONDITION = re.compile(r"^\s*(==|!=|>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$")


def _status(failures: int, config: dict[str, object]) -> str:
    """dbt's rule: at error severity, `error_if` (default != 0) fails, else `warn_if` warns;
    at warn severity only `warn_if` counts."""
    def holds(condition: object) -> bool:
        match = _CONDITION.match(str(condition))
        if match is None:
            raise ValueError(f"a test's warn_if/error_if is a comparison with a number (like '>10'), not {condition!r}")
        operator, number = match.group(1), float(match.group(2))
        return {"==": failures == number, "=": failures == number, "!=": failures != number, ">=": failures >= number,
                "<=": failures <= number, ">": failures > number, "<": failures < number}[operator]

    severity = str(config.get("severity", "error")).lower()
    if severity == "error" and holds(config.get("error_if", "!=0")):
        return "fail"
    return "warn" if holds(config.get("warn_if", "!=0")) else "pass"


def _run_unit(adapter: EngineAdapter, case: UnitCase, test: DataTest, started: float) -> TestResult:
    try:
        outcome = run_unit(adapter, case)
    except FeatureDuckError as err:
        return TestResult(test, "error", None, started, time.time(), str(err) if err.location else f"{test.location}: {err}")
    status = "pass" if outcome.differences == 0 else "fail"
    return TestResult(test, status, outcome.differences, started, time.time(), outcome.message, outcome.sql)


def run_tests(
    adapter: EngineAdapter, tests: list[CompiledTest], threads: int, reporter: TestProgress, fail_fast: bool = False,
) -> list[TestResult]:
    """Every test, `threads` at a time; results in the order of `tests`. With `fail_fast`,
    a failing (or erroring) test stops those not yet started: they are skipped."""
    total = len(tests)
    failed = threading.Event()

    def one(index: int, compiled: CompiledTest) -> TestResult:
        if failed.is_set():
            now = time.time()
            result = TestResult(compiled.test, "skipped", None, now, now, "skipped: --fail-fast stopped the tests after a failure")
        else:
            reporter.test_started(index, total, compiled.test)
            result = run_test(adapter, compiled)
            if fail_fast and result.status in ("fail", "error"):
                failed.set()
        reporter.test_finished(index, total, result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = [pool.submit(one, index, compiled) for index, compiled in enumerate(tests, start=1)]
        return [future.result() for future in futures]


class TestsAfterBuilds:
    """`fduck build`: each test runs once every node it reads is built (or loaded),
    right after the last of them; an error-severity failure holds back the
    dependents of the node it is attached to."""

    def __init__(
        self, adapter: EngineAdapter, tests: list[CompiledTest], project_name: str, ref_ids: dict[str, str], built: set[str],
        reporter: TestProgress, stand_ins: dict[str, set[str]] | None = None, reads_inlined: dict[str, set[str]] | None = None,
    ) -> None:
        """`ref_ids`: the node id each ref() name stands for (a model, snapshot or seed).
        `stand_ins`: for a model that is never built (ephemeral, inlined), the nodes a test
        reading it waits for instead; `reads_inlined`: per node, the inlined models it reads
        (a failing test of one holds the node back, as dbt skips the ephemeral's children)."""
        self.adapter = adapter
        self.reporter = reporter
        self.total = len(tests)
        self.done = set(built)  # sources and nodes not built by this command count as there
        self.pending: dict[int, tuple[CompiledTest, set[str]]] = {}
        self.guards: dict[int, set[str]] = {}
        # unit tests of the models this command builds: run just before their model (`before`)
        self.units: dict[str, list[tuple[int, CompiledTest]]] = {}
        for index, compiled in enumerate(tests, start=1):
            parents = {ref_ids[ref] for ref in compiled.refs}
            parents |= {str(NodeId("source", project_name, f"{s}.{t}")) for s, t in compiled.sources}
            for inlined in parents & set(stand_ins or {}):
                parents = (parents - {inlined}) | (stand_ins or {})[inlined]
            attached = compiled.test.attached_to
            if compiled.unit is not None and attached and attached not in built:
                self.units.setdefault(attached, []).append((index, compiled))
                continue
            if attached and compiled.unit is None:
                parents.add(attached)
            self.pending[index] = (compiled, parents)
            # what a failure holds back the dependents of: the tested node, or a singular test's refs (as dbt's build)
            read = {ref_ids[ref] for ref in compiled.refs}
            self.guards[index] = {attached} if attached else read if compiled.test.test_type == "singular" else set()
        self.results: dict[int, TestResult] = {}
        self.reads_inlined = reads_inlined or {}
        self.stand_ins = stand_ins or {}
        self.failed_on: dict[str, str] = {}  # an inlined model guarded by a test that failed -> the test
        self._lock = threading.Lock()

    def after(self, uid: str | None) -> bool:
        """Run the tests `uid` completes (None: those ready before anything is built); False
        when one guarding it (attached to it, or a singular test reading it) failed at error severity."""
        with self._lock:
            if uid is not None:
                self.done.add(uid)
            ready = [(i, c) for i, (c, parents) in self.pending.items() if parents <= self.done]
            for index, _ in ready:
                del self.pending[index]
        passed = True
        for index, compiled in ready:
            result = self._run(index, compiled)
            if result.status == "error" or (result.status == "fail" and str(compiled.config.get("severity", "error")).lower() == "error"):
                passed = passed and uid not in self.guards.get(index, set())
                with self._lock:
                    for guarded in self.guards.get(index, set()) & set(self.stand_ins):
                        self.failed_on.setdefault(guarded, compiled.test.name)
        return passed

    def before(self, uid: str) -> str | None:
        """Run the unit tests of model `uid`, whose parents are built; why the model must
        not build when one fails (dbt skips it), else None."""
        with self._lock:
            units = self.units.pop(uid, [])
            held = sorted(self.failed_on[e] for e in self.reads_inlined.get(uid, set()) if e in self.failed_on)
        if held:
            return f"skipped: test {', '.join(held)} of an ephemeral model it reads failed"
        failed = [compiled.test.name for index, compiled in units if self._run(index, compiled).status in ("fail", "error")]
        return f"skipped: unit test {', '.join(failed)} did not pass" if failed else None

    def _run(self, index: int, compiled: CompiledTest) -> TestResult:
        self.reporter.test_started(index, self.total, compiled.test)
        result = run_test(self.adapter, compiled)
        self.reporter.test_finished(index, self.total, result)
        with self._lock:
            self.results[index] = result
        return result

    def skip_pending(self) -> None:
        """The tests whose parents never finished (failed, or skipped in turn), and the unit
        tests of models never started: skipped, as dbt reports them, rather than left out."""
        with self._lock:
            pending, self.pending = self.pending, {}
            units, self.units = self.units, {}
        now = time.time()
        waiting = [(index, compiled, parents - self.done) for index, (compiled, parents) in pending.items()]
        waiting += [(index, compiled, {model}) for model, tests in units.items() for index, compiled in tests]
        for index, compiled, missing in sorted(waiting, key=lambda item: item[0]):
            names = ", ".join(NodeId.parse(uid).name for uid in sorted(missing))
            result = TestResult(compiled.test, "skipped", None, now, now, f"skipped: {names} was not built")
            self.reporter.test_finished(index, self.total, result)
            self.results[index] = result
