"""Concrete advice on a model, from the project's shape, its SQL, its plan and its history.

Each rule names what it found and what to change:

- a view read by several models is computed once per reader: make it a table;
- an incremental model without `unique_key` appends re-processed rows again;
- a filter that wraps a column in a function or cast (`date_trunc('day', ts)
  = ...`, `year(ts) = 2024`) keeps the engine from skipping row groups or
  partitions by the column's min/max: compare the bare column to a range;
- a nested-loop join or cross product in the plan: the join has no equality
  the engine could hash on;
- the model took much longer in its last run than it usually does.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from featureduck.advice.runs import regressed
from featureduck.compiler.compile import CompiledProject
from featureduck.engines.plans import Plan
from featureduck.materializations.registry import builds_relation, live, strategy_for
from featureduck.runner.state import Timing

MANY_READERS = 3
_NESTED_LOOPS = ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT", "PIECEWISE_MERGE_JOIN", "Nested Loop")
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


@dataclass(frozen=True)
class Suggestion:
    rule: str
    message: str


def suggest(compiled: CompiledProject, name: str, dialect: str, plan: Plan | None, timings: list[Timing]) -> list[Suggestion]:
    model = compiled.models[name]
    found: list[Suggestion] = []
    for relation in [name, *model.refs]:
        parent = compiled.models.get(relation)
        # a relation that computes what it reads each time it is read: a view
        if parent is None or not (live(parent.materialized) and builds_relation(parent.materialized)):
            continue
        readers = sorted(compiled.models[child].name for child in _model_names(compiled, compiled.dag.children(parent.unique_id)))
        if len(readers) >= MANY_READERS:
            found.append(Suggestion("view-read-by-many", (
                f"view '{relation}' is read by {len(readers)} models ({', '.join(readers[:5])}{', ...' if len(readers) > 5 else ''}): "
                "each computes it again; materialize it as a table (config(materialized='table')) to compute it once per run")))
    found += [Suggestion(rule, message) for rule, message in strategy_for(model.materialized, model.path).advice(model)]
    found += _unprunable_filters(model.sql, dialect)
    if plan is not None and plan.root is not None:
        loops = [node for node in plan.root.walk() if node.operator in _NESTED_LOOPS]
        if loops:
            found.append(Suggestion("nested-loop-join", (
                f"the plan joins with {loops[0].operator}"
                + (f" ({loops[0].detail})" if loops[0].detail else "")
                + ": without an equality between the two sides the engine compares every pair of rows; "
                "add an equality condition (a key) so it can hash-join")))
    finished = [t for t in timings if t.unique_id == model.unique_id and t.status == "success"]
    if len(finished) >= 3:
        latest, typical = finished[0].seconds, statistics.median(t.seconds for t in finished[1:])
        if regressed(latest, typical):
            found.append(Suggestion("slower-than-usual", (
                f"its last run took {latest:.2f}s, {latest / typical:.1f}x its median of {typical:.2f}s "
                f"over {len(finished) - 1} earlier runs")))
    return found


def _model_names(compiled: CompiledProject, unique_ids: list[str]) -> list[str]:
    names = {m.unique_id: n for n, m in compiled.models.items()}
    return [names[uid] for uid in unique_ids if uid in names]


def _unprunable_filters(sql: str, dialect: str) -> list[Suggestion]:
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return []
    found = []
    for where in tree.find_all(exp.Where):
        for comparison in where.find_all(*_COMPARISONS):
            sides = [comparison.this, *comparison.expressions] if isinstance(comparison, exp.In) else [
                comparison.this, comparison.args.get("expression"), comparison.args.get("low"), comparison.args.get("high")]
            wrapped = [side for side in sides if isinstance(side, (exp.Func, exp.Cast)) and side.find(exp.Column) is not None]
            constants = [side for side in sides[1:] if side is not None and side.find(exp.Column) is None]
            if wrapped and constants:
                column = wrapped[0].find(exp.Column)
                assert column is not None
                found.append(Suggestion("filter-prevents-pruning", (
                    f"the filter `{comparison.sql(dialect=dialect)}` wraps column {column.name} in `{wrapped[0].sql(dialect=dialect)}`: "
                    f"the engine cannot skip data by the column's min/max; compare {column.name} itself "
                    "to a range instead (e.g. ts >= '2024-01-01' and ts < '2025-01-01')")))
    return found
