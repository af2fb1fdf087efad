"""The Python API (SPEC §6): load a project, compile it, run it.

The CLI is a thin layer over this class, so both behave the same.
"""

from __future__ import annotations

import datetime
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.compiler import cache
from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler, source_unique_id
from featureduck.config.profiles import TargetConfig, load_target
from featureduck.config.project_config import ProjectConfig, load_project_config
from featureduck.errors import FeatureDuckError, ProjectError, SourceLocation, UsageError
from featureduck.graph.selector import SelectableNode, select_nodes
from featureduck.project.loader import ProjectDefinition, load_definition
from featureduck.runner import artifacts
from featureduck.utils.clock import utc_now
from featureduck.utils.hashing import sha256_text
from featureduck.utils.yaml_loader import load_yaml_text

if TYPE_CHECKING:
    from featureduck.advice.suggestions import Suggestion
    from featureduck.backups.operations import Restored
    from featureduck.backups.snapshots import BackupStore, Snapshot
    from featureduck.engines.base import EngineAdapter
    from featureduck.engines.plans import Plan
    from featureduck.online.base import OnlineStore
    from featureduck.online.materialize import Materialized
    from featureduck.online.postgres import Migrated
    from featureduck.profiling.history import Anomaly
    from featureduck.profiling.statistics import ModelProfile
    from featureduck.project.nodes import SourceTable
    from featureduck.runner.results import NodeResult, RunReporter, RunResults
    from featureduck.runner.state import BuildRecord, Timing
    from featureduck.sources.watermarks import Watermark
    from featureduck.store.freshness import Freshness
    from featureduck.testing.definitions import DataTest
    from featureduck.testing.execute import CompiledTest, TestResult

# Engines, materializations and the runner (and with them sqlglot) are imported
# in the methods that build, so a cached `fduck compile` or `fduck ls` stays fast.


@dataclass
class Selection:
    """A compiled project and the node ids a command acts on."""

    compiled: CompiledProject
    selected: set[str]


@dataclass
class RelationState:
    """A view or materialized view as built: when, from which definition."""

    name: str
    relation: str
    materialized: str
    depends_on: list[str]
    last_built: datetime.datetime | None
    state: str  # current | changed | not built


class Project:
    """A featureduck (or dbt) project bound to one target."""

    def __init__(self, config: ProjectConfig, definition: ProjectDefinition, target: TargetConfig, project_vars: dict[str, Any]) -> None:
        self.config = config
        self.definition = definition
        self.target = target
        self.vars = project_vars
        self.compiler = Compiler(definition, target, project_vars)
        self._compiled: CompiledProject | None = None

    @classmethod
    def load(
        cls,
        path: str | Path = ".",
        target: str | None = None,
        vars: dict[str, Any] | str | None = None,  # noqa: A002 - dbt's name for it
        profiles_dir: str | Path | None = None,
    ) -> Project:
        root = Path(path).resolve()
        if not root.is_dir():
            raise ProjectError(f"project folder {root} does not exist")
        config = load_project_config(root)
        target_config = load_target(
            root, config.shape.profile, target, Path(profiles_dir) if profiles_dir else None, config.is_dbt
        )
        definition = load_definition(config)
        return cls(config, definition, target_config, _merge_vars(config, vars))

    # --- compile ------------------------------------------------------------------------

    def compile(self, use_cache: bool = True, write: bool = True) -> CompiledProject:
        """Compile every model for the target; errors are collected per model."""
        if self._compiled is not None:
            return self._compiled
        target_dir = self.config.target_dir
        compiled = cache.load_cached(self.compiler, target_dir) if use_cache else None
        if compiled is None:
            compiled = self.compiler.compile()
            self._check_strategies(compiled)
            cache.store(self.compiler, target_dir, compiled)
        if write and not (compiled.from_cache and artifacts.has_manifest(target_dir)):
            artifacts.write_compiled(target_dir, self.target.name, {m.path: m.sql for m in compiled.models.values()})
            previous = artifacts.read_manifest(target_dir)
            artifacts.write_manifest(target_dir, artifacts.build_manifest(self.definition, compiled, previous))
        self._compiled = compiled
        return compiled

    def _check_strategies(self, compiled: CompiledProject) -> None:
        from featureduck.materializations.incremental import incremental_strategy
        from featureduck.materializations.registry import strategy_for

        for name, model in list(compiled.models.items()):
            declared = self.definition.models[name]
            # set by a folder config, not by the model itself: the error belongs to the project file's line
            from_folder = ("materialized" in declared.folder_lines and "materialized" not in declared.yaml_config
                           and "materialized" not in declared.raw_sql)
            try:
                strategy_for(model.materialized, model.path)
                if model.materialized == "incremental":
                    incremental_strategy(model)
            except FeatureDuckError as err:
                if from_folder and "materialization" in err.message:
                    err = ProjectError(err.message, SourceLocation(self.config.file_name, declared.folder_lines["materialized"]),
                                       err.hint)
                compiled.errors[name] = err
                del compiled.models[name]

    # --- select -------------------------------------------------------------------------

    def select(
        self,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        state: str | Path | None = None,
    ) -> Selection:
        compiled = self.compile()
        nodes = self._selectable_nodes(compiled)
        modified = (lambda: self._modified_since(Path(state), compiled)) if state else None
        chosen = select_nodes(compiled.dag, nodes, _as_list(select), _as_list(exclude), modified)
        return Selection(compiled, chosen)

    def _selectable_nodes(self, compiled: CompiledProject) -> dict[str, SelectableNode]:
        nodes: dict[str, SelectableNode] = {}
        for name, model in self.definition.models.items():
            if name in compiled.disabled:
                continue
            config = compiled.models[name].config if name in compiled.models else {**model.folder_config, **model.yaml_config}
            nodes[model.unique_id] = SelectableNode(model.unique_id, name, model.path, tuple(config.get("tags", [])), "model")
        for key, table in self.definition.sources.items():
            uid = source_unique_id(self.config.name, key)
            nodes[uid] = SelectableNode(uid, f"{key[0]}.{key[1]}", table.location.file, tuple(table.tags), "source")
        for seed in self.definition.seeds.values():
            nodes[seed.unique_id] = SelectableNode(seed.unique_id, seed.name, seed.path, tuple(seed.config.get("tags", [])), "seed")
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

    # --- run ----------------------------------------------------------------------------

    def connect(self, threads: int | None = None) -> EngineAdapter:
        from featureduck.engines.registry import create_adapter
        from featureduck.udfs.registration import register_functions

        adapter = create_adapter(self.target, threads)
        adapter.open()
        try:
            register_functions(adapter, self.definition, self.config.dialect)
        except BaseException:
            adapter.close()
            raise
        return adapter

    def run(
        self,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        threads: int | None = None,
        full_refresh: bool = False,
        state: str | Path | None = None,
        reporter: RunReporter | None = None,
        after_build: Callable[[str], bool] | None = None,
        use_cache: bool = True,
    ) -> RunResults:
        """Build the selected models in DAG order; failures skip their dependents.
        A model whose fingerprint is unchanged since its last build is not built
        again (runner.fingerprints) unless `use_cache` is False or on a full refresh.
        `after_build(model id)` runs after each model builds; False skips its dependents."""
        from featureduck import __version__
        from featureduck.compiler.relations import is_staged, staged_relation
        from featureduck.runner.contracts import combine, contract_checks
        from featureduck.runner.fingerprints import LIVE, model_fingerprints, read_beneath, recorded_builds
        from featureduck.runner.results import SilentReporter
        from featureduck.runner.scheduler import Runner
        from featureduck.runner.state import NodeRun, legacy_builds_table, read_builds, record_run, runs_table
        from featureduck.sources.databases import prepare_sources
        from featureduck.sources.staging import stage_file_sources
        from featureduck.sources.versions import data_versions
        from featureduck.sources.watermarks import create_state_tables as create_watermark_tables
        from featureduck.sources.watermarks import read_watermarks, source_increments
        from featureduck.sources.watermarks import state_tables as watermark_tables

        selection = self.select(select, exclude, state)
        compiled = selection.compiled
        threads = threads or self.target.threads
        reporter = reporter or SilentReporter()
        adapter = self.connect(threads)
        try:
            # what the selected models read, through the ephemerals inlined into them and the views above them
            beneath = read_beneath(compiled, [m for m in compiled.models.values()
                                              if m.unique_id in selection.selected or m.materialized == "ephemeral"])
            read = [self.definition.sources[key] for key in beneath.sources]
            file_sources = [table for table in read if is_staged(table, adapter.DIALECT)]
            # one catalog query for the state store, the models' schemas and the staged sources'
            adapter.preload_catalog(
                [runs_table(adapter), legacy_builds_table(adapter), *watermark_tables(adapter)]
                + [m.relation.to_table() for m in compiled.models.values() if m.unique_id in selection.selected]
                + [staged_relation(table, self.target.schema).to_table() for table in file_sources]
            )
            builds = read_builds(adapter)
            checksums = {uid: record.sql_checksum for uid, record in builds.items()}
            # --full-refresh reloads staged file sources too
            staged = stage_file_sources(adapter, file_sources, self.config.root, self.target.schema, {} if full_refresh else checksums)
            for item in staged:
                reporter.source_staged(f"{item.source.source_name}.{item.source.name}", item.relation, item.rows)
            prepare_sources(adapter, [t for t in read if not is_staged(t, adapter.DIALECT)], self.config.root)
            watermarks = {}
            if any(table.incremental for table in read):
                create_watermark_tables(adapter)
                watermarks = read_watermarks(adapter)
            dtype_checks = {}
            if self.definition.feature_views:
                from featureduck.store.validation import build_checks

                dtype_checks = build_checks(self.definition, adapter)  # declared dtypes against what the engine built
            contracts = contract_checks(self.definition, compiled, adapter)
            for name, contract in contracts.items():  # a model's contract, then its feature views' dtypes
                dtype_checks[name] = combine(contract, dtype_checks.get(name))
            runner = Runner(
                self.compiler, compiled, adapter, selection.selected, threads, full_refresh, reporter, checksums, dtype_checks,
                lambda model, full: source_increments(adapter, self.definition, model, watermarks, full),
                after_build,
            )
            seeds = beneath.seed_tables(self.definition, self.compiler.seed_relations())
            fingerprints = model_fingerprints(
                self.definition, compiled, set(runner.plan.order), recorded_builds(builds),
                data_versions(adapter, read, seeds, self.config.root), __version__,
            )
            cached = {}
            if use_cache and not full_refresh:
                relations = {m.unique_id: m.relation.to_table() for m in compiled.models.values()}
                cached = {
                    uid: f"unchanged since {builds[uid].built_at:%Y-%m-%d %H:%M:%S} UTC" for uid, fingerprint in fingerprints.items()
                    if fingerprint.value is not None and uid in builds and builds[uid].fingerprint == fingerprint.value
                    and adapter.relation_kind(relations[uid]) is not None
                }
            results = runner.run(cached)
            now = utc_now()
            built = {r.name: sha256_text(runner.executed_sql[r.name]) for r in results.results if r.status == "success"}
            rows = []
            for r in results.results:
                if r.status == "skipped":
                    continue
                fingerprint = fingerprints.get(r.unique_id) if r.status == "success" else None
                live = fingerprint is not None and r.materialized in LIVE
                rows.append(NodeRun(
                    r.unique_id, r.name, r.relation, r.materialized, r.status, now, built.get(r.name),
                    fingerprint.value if fingerprint else None,
                    datetime.datetime.fromtimestamp(r.started_at, datetime.UTC).replace(tzinfo=None), r.execution_time, r.rows_affected,
                    definition=fingerprint.definition if fingerprint and live else None,
                    inputs=fingerprint.inputs.to_dict() if fingerprint and live else None,
                ))
            # a staged source's row holds the fingerprint of the files it was loaded from
            rows += [
                NodeRun(item.source.unique_id, f"{item.source.source_name}.{item.source.name}", item.relation, "staged",
                        "staged", now, item.fingerprint, rows_affected=item.rows)
                for item in staged if item.rows is not None
            ]
            tie_checks = []
            if self.definition.feature_views:
                from featureduck.store.ties import checks_of_built_views

                # each with the fingerprint its model was built at: a view's check holds only at that one
                uids = {m.name: m.unique_id for m in compiled.models.values()}
                checked = {name: (checksum, fingerprints[uids[name]].value if uids[name] in fingerprints else None)
                           for name, checksum in built.items()}
                tie_checks = checks_of_built_views(self.definition, compiled, checked, now)
            record_run(adapter, rows, tie_checks)
        finally:
            adapter.close()
        target_dir = self.config.target_dir
        executed = {compiled.models[n].path: sql for n, sql in runner.executed_sql.items() if sql != compiled.models[n].sql}
        artifacts.write_compiled(target_dir, self.target.name, executed)
        artifacts.write_run_results(target_dir, self.target.name, "run", results)
        return results

    def seed(
        self,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        state: str | Path | None = None,
        on_start: Callable[[int, int, str, str], None] | None = None,
        on_finish: Callable[[int, int, NodeResult], None] | None = None,
    ) -> list[NodeResult]:
        """Load the selected seeds (all without a selection) into tables, each replaced whole."""
        from featureduck.runner.results import NodeResult, RunResults
        from featureduck.sources.seeds import load_seed

        selection = self.select(select, exclude, state)
        seeds = [s for s in self.definition.seeds.values() if s.unique_id in selection.selected and s.config.get("enabled", True)]
        relations = self.compiler.seed_relations()
        results: list[NodeResult] = []
        started = time.perf_counter()
        adapter = self.connect(threads=1)
        try:
            for index, seed in enumerate(seeds, start=1):
                relation = relations[seed.name].sql(adapter.DIALECT)
                if on_start:
                    on_start(index, len(seeds), seed.name, relation)
                began = time.time()
                try:
                    rows = load_seed(adapter, seed, relations[seed.name].to_table(), self.config.root, self.config.dialect,
                                     dbt_types=self.config.is_dbt)
                    result = NodeResult(seed.unique_id, seed.name, "seed", relation, "success", began, time.time(), rows, "loaded seed")
                except FeatureDuckError as err:
                    result = NodeResult(seed.unique_id, seed.name, "seed", relation, "error", began, time.time(), message=str(err))
                results.append(result)
                if on_finish:
                    on_finish(index, len(seeds), result)
        finally:
            adapter.close()
        artifacts.write_run_results(self.config.target_dir, self.target.name, "seed", RunResults(results, time.perf_counter() - started))
        return results

    def load_table(self, name: str, data: Any, schema: str | None = None) -> int:
        """Replace table `name` (in `schema`, default the target's) with a pandas DataFrame,
        an Arrow table or a file's rows (csv, tsv, parquet, json), in bulk; the row count."""
        from sqlglot import exp

        from featureduck.sources.seeds import load_data

        table = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema or self.target.schema))
        adapter = self.connect(threads=1)
        try:
            return load_data(adapter, table, data)
        finally:
            adapter.close()

    def test(
        self,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        threads: int | None = None,
        state: str | Path | None = None,
        on_start: Callable[[int, int, DataTest], None] | None = None,
        on_finish: Callable[[int, int, TestResult], None] | None = None,
    ) -> list[TestResult]:
        """Run the data tests of the selected models and sources (all without a selection)."""
        from featureduck.runner.results import RunResults
        from featureduck.testing.execute import run_tests

        tests = self.compile_tests(select, exclude, state)
        started = time.perf_counter()
        threads = threads or self.target.threads
        project = self.compile()
        refs = sorted({r for test in tests for r in test.refs})
        with self._reading(project, refs, [(s, t) for test in tests for s, t in test.sources], threads, check_built=False) as adapter:
            # a test of a relation that is not built is an error that says so (tests share refs: asked once each)
            unbuilt = {refs: self._unbuilt(adapter, project, list(refs)) for refs in {t.refs for t in tests if t.sql is not None}}
            tests = [replace(t, sql=None, error=f"{t.test.location}: {missing[0]}; {missing[1]}")
                     if t.sql is not None and (missing := unbuilt[t.refs]) else t for t in tests]
            total = len(tests)
            results = run_tests(
                adapter, tests, threads,
                lambda index, test: on_start(index, total, test) if on_start else None,
                lambda index, result: on_finish(index, total, result) if on_finish else None,
            )
        run = RunResults([r.to_node_result() for r in results], time.perf_counter() - started)
        artifacts.write_run_results(self.config.target_dir, self.target.name, "test", run)
        return results

    def compile_tests(
        self, select: str | list[str] | None, exclude: str | list[str] | None, state: str | Path | None,
    ) -> list[CompiledTest]:
        """The tests of the selected nodes and those reading them (all without a selection), compiled."""
        from featureduck.testing.definitions import collect_tests
        from featureduck.testing.execute import compile_tests

        selection = self.select(select, exclude, state)
        compiled = compile_tests(self.compiler, selection.compiled, list(collect_tests(self.definition).values()))
        if not (select or exclude or state):
            return compiled
        project = self.config.name

        def reads_selected(test: CompiledTest) -> bool:
            kinds = ("seed" if ref in self.definition.seeds else "model" for ref in test.refs)
            return (test.test.attached_to in selection.selected or any(
                f"{kind}.{project}.{ref}" in selection.selected for kind, ref in zip(kinds, test.refs, strict=True)
            ) or any(f"source.{project}.{s}.{n}" in selection.selected for s, n in test.sources))

        return [test for test in compiled if reads_selected(test)]

    def build(
        self,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        threads: int | None = None,
        full_refresh: bool = False,
        state: str | Path | None = None,
        reporter: RunReporter | None = None,
        on_test_start: Callable[[int, int, DataTest], None] | None = None,
        on_test_finish: Callable[[int, int, TestResult], None] | None = None,
        use_cache: bool = True,
    ) -> tuple[RunResults, list[TestResult]]:
        """Seeds, models and tests in DAG order: a test runs once what it reads is built;
        a node whose error-severity test fails holds back its dependents."""
        from featureduck.runner.results import NodeResult, RunResults, SilentReporter
        from featureduck.sources.databases import prepare_sources
        from featureduck.testing.execute import TestsAfterBuilds

        started = time.perf_counter()
        reporter = reporter or SilentReporter()
        selection = self.select(select, exclude, state)
        tests = self.compile_tests(select, exclude, state)
        threads = threads or self.target.threads
        building = {uid for uid in selection.selected if uid.startswith(("model.", "seed."))}
        adapter = self.connect(threads)
        try:
            prepare_sources(adapter, [self.definition.sources[key] for key in sorted({k for t in tests for k in t.sources})],
                            self.config.root)
            total = len(tests)
            checker = TestsAfterBuilds(
                adapter, tests, self.config.name, set(self.definition.seeds), set(self._selectable_nodes(selection.compiled)) - building,
                lambda index, test: on_test_start(index, total, test) if on_test_start else None,
                lambda index, result: on_test_finish(index, total, result) if on_test_finish else None,
            )
            checker.after(None)  # tests of sources and of nodes this command does not build
            seeds = self.seed(
                select, exclude, state, lambda index, count, name, relation: reporter.node_started(index, count, name, "seed", relation),
                reporter.node_finished,
            ) if any(u.startswith("seed.") for u in building) else []
            held: list[str] = []
            for result in seeds:
                if result.status != "success" or not checker.after(result.unique_id):
                    held.append(result.unique_id)
            skipped = sorted({d for uid in held for d in selection.compiled.dag.descendants(uid)} & building)
            names = [uid.split(".", 2)[2] for uid in skipped]
            now = time.time()
            held_names = ", ".join(uid.split(".", 2)[2] for uid in held)
            relation = {name: model.relation.sql(self.target.dialect) for name, model in selection.compiled.models.items()}
            skips = [NodeResult(uid, name, "model", relation.get(name, name), "skipped", now, now,
                                message=f"skipped: upstream seed {held_names} did not load or failed its tests")
                     for uid, name in zip(skipped, names, strict=True)]
            for position, skip in enumerate(skips, start=1):
                reporter.node_finished(position, len(skips), skip)
            models = [uid for uid in building if uid.startswith("model.") and uid not in skipped]
            if models:
                excluded = ([exclude] if isinstance(exclude, str) else list(exclude or [])) + names
                ran = self.run(select, excluded, threads, full_refresh, state, reporter, checker.after, use_cache)
            else:
                ran = RunResults([], 0.0)
        finally:
            adapter.close()
        results = RunResults([*seeds, *ran.results, *skips], time.perf_counter() - started)
        artifacts.write_run_results(self.config.target_dir, self.target.name, "build", results)
        return results, [checker.results[i] for i in sorted(checker.results)]

    def last_builds(self) -> dict[str, BuildRecord]:
        """What the state store says was last built, per model id."""
        from featureduck.runner.state import read_builds

        adapter = self.connect()
        try:
            return read_builds(adapter)
        finally:
            adapter.close()

    def relation_states(self, selection: Selection, kinds: set[str]) -> list[RelationState]:
        """Built state of the selected models materialized as one of `kinds`.

        `changed` means the compiled SQL differs from the SQL the relation was
        last built from (by checksum): the next run rebuilds it.
        """
        compiled = selection.compiled
        models = [
            m for m in compiled.models.values() if m.unique_id in selection.selected and m.materialized in kinds
        ]
        builds = self.last_builds() if models else {}
        states = []
        for model in sorted(models, key=lambda m: m.name):
            record = builds.get(model.unique_id)
            if record is None:
                state = "not built"
            elif record.sql_checksum == sha256_text(model.sql):
                state = "current"
            else:
                state = "changed"
            states.append(RelationState(
                model.name, model.relation.sql(self.target.dialect), model.materialized,
                compiled.dag.parents(model.unique_id), record.built_at if record else None, state,
            ))
        return states

    def source_watermarks(self, selection: Selection) -> list[tuple[SourceTable, list[Watermark]]]:
        """The selected sources, each with the watermarks models keep of it (incremental ones)."""
        from featureduck.sources.watermarks import read_watermarks

        tables = [t for t in self.definition.sources.values() if t.unique_id in selection.selected]
        marks: dict[tuple[str, str], Watermark] = {}
        if any(t.incremental for t in tables):
            adapter = self.connect(threads=1)
            try:
                marks = read_watermarks(adapter)
            finally:
                adapter.close()
        return [
            (table, sorted((m for (_, source), m in marks.items() if source == table.unique_id), key=lambda m: m.model_id))
            for table in sorted(tables, key=lambda t: t.unique_id)
        ]

    # --- feature store -------------------------------------------------------------------

    def check_feature_views(self) -> list[FeatureDuckError]:
        """Feature views whose model does not output a column they name."""
        from featureduck.store.validation import check_feature_views

        return check_feature_views(self.definition, self.compile())

    def freshness(self, now: datetime.datetime | None = None) -> list[Freshness]:
        """The newest timestamp of every source with a freshness SLA (and a timestamp_field)
        and of every feature view, against its SLA (UTC)."""
        from featureduck.compiler.relations import is_staged
        from featureduck.sources.databases import prepare_sources
        from featureduck.store.freshness import check_freshness, check_source_freshness

        moment = now or utc_now()
        compiled = self.compile()
        tables = [t for _, t in sorted(self.definition.sources.items()) if t.freshness and t.timestamp_field]
        adapter = self.connect(threads=1)
        try:
            prepare_sources(adapter, [t for t in tables if not is_staged(t, adapter.DIALECT)], self.config.root)
            sources = check_source_freshness(adapter, self.definition, tables, moment)
            return sources + check_freshness(adapter, self.definition, compiled, moment)
        finally:
            adapter.close()

    def get_historical_features(self, entity_rows: Any, features: list[str]) -> Any:
        """A point-in-time training set: pandas in (or a file path), pandas out;
        an Arrow table in, Arrow out. `features` are `view:feature` references."""
        form = "arrow" if type(entity_rows).__module__.startswith("pyarrow") else "pandas"
        return self._training_set(entity_rows, features, lambda adapter, query: adapter.fetch(query, form))

    def write_training_set(self, entity_rows: Any, features: list[str], out: str | Path) -> int:
        """Write the training set to a .parquet or .csv file; returns its row count."""
        from featureduck.exports.files import FileOptions, write_query

        path = Path(out)
        if path.suffix.lower() not in (".parquet", ".csv"):
            raise UsageError(f"--out {path} must end in .parquet or .csv")
        options = FileOptions.for_path(path)
        result: int = self._training_set(
            entity_rows, features, lambda adapter, query: write_query(adapter, query, path, options, same_session=True),
        )
        return result

    def export(
        self, out: str | Path, model: str | None = None, query: str | None = None, format: str | None = None, **options: Any,
    ) -> int:
        """Write a model's relation, or a query's rows (in the project's dialect, refs allowed),
        to a file: csv, parquet, json or xlsx, as `FileOptions` takes them; the row count."""
        from sqlglot import exp

        from featureduck.exports.files import FileOptions, write_query

        if (model is None) == (query is None):
            raise UsageError("export a model or a --query, one of them")
        path = Path(out)
        file_options = FileOptions.for_path(path, format, **options)
        compiled = self.compile()
        if model is not None:
            select: exp.Query = exp.select("*").from_(self._compiled_model(compiled, model, "export").relation.to_table())
            refs, sources = [model], []
        else:
            compiled_query = self.compiler.compile_query("export_query", "<--query>", str(query), compiled)
            select = exp.maybe_parse(compiled_query.sql, dialect=self.target.dialect)  # type: ignore[assignment]
            refs, sources = compiled_query.refs, [(k[0], k[1]) for k in compiled_query.sources]
        with self._reading(compiled, refs, sources) as adapter:
            return write_query(adapter, select, path, file_options)

    def _compiled_model(self, compiled: CompiledProject, name: str, action: str) -> CompiledModel:
        """The compiled model a command acts on; an unknown or broken one is a usage error."""
        if name not in compiled.models:
            raise UsageError(f"no model '{name}' to {action}" if name not in self.definition.models
                             else f"model '{name}' did not compile: {compiled.errors.get(name)}")
        return compiled.models[name]

    @contextmanager
    def _reading(
        self, compiled: CompiledProject, refs: Iterable[str], sources: Iterable[tuple[str, str]] = (), threads: int | None = 1,
        check_built: bool = True,
    ) -> Iterator[EngineAdapter]:
        """A connection that reads what `refs` (models and seeds) and `sources` read, as
        `run` would: the relations checked built (unless not `check_built`), and the
        sources beneath them, through views and ephemerals, attached with their
        extensions loaded."""
        from featureduck.compiler.relations import is_staged, staged_relation
        from featureduck.runner.fingerprints import read_beneath
        from featureduck.sources.databases import prepare_sources

        adapter = self.connect(threads)
        try:
            refs = list(refs)
            unbuilt = self._unbuilt(adapter, compiled, refs) if check_built else None
            if unbuilt:
                raise UsageError(unbuilt[0], hint=unbuilt[1])
            beneath = read_beneath(compiled, [compiled.models[r] for r in refs if r in compiled.models])
            read = [self.definition.sources[key] for key in sorted({*sources, *beneath.sources})]
            staged = [t for t in read if is_staged(t, adapter.DIALECT)]
            for table in staged:
                if adapter.relation_kind(staged_relation(table, self.target.schema).to_table()) is None:
                    raise UsageError(f"source '{table.source_name}.{table.name}' is not staged into the {self.target.name} target",
                                     table.location, "run `fduck run` first")
            prepare_sources(adapter, [t for t in read if t not in staged], self.config.root)
            yield adapter
        finally:
            adapter.close()

    def _unbuilt(self, adapter: EngineAdapter, compiled: CompiledProject, refs: list[str]) -> tuple[str, str] | None:
        """The first relation that `refs` read (through views and ephemerals) and that does
        not exist, as a message and a hint; None when all do."""
        from featureduck.runner.fingerprints import read_beneath

        seeds = self.compiler.seed_relations()
        beneath = read_beneath(compiled, [compiled.models[r] for r in refs if r in compiled.models])
        needed = [*refs, *sorted(beneath.refs - set(refs))]  # what was asked for first
        for name in needed:
            if name in seeds:
                table, kind, command = seeds[name].to_table(), "seed", "fduck seed"
            elif name in compiled.models and compiled.models[name].materialized != "ephemeral":
                table, kind, command = compiled.models[name].relation.to_table(), "model", "fduck run"
            else:
                continue
            if adapter.relation_kind(table) is None:
                return f"{kind} '{name}' is not built ({table.sql(adapter.DIALECT)})", f"run `{command}` first"
        return None

    # --- profiling ------------------------------------------------------------------------

    def profile(
        self, models: list[str], threshold: float = 0.25, keep: bool = True,
    ) -> list[tuple[ModelProfile, list[Anomaly], dict[datetime.datetime, dict[tuple[str, str], float]]]]:
        """Column statistics of built models, each with what moved more than `threshold`
        against its earlier profiles (and those profiles); `keep` stores this one too."""
        from featureduck.profiling.history import anomalies, history, record
        from featureduck.profiling.statistics import profile_relation

        compiled = self.compile()
        for name in models:
            if self._compiled_model(compiled, name, "profile").materialized == "ephemeral":
                raise UsageError(f"model '{name}' is ephemeral: it has no relation to profile")
        results = []
        with self._reading(compiled, models) as adapter:
            for name in models:
                profile = profile_relation(adapter, name, compiled.models[name].relation.to_table(), utc_now())
                past = history(adapter, name)
                results.append((profile, anomalies(profile, past, threshold), past))
                if keep:
                    record(adapter, profile)
        return results

    # --- query advice ---------------------------------------------------------------------

    def explain(self, model: str) -> tuple[Plan, list[Suggestion]]:
        """Run a model's query under the engine's analyzer (its rows discarded, nothing
        built): the plan with each operator's time, and advice on the model."""
        from featureduck.advice.suggestions import suggest
        from featureduck.runner.state import read_timings

        compiled = self.compile()
        chosen = self._compiled_model(compiled, model, "explain")
        # the model's own relation need not exist: what it reads must
        with self._reading(compiled, chosen.refs, [(s, t) for s, t in chosen.sources]) as adapter:
            plan = adapter.explain_analyze(chosen.sql)
            return plan, suggest(compiled, model, adapter.DIALECT, plan, read_timings(adapter, 20))

    def run_timings(self, runs: int = 20) -> list[Timing]:
        """Each model's time in the last `runs` runs, newest run first."""
        from featureduck.runner.state import read_timings

        adapter = self.connect(threads=1)
        try:
            return read_timings(adapter, runs)
        finally:
            adapter.close()

    # --- backup and restore ----------------------------------------------------------------

    def backup_store(self, directory: str | Path | None = None) -> BackupStore:
        """The snapshot folder: `directory`, else `backups/` in the project."""
        from featureduck.backups.snapshots import BackupStore

        return BackupStore(Path(directory) if directory else self.config.root / "backups")

    def backup(
        self, select: str | list[str] | None = None, exclude: str | list[str] | None = None, directory: str | Path | None = None,
    ) -> Snapshot:
        """Snapshot the selected (default: all) built tables and seeds into the backup folder."""
        from featureduck.backups.operations import TABLE_LIKE, Managed, take
        from featureduck.runner.state import read_builds

        selection = self.select(select, exclude)
        compiled = selection.compiled
        candidates = [(m.unique_id, m.name, "model", m.materialized, m.relation) for m in compiled.models.values()]
        candidates += [(self.definition.seeds[name].unique_id, name, "seed", "seed", relation)
                       for name, relation in self.compiler.seed_relations().items()]
        adapter = self.connect(threads=1)
        try:
            tables = {uid: relation.to_table() for uid, *_, relation in candidates}
            adapter.preload_catalog(list(tables.values()))
            builds = read_builds(adapter)
            managed = [
                Managed(uid, name, kind, materialized, tables[uid], builds[uid].fingerprint if uid in builds else None,
                        builds[uid].sql_checksum if uid in builds else None)
                for uid, name, kind, materialized, _ in sorted(candidates, key=lambda c: c[1])
                if uid in selection.selected and materialized in TABLE_LIKE and adapter.relation_kind(tables[uid]) is not None
            ]
            if not managed:
                raise UsageError("nothing to back up: no selected table or seed is built", hint="run `fduck build` first")
            now = utc_now()
            return take(adapter, self.backup_store(directory), managed, self.config.name, self.target.name, now)
        finally:
            adapter.close()

    def restore(
        self,
        snapshot: str | None = None,
        at: datetime.datetime | None = None,
        select: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        directory: str | Path | None = None,
    ) -> tuple[Snapshot, list[Restored]]:
        """Put a snapshot's relations (by id, else the newest at or before `at` (UTC),
        else the newest; all, or the selected ones) back into this target."""
        from featureduck.backups.operations import restore, verify
        from featureduck.runner.state import NodeRun, record_run

        store = self.backup_store(directory)
        chosen = store.resolve(snapshot, at)
        compiled = self.compile()
        seeds = self.compiler.seed_relations()
        uids = {name: f"{entry.kind}.{self.config.name}.{name}" for name, entry in chosen.relations.items()}
        names = sorted(chosen.relations)
        if select or exclude:
            selected = self.select(select, exclude).selected
            names = [name for name in names if uids[name] in selected]
        if not names:
            raise UsageError(f"snapshot {chosen.id} holds none of the selected relations")
        verify(store, chosen, names)

        def placement(name: str) -> Any:
            entry = chosen.relations[name]
            if entry.kind == "seed" and name in seeds:
                return seeds[name].to_table()
            if entry.kind == "model" and name in compiled.models:
                return compiled.models[name].relation.to_table()
            from sqlglot import exp  # no longer in the project: its name in the target's schema

            return exp.Table(this=exp.to_identifier(entry.identifier), db=exp.to_identifier(self.target.schema))

        adapter = self.connect(threads=1)
        try:
            restored = restore(adapter, store, chosen, {name: placement(name) for name in names})
            now = utc_now()
            entries = [(chosen.relations[r.name], r) for r in restored if r.rows is not None and chosen.relations[r.name].kind == "model"]
            record_run(adapter, [
                NodeRun(uids[e.name], e.name, r.relation, e.materialized, "restored", now, e.sql_checksum or "", e.fingerprint,
                        rows_affected=r.rows)
                for e, r in entries
            ])
        finally:
            adapter.close()
        return chosen, restored

    def _training_set(self, entity_rows: Any, features: list[str], finish: Any) -> Any:
        from featureduck.store.offline import prepare_entities, training_set_query
        from featureduck.store.training_set import resolve_requests

        requests = resolve_requests(self.definition, features)
        compiled = self.compile()
        mismatched = self.check_feature_views()
        if mismatched:
            raise mismatched[0]
        with self._reading(compiled, [r.view.model for r in requests]) as adapter:
            # naive timestamps are UTC, whatever the machine's or the server's zone
            with adapter.in_time_zone("UTC"):
                columns = prepare_entities(adapter, entity_rows)
                untied = self.untied_views(adapter)
                return finish(adapter, training_set_query(adapter, self.definition, compiled, requests, columns, untied))

    def untied_views(self, adapter: EngineAdapter) -> set[str]:
        """The feature views checked tie-free against the rows they read now (store.ties)."""
        from featureduck import __version__
        from featureduck.store.ties import untied_views

        return untied_views(adapter, self.definition, self.compile(), self.compiler.seed_relations(), self.config.root, __version__)

    # --- online store ---------------------------------------------------------------------

    def online_store(self) -> OnlineStore:
        """The target's online store (`online_store:` in the profile; embedded by default), opened."""
        from featureduck.online.registry import create_store

        store = create_store(self.target, self.config.root)
        store.open()
        return store

    def materialize(
        self, views: list[str] | None = None, full: bool = False, on_view: Callable[[Materialized], None] | None = None
    ) -> list[Materialized]:
        """Load the latest values of the online feature views (all, or those named) into the online store."""
        from featureduck.online.materialize import materialize, online_views

        chosen = online_views(self.definition, views)
        compiled = self.compile()
        store = self.online_store()  # a bad store setting is told before anything else
        try:
            with self._reading(compiled, [view.model for view in chosen]) as adapter:
                return materialize(adapter, store, self.definition, compiled, chosen, full, on_view)
        finally:
            store.close()

    def migrate_online_store(self, old_table: str = "online_features") -> list[Migrated]:
        """Move the older single-table layout of a Postgres online store into per-view tables."""
        from featureduck.online.base import OnlineView
        from featureduck.online.postgres import PostgresStore

        store = self.online_store()
        try:
            if not isinstance(store, PostgresStore):
                raise UsageError(f"`online migrate` moves a Postgres online store; target '{self.target.name}' uses the {store.TYPE} store")
            views = [OnlineView.of(v, self.definition.entities[v.entity]) for v in self.definition.feature_views.values() if v.online]
            return store.migrate_single_table(views, self.config.dialect, old_table)
        finally:
            store.close()

    def get_online_features(self, view: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The online values of `view` (`name` for its newest version, or `name@2`) for
        each entity, given as {join key: value}; what `fduck serve` answers, in process."""
        from featureduck.online.lookup import OnlineIndex

        store = self.online_store()
        try:
            return OnlineIndex(self.definition, store).lookup_dicts(view, entities)
        finally:
            store.close()

    # --- housekeeping --------------------------------------------------------------------

    @staticmethod
    def clean_folder(path: str | Path, everything: bool = False) -> list[Path]:
        """Remove compiled artifacts (and with `everything`, all of target/).

        Needs only the project file, so it works with a broken profile.
        """
        target_dir = load_project_config(Path(path).resolve()).target_dir
        doomed = [target_dir] if everything else [target_dir / "compiled", target_dir / cache.CACHE_DIR]
        removed = []
        for path in doomed:
            if path.exists():
                shutil.rmtree(path)
                removed.append(path)
        return removed


def _merge_vars(config: ProjectConfig, cli_vars: dict[str, Any] | str | None) -> dict[str, Any]:
    """Project vars (dbt's project-scoped ones flattened), overridden by --vars."""
    merged = {k: v for k, v in config.shape.vars.items() if k != config.name}
    scoped = config.shape.vars.get(config.name)
    if isinstance(scoped, dict):
        merged.update(scoped)
    if isinstance(cli_vars, str):
        parsed = load_yaml_text(cli_vars, "--vars") if cli_vars.strip() else {}
        if not isinstance(parsed, dict):
            raise UsageError(f"--vars must be a YAML mapping, got {cli_vars!r}")
        cli_vars = dict(parsed)
    merged.update(cli_vars or {})
    return merged


def _as_list(value: str | list[str] | None) -> list[str] | None:
    return [value] if isinstance(value, str) else value
