"""`fduck test`: the data tests of the selected nodes, each counted in the engine."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from featureduck.project.ids import NodeId
from featureduck.runner import artifacts
from featureduck.runner.results import RunResults
from featureduck.tasks.options import Selector, TestOptions
from featureduck.tasks.workspace import Workspace
from featureduck.testing.definitions import collect_tests
from featureduck.testing.execute import CompiledTest, TestResult, compile_tests, run_tests

if TYPE_CHECKING:
    from featureduck.tasks.reporting import Reporter


def select_tests(workspace: Workspace, selector: Selector) -> list[CompiledTest]:
    """The tests of the selected nodes and those reading them (all without a selection), compiled."""
    selection = workspace.selection(selector)
    definition = workspace.definition
    compiled = compile_tests(workspace.compiler, selection.compiled, list(collect_tests(definition).values()))
    if not selector.narrows:
        return compiled
    project = workspace.config.name
    ref_ids = definition.ref_ids()

    def reads_selected(test: CompiledTest) -> bool:
        read = [ref_ids[ref] for ref in test.refs] + [str(NodeId("source", project, f"{s}.{n}")) for s, n in test.sources]
        own = test.test.unique_id in selection.selected or test.test.attached_to in selection.selected
        return own or any(node in selection.selected for node in read)

    return [test for test in compiled if reads_selected(test)]


def test(workspace: Workspace, options: TestOptions, reporter: Reporter) -> list[TestResult]:
    tests = select_tests(workspace, options.selector)
    started = time.perf_counter()
    refs = sorted({r for t in tests for r in t.refs})
    with workspace.session(options.threads) as session:
        session.read(refs, [(s, t) for test in tests for s, t in test.sources], check_built=False)
        # a test of a relation that is not built is an error that says so (tests share refs: asked once each)
        unbuilt = {refs: session.unbuilt(list(refs)) for refs in {t.refs for t in tests if t.sql is not None}}
        tests = [replace(t, sql=None, error=f"{t.test.location}: {missing[0]}; {missing[1]}")
                 if t.sql is not None and (missing := unbuilt[t.refs]) else t for t in tests]
        results = run_tests(session.adapter, tests, session.threads, reporter, options.fail_fast)
    run = RunResults([r.to_node_result() for r in results], time.perf_counter() - started)
    artifacts.write_run_results(workspace.config.target_dir, workspace.target.name, "test", run)
    artifacts.record_test_results(workspace.config.target_dir, workspace.target.name, run.results)
    return results
