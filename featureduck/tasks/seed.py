"""`fduck seed`: the selected seeds (all without a selection) loaded into tables,
each replaced whole, in bulk."""

from __future__ import annotations

import time
from typing import Any

from sqlglot import exp

from featureduck.errors import FeatureDuckError
from featureduck.runner import artifacts
from featureduck.runner.results import NodeResult, RunReporter, RunResults
from featureduck.sources.seeds import load_data, load_seed
from featureduck.tasks.options import Selector
from featureduck.tasks.session import Session
from featureduck.tasks.workspace import Selection, Workspace


def seed(workspace: Workspace, selector: Selector, reporter: RunReporter) -> list[NodeResult]:
    selection = workspace.selection(selector)
    started = time.perf_counter()
    with workspace.session() as session:
        results = load_seeds(session, selection, reporter)
    artifacts.write_run_results(workspace.config.target_dir, workspace.target.name, "seed",
                                RunResults(results, time.perf_counter() - started))
    return results


def load_seeds(session: Session, selection: Selection, reporter: RunReporter) -> list[NodeResult]:
    workspace, adapter = session.workspace, session.adapter
    seeds = [s for s in workspace.definition.seeds.values() if s.unique_id in selection.selected and s.config.get("enabled", True)]
    relations = workspace.compiler.seed_relations()
    results: list[NodeResult] = []
    for index, item in enumerate(seeds, start=1):
        relation = relations[item.name].sql(adapter.DIALECT)
        reporter.node_started(index, len(seeds), item.name, "seed", relation)
        began = time.time()
        try:
            rows = load_seed(adapter, item, relations[item.name].to_table(), workspace.config.root, workspace.config.dialect,
                             dbt_types=workspace.config.is_dbt)
            result = NodeResult(item.unique_id, item.name, "seed", relation, "success", began, time.time(), rows, "loaded seed")
        except FeatureDuckError as err:
            result = NodeResult(item.unique_id, item.name, "seed", relation, "error", began, time.time(), message=str(err))
        results.append(result)
        reporter.node_finished(index, len(seeds), result)
    return results


def load_table(workspace: Workspace, name: str, data: Any, schema: str | None = None) -> int:
    """Replace table `name` (in `schema`, default the target's) with rows in bulk; the count."""
    table = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema or workspace.target.schema))
    with workspace.session() as session:
        return load_data(session.adapter, table, data)
