"""dbt's hooks: a model's `pre-hook`/`post-hook`, the project's `on-run-start`/`on-run-end`.

Each hook is SQL in the target's own dialect, rendered when it runs (as dbt
renders it late, with `this`, `execute` true and, at the end of a run,
`results`) and sent as written. A failing pre-hook keeps the model from
building; a failing post-hook fails the model (its relation is built); a
failing run hook fails the command, naming the hook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler
from featureduck.engines.base import EngineAdapter
from featureduck.errors import FeatureDuckError, HookError, SourceLocation
from featureduck.runner.results import NodeResult


def hook_texts(value: Any) -> list[str]:
    """A hook config as dbt takes it: one SQL text, a list of them, or {sql: ...} mappings."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    texts = []
    for item in items:
        text = item.get("sql") if isinstance(item, dict) else item
        if text is not None and str(text).strip():
            texts.append(str(text))
    return texts


@dataclass
class HookRunner:
    adapter: EngineAdapter
    compiler: Compiler
    project: CompiledProject
    recorded: list[NodeResult] = field(default_factory=list)  # the run hooks' results, for run_results.json

    def model_hooks(self, model: CompiledModel, kind: str) -> None:
        """Run a model's `pre_hook` or `post_hook` hooks, in order."""
        for position, text in enumerate(hook_texts(model.config.get(kind)), start=1):
            self._run(text, model.name, {}, f"{kind.replace('_', '-')} {position} of model '{model.name}'", SourceLocation(model.path))

    def run_hooks(self, kind: str, results: list[NodeResult] | None = None) -> list[NodeResult]:
        """on-run-start (before anything builds) or on-run-end (with the results, as dbt's);
        each as dbt records it in run_results.json, an `operation` node. A failure is raised
        once every hook of `kind` has been tried."""
        config = self.compiler.definition.config
        names: dict[str, Any] = {"schemas": sorted({m.relation.schema for m in self.project.models.values()})}
        names["database_schemas"] = sorted({(m.relation.database or self.compiler.target.database, m.relation.schema)
                                            for m in self.project.models.values()})
        if results is not None:
            names["results"] = [_RunResult(r, config.name) for r in results]
        location = SourceLocation(config.file_name, config.raw.line_of(kind))
        ran, failure = [], None
        for position, text in enumerate(hook_texts(config.raw.get(kind))):
            uid = f"operation.{config.name}.{config.name}-{kind}-{position}"
            started = time.time()
            try:
                self._run(text, None, names, f"{kind} hook {position + 1}", location)
                ran.append(NodeResult(uid, f"{config.name}-{kind}-{position}", "hook", "", "success", started, time.time()))
            except HookError as err:
                ran.append(NodeResult(uid, f"{config.name}-{kind}-{position}", "hook", "", "error", started, time.time(),
                                      message=str(err)))
                failure = failure or err
        self.recorded += ran
        if failure is not None:
            raise failure
        return ran

    def _run(self, text: str, model: str | None, names: dict[str, Any], what: str, location: SourceLocation) -> None:
        try:
            sql = self.compiler.render_hook(text, self.project, model, names)
            if sql.strip():
                self.adapter.execute(sql)
        except FeatureDuckError as err:
            raise HookError(f"{what} failed: {err.message}", location) from None


class _RunResult:
    """One entry of on-run-end's `results`, shaped as dbt's (the fields hooks read)."""

    def __init__(self, result: NodeResult, project: str) -> None:
        kind = result.unique_id.split(".", 1)[0]
        self.status = result.status
        self.message = result.message
        self.execution_time = result.execution_time
        self.failures = result.rows_affected if kind in ("test", "unit_test") else None
        self.adapter_response = {"rows_affected": result.rows_affected}
        self.node = {"unique_id": result.unique_id, "name": result.name, "resource_type": kind, "package_name": project,
                     "relation_name": result.relation, "config": {"materialized": result.materialized}}
        self.unique_id = result.unique_id
