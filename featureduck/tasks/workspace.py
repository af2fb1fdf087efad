"""A loaded project bound to one target: what every task starts from.

It compiles (once, through the compile cache), selects nodes and opens
sessions; it never connects by itself, so `fduck compile` and `fduck ls`
need no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.compiler import cache
from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler, source_unique_id
from featureduck.config.profiles import TargetConfig
from featureduck.config.project_config import ProjectConfig
from featureduck.errors import FeatureDuckError, ProjectError, SourceLocation, UsageError
from featureduck.graph.selector import SelectableNode, select_nodes
from featureduck.project.ids import NodeId
from featureduck.project.loader import ProjectDefinition
from featureduck.runner import artifacts
from featureduck.tasks.options import Selector

if TYPE_CHECKING:
    from featureduck.tasks.session import Session


@dataclass
class Selection:
    """A compiled project and the node ids a command acts on."""

    compiled: CompiledProject
    selected: set[str]


def _inlined_kinds() -> frozenset[str]:
    from featureduck.materializations.registry import inlined_kinds  # the strategies load sqlglot: only to compile

    return inlined_kinds()


class Workspace:
    """A project definition, its target and vars, and what compiling them gave."""

    def __init__(self, config: ProjectConfig, definition: ProjectDefinition, target: TargetConfig, project_vars: dict[str, Any]) -> None:
        self.config = config
        self.definition = definition
        self.target = target
        self.vars = project_vars
        self.compiler = Compiler(definition, target, project_vars, inlined=_inlined_kinds)
        self._compiled: CompiledProject | None = None

    def compile(self, use_cache: bool = True, write: bool = True) -> CompiledProject:
        """Compile every model for the target; errors are collected per model."""
        if self._compiled is not None:
            return self._compiled
        target_dir = self.config.target_dir
        compiled = cache.load_cached(self.compiler, target_dir) if use_cache else None
        if compiled is None:
            compiled = self.compiler.compile()
            self._validate_strategies(compiled)
            cache.store(self.compiler, target_dir, compiled)
        if write and not (compiled.from_cache and artifacts.has_manifest(target_dir)):
            artifacts.write_compiled(target_dir, self.target.name, {m.path: m.sql for m in compiled.models.values()})
            previous = artifacts.read_manifest(target_dir)
            artifacts.write_manifest(target_dir, artifacts.build_manifest(self.definition, compiled, previous))
        self._compiled = compiled
        return compiled

    def _validate_strategies(self, compiled: CompiledProject) -> None:
        """A model its materialization cannot build is a compile error, not a run-time one."""
        from featureduck.materializations.registry import strategy_for

        for name, model in list(compiled.models.items()):
            declared = self.definition.models[name]
            # set by a folder config, not by the model itself: the error belongs to the project file's line
            from_folder = ("materialized" in declared.folder_lines and "materialized" not in declared.yaml_config
                           and "materialized" not in declared.raw_sql)
            try:
                strategy_for(model.materialized, model.path).validate(model)
            except FeatureDuckError as err:
                if from_folder and "materialization" in err.message:
                    err = ProjectError(err.message, SourceLocation(self.config.file_name, declared.folder_lines["materialized"]),
                                       err.hint)
                compiled.errors[name] = err
                del compiled.models[name]

    def selection(self, selector: Selector) -> Selection:
        compiled = self.compile()
        state = selector.state
        modified = (lambda: self._modified_since(state, compiled)) if state else None
        chosen = select_nodes(compiled.dag, self.selectable_nodes(compiled), list(selector.select) or None,
                              list(selector.exclude) or None, modified)
        return Selection(compiled, chosen)

    def selectable_nodes(self, compiled: CompiledProject) -> dict[str, SelectableNode]:
        nodes: dict[str, SelectableNode] = {}
        for name, model in self.definition.models.items():
            if name in compiled.disabled:
                continue
            config = compiled.models[name].config if name in compiled.models else {**model.folder_config, **model.yaml_config}
            nodes[model.unique_id] = SelectableNode(model.unique_id, name, model.path, tuple(config.get("tags", [])), model.resource_type)
        for key, table in self.definition.sources.items():
            uid = source_unique_id(self.config.name, key)
            nodes[uid] = SelectableNode(uid, f"{key[0]}.{key[1]}", table.location.file, tuple(table.tags), "source")
        for seed in self.definition.seeds.values():
            nodes[seed.unique_id] = SelectableNode(seed.unique_id, seed.name, seed.path, tuple(seed.config.get("tags", [])), "seed")
        from featureduck.testing.definitions import collect_tests

        for test in collect_tests(self.definition).values():  # selected by name, tag or path as in dbt
            tags = test.config.get("tags") or []
            nodes[test.unique_id] = SelectableNode(test.unique_id, test.name, test.location.file,
                                                   tuple([tags] if isinstance(tags, str) else tags),
                                                   NodeId.parse(test.unique_id).kind, test.attached_to)
        return nodes

    def _modified_since(self, state_dir: Path, compiled: CompiledProject) -> set[str]:
        saved = artifacts.read_manifest(state_dir)
        if saved is None:
            raise UsageError(f"--state {state_dir} holds no manifest.json", hint="save target/manifest.json from a previous compile")
        old_nodes = saved.get("nodes", {})
        modified = set()
        for name, model in self.definition.models.items():
            old = old_nodes.get(model.unique_id)
            config = compiled.models[name].config if name in compiled.models else None
            if old is None or old.get("checksum", {}).get("checksum") != model.checksum or old.get("config") != config:
                modified.add(model.unique_id)
        return modified

    def feature_view_errors(self) -> list[FeatureDuckError]:
        """Feature views whose model does not output a column they name (`fduck compile` checks it)."""
        from featureduck.store.validation import check_feature_views

        return check_feature_views(self.definition, self.compile())

    def compiled_model(self, name: str, action: str) -> CompiledModel:
        """The compiled model a command acts on; an unknown or broken one is a usage error."""
        compiled = self.compile()
        if name not in compiled.models:
            raise UsageError(f"no model '{name}' to {action}" if name not in self.definition.models
                             else f"model '{name}' did not compile: {compiled.errors.get(name)}")
        return compiled.models[name]

    @contextmanager
    def session(self, threads: int | None = 1) -> Iterator[Session]:
        """One connection for one command (`threads` for building in parallel; None: the
        target's), the project's functions registered; closed once, however it ends."""
        from featureduck.tasks.session import open_session

        with open_session(self, threads) as session:
            yield session
