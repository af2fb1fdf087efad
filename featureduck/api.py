"""The Python API: load a project, compile it, run it.

`Project` is a workspace (featureduck.tasks.workspace) whose methods are the
commands; each builds the command's options and hands them to its task in
featureduck.tasks. The CLI calls these methods, so both behave the same.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.compiler import cache
from featureduck.config.profiles import load_target
from featureduck.config.project_config import ProjectConfig, load_project_config
from featureduck.config.yaml_jinja import YamlRenderer
from featureduck.errors import FeatureDuckError, ProjectError, UsageError
from featureduck.project.loader import load_definition
from featureduck.tasks.options import (
    BackupOptions,
    ExportOptions,
    MaterializeOptions,
    ProfileOptions,
    RestoreOptions,
    RunOptions,
    Selector,
    ShowOptions,
    StreamOptions,
    TestOptions,
)
from featureduck.tasks.workspace import Selection, Workspace
from featureduck.utils.yaml_loader import load_yaml_text

if TYPE_CHECKING:
    from featureduck.advice.suggestions import Suggestion
    from featureduck.backups.operations import Restored
    from featureduck.backups.snapshots import BackupStore, Snapshot
    from featureduck.compiler.lineage import ColumnLineage
    from featureduck.engines.plans import Plan
    from featureduck.online.base import OnlineStore
    from featureduck.online.materialize import Materialized
    from featureduck.online.postgres_migrate import Migrated
    from featureduck.project.nodes import SourceTable
    from featureduck.runner.results import NodeResult, RunResults
    from featureduck.runner.state import BuildRecord, StreamedRun, Timing
    from featureduck.sources.watermarks import Watermark
    from featureduck.store.freshness import Freshness
    from featureduck.streams.consume import SourceProgress, StreamProgress
    from featureduck.streams.push import Pushed
    from featureduck.tasks.deps import Installed
    from featureduck.tasks.docs import GeneratedDocs
    from featureduck.tasks.inspect import ProfileOutcome, RelationState
    from featureduck.tasks.parse import Parsed
    from featureduck.tasks.reporting import Reporter
    from featureduck.tasks.show import Preview
    from featureduck.testing.execute import CompiledTest, TestResult

# The tasks (and with them engines, sqlglot and the runner) are imported in the
# methods that use them, so a cached `fduck compile` or `fduck ls` stays fast.

Selections = str | list[str] | tuple[str, ...] | None


class Project(Workspace):
    """A featureduck (or dbt) project bound to one target."""

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
        cli_vars = _cli_vars(vars)
        # dbt renders its project file with --vars alone, the other YAML files with every var
        project_file = YamlRenderer(target_config.jinja_target(), cli_vars)
        config = config.rendered(project_file)
        project_vars = _merge_vars(config, cli_vars)
        # one record of the env vars read, which the compile cache key includes
        definition = load_definition(config, YamlRenderer(target_config.jinja_target(), project_vars, project_file.env_vars_read))
        return cls(config, definition, target_config, project_vars)

    def select(self, select: Selections = None, exclude: Selections = None, state: str | Path | None = None) -> Selection:
        return self.selection(Selector.of(select, exclude, state))

    # --- building -------------------------------------------------------------------------

    def run(
        self,
        select: Selections = None,
        exclude: Selections = None,
        threads: int | None = None,
        full_refresh: bool = False,
        state: str | Path | None = None,
        reporter: Reporter | None = None,
        use_cache: bool = True,
        fail_fast: bool = False,
    ) -> RunResults:
        """Build the selected models in DAG order; failures skip their dependents. A model
        unchanged since its last build is not built again unless `use_cache` is False."""
        from featureduck.tasks.run import run

        return run(self, _run_options(select, exclude, state, threads, full_refresh, use_cache, fail_fast), _or_silent(reporter))

    def lineage(self, column: str) -> ColumnLineage:
        """`model.column`'s lineage: the upstream columns it is derived from, to seeds and sources."""
        from featureduck.tasks.lineage import column_lineage

        return column_lineage(self, column)

    def parse(self) -> Parsed:
        """Validate the whole project (YAML, Jinja, SQL, feature views, tests) and write the manifest."""
        from featureduck.tasks.parse import parse

        return parse(self)

    def generate_docs(self) -> GeneratedDocs:
        """The docs site in target/docs/ (and the column lineage in manifest.json)."""
        from featureduck.tasks.docs import generate_docs

        return generate_docs(self)

    def show(self, model: str | None = None, inline: str | None = None, limit: int = 5) -> Preview:
        """The first `limit` rows of a model's query (or an inline query, refs allowed), run
        with nothing built, as dbt's `show`: the columns and the rows."""
        from featureduck.tasks.show import show

        return show(self, ShowOptions(model=model, inline=inline, limit=limit))

    def snapshot(
        self, select: Selections = None, exclude: Selections = None, threads: int | None = None, state: str | Path | None = None,
        reporter: Reporter | None = None,
    ) -> RunResults:
        """Record the selected snapshots' changes: each history table gets the new versions
        of changed rows and closes the versions they replace (dbt's `snapshot`)."""
        from featureduck.tasks.run import run

        return run(self, RunOptions(selector=Selector.of(select, exclude, state), threads=threads, snapshots=True), _or_silent(reporter))

    def seed(
        self, select: Selections = None, exclude: Selections = None, state: str | Path | None = None, reporter: Reporter | None = None,
    ) -> list[NodeResult]:
        """Load the selected seeds (all without a selection) into tables, each replaced whole."""
        from featureduck.tasks.seed import seed

        return seed(self, Selector.of(select, exclude, state), _or_silent(reporter))

    def load_table(self, name: str, data: Any, schema: str | None = None) -> int:
        """Replace table `name` (in `schema`, default the target's) with a pandas DataFrame,
        an Arrow table or a file's rows (csv, tsv, parquet, json), in bulk; the row count."""
        from featureduck.tasks.seed import load_table

        return load_table(self, name, data, schema)

    def test(
        self,
        select: Selections = None,
        exclude: Selections = None,
        threads: int | None = None,
        state: str | Path | None = None,
        reporter: Reporter | None = None,
        fail_fast: bool = False,
    ) -> list[TestResult]:
        """Run the data tests of the selected models and sources (all without a selection)."""
        from featureduck.tasks.test import test

        options = TestOptions(selector=Selector.of(select, exclude, state), threads=threads, fail_fast=fail_fast)
        return test(self, options, _or_silent(reporter))

    def compile_tests(self, select: Selections = None, exclude: Selections = None, state: str | Path | None = None) -> list[CompiledTest]:
        """The tests of the selected nodes and those reading them (all without a selection), compiled."""
        from featureduck.tasks.test import select_tests

        return select_tests(self, Selector.of(select, exclude, state))

    def build(
        self,
        select: Selections = None,
        exclude: Selections = None,
        threads: int | None = None,
        full_refresh: bool = False,
        state: str | Path | None = None,
        reporter: Reporter | None = None,
        use_cache: bool = True,
        fail_fast: bool = False,
    ) -> tuple[RunResults, list[TestResult]]:
        """Seeds, models and tests in DAG order: a test runs once what it reads is built;
        a node whose error-severity test fails holds back its dependents."""
        from featureduck.tasks.build import build

        return build(self, _run_options(select, exclude, state, threads, full_refresh, use_cache, fail_fast), _or_silent(reporter))

    # --- what is built --------------------------------------------------------------------

    def last_builds(self) -> dict[str, BuildRecord]:
        """What the state store says was last built, per model id."""
        from featureduck.tasks.inspect import last_builds

        return last_builds(self)

    def relation_states(self, selection: Selection, kinds: set[str]) -> list[RelationState]:
        from featureduck.tasks.inspect import relation_states

        return relation_states(self, selection, kinds)

    def source_watermarks(self, selection: Selection) -> list[tuple[SourceTable, list[Watermark]]]:
        from featureduck.tasks.inspect import source_watermarks

        return source_watermarks(self, selection)

    def check_feature_views(self) -> list[FeatureDuckError]:
        """Feature views whose model does not output a column they name."""
        return self.feature_view_errors()

    def freshness(self, now: datetime.datetime | None = None) -> list[Freshness]:
        """Sources with a freshness SLA and feature views, against their SLAs (UTC)."""
        from featureduck.tasks.inspect import freshness

        return freshness(self, now)

    def source_freshness(self, select: Selections = None, exclude: Selections = None,
                         now: datetime.datetime | None = None) -> list[Freshness]:
        """dbt's `source freshness`: the selected sources against their SLAs; writes target/sources.json."""
        from featureduck.tasks.inspect import source_freshness

        return source_freshness(self, Selector.of(select, exclude), now)

    def profile(self, models: list[str], threshold: float = 0.25, keep: bool = True) -> list[ProfileOutcome]:
        """Column statistics of built models, each with what moved more than `threshold`
        against its earlier profiles (and those profiles); `keep` stores this one too."""
        from featureduck.tasks.inspect import profile

        return profile(self, ProfileOptions(models=tuple(models), threshold=threshold, keep=keep))

    def explain(self, model: str) -> tuple[Plan, list[Suggestion]]:
        """A model's query under the engine's analyzer: the plan with timings, and advice."""
        from featureduck.tasks.inspect import explain

        return explain(self, model)

    def run_timings(self, runs: int = 20) -> list[Timing]:
        """Each model's time in the last `runs` runs, newest run first."""
        from featureduck.tasks.inspect import run_timings

        return run_timings(self, runs)[0]

    def stream_runs(self, runs: int = 20) -> list[StreamedRun]:
        """What each source landed in the last `runs` stream runs, and its lag when it stopped."""
        from featureduck.tasks.inspect import run_timings

        return run_timings(self, runs)[1]

    # --- files ------------------------------------------------------------------------------

    def export(
        self, out: str | Path, model: str | None = None, query: str | None = None, format: str | None = None,  # noqa: A002
        **options: Any,
    ) -> int:
        """Write a model's relation, or a query's rows (in the project's dialect, refs allowed),
        to a file: csv, parquet, json or xlsx, as `FileOptions` takes them; the row count."""
        from featureduck.exports.files import FileOptions
        from featureduck.tasks.export import export

        path = Path(out)
        return export(self, ExportOptions(out=path, file=FileOptions.for_path(path, format, **options), model=model, query=query))

    def get_historical_features(self, entity_rows: Any, features: list[str]) -> Any:
        """A point-in-time training set: pandas in (or a file path), pandas out;
        an Arrow table in, Arrow out. `features` are `view:feature` references."""
        from featureduck.tasks.training_set import training_set

        form = "arrow" if type(entity_rows).__module__.startswith("pyarrow") else "pandas"
        return training_set(self, entity_rows, features, lambda adapter, query: adapter.fetch(query, form))

    def write_training_set(self, entity_rows: Any, features: list[str], out: str | Path) -> int:
        """Write the training set to a .parquet or .csv file; returns its row count."""
        from featureduck.tasks.training_set import write_training_set

        return write_training_set(self, entity_rows, features, Path(out))

    def backup_store(self, directory: str | Path | None = None) -> BackupStore:
        """The snapshot folder: `directory`, else `backups/` in the project."""
        from featureduck.tasks.backup import backup_store

        return backup_store(self, Path(directory) if directory else None)

    def backup(self, select: Selections = None, exclude: Selections = None, directory: str | Path | None = None) -> Snapshot:
        """Snapshot the selected (default: all) built tables and seeds into the backup folder."""
        from featureduck.tasks.backup import backup

        return backup(self, BackupOptions(selector=Selector.of(select, exclude), directory=Path(directory) if directory else None))

    def restore(
        self,
        snapshot: str | None = None,
        at: datetime.datetime | None = None,
        select: Selections = None,
        exclude: Selections = None,
        directory: str | Path | None = None,
    ) -> tuple[Snapshot, list[Restored]]:
        """Put a snapshot's relations (by id, else the newest at or before `at` (UTC),
        else the newest; all, or the selected ones) back into this target."""
        from featureduck.tasks.backup import restore_snapshot

        options = RestoreOptions(selector=Selector.of(select, exclude), snapshot=snapshot, at=at,
                                 directory=Path(directory) if directory else None)
        return restore_snapshot(self, options)

    # --- online store -----------------------------------------------------------------------

    def online_store(self) -> OnlineStore:
        """The target's online store (`online_store:` in the profile; embedded by default), opened."""
        from featureduck.tasks.online import open_store

        return open_store(self)

    def materialize(
        self, views: list[str] | None = None, full: bool = False, reporter: Reporter | None = None,
        start: datetime.datetime | None = None, end: datetime.datetime | None = None,
    ) -> list[Materialized]:
        """Load the latest values of the online feature views (all, or those named) into the
        online store; `start`/`end` (UTC) bound the feature timestamps read, as Feast's."""
        from featureduck.tasks.online import materialize_views

        options = MaterializeOptions(views=tuple(views or ()), full=full, start=start, end=end)
        return materialize_views(self, options, _or_silent(reporter))

    def stream(
        self, sources: list[str] | None = None, until_idle: float | None = None, reset: bool = False,
        reporter: StreamProgress | None = None,
    ) -> list[SourceProgress]:
        """Consume the stream sources (all, or those named) into their landing tables and
        their stream feature views into the online store, until `until_idle` seconds pass
        without a message (None: until SIGINT or SIGTERM)."""
        from featureduck.tasks.stream import run_stream

        options = StreamOptions(sources=tuple(sources or ()), until_idle=until_idle, reset=reset)
        return run_stream(self, options, reporter or _SilentStream())

    def migrate_online_store(self, old_table: str = "online_features") -> list[Migrated]:
        """Move the older single-table layout of a Postgres online store into per-view tables."""
        from featureduck.tasks.online import migrate

        return migrate(self, old_table)

    def push(self, view: str, rows: list[dict[str, Any]], to: str = "online") -> Pushed:
        """Rows for a stream feature view (Feast's push): validated against its source's
        column types, the newest per entity written online (an older row never replaces a
        newer one), and with `to="online_and_offline"` (or "offline") appended to the
        source's landing table."""
        from featureduck.tasks.online import push

        return push(self, view, rows, to)

    def get_online_features(self, view: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The online values of `view` (`name` for its newest version, or `name@2`) for
        each entity, given as {join key: value}; what `fduck serve` answers, in process."""
        from featureduck.tasks.online import lookup

        return lookup(self, view, entities)

    # --- housekeeping -----------------------------------------------------------------------

    @staticmethod
    def install_packages(path: str | Path) -> list[Installed]:
        """`fduck deps`: packages.yml's packages into dbt_packages/. Needs only the project file."""
        from featureduck.tasks.deps import install_packages

        return install_packages(Path(path))

    @staticmethod
    def clean_folder(path: str | Path, everything: bool = False) -> list[Path]:
        """Remove compiled artifacts (and with `everything`, all of target/).

        Needs only the project file, so it works with a broken profile.
        """
        target_dir = load_project_config(Path(path).resolve()).target_dir
        doomed = [target_dir] if everything else [target_dir / "compiled", target_dir / cache.CACHE_DIR]
        removed = []
        for folder in doomed:
            if folder.exists():
                shutil.rmtree(folder)
                removed.append(folder)
        return removed


def _run_options(
    select: Selections, exclude: Selections, state: str | Path | None, threads: int | None, full_refresh: bool, use_cache: bool,
    fail_fast: bool = False,
) -> RunOptions:
    return RunOptions(selector=Selector.of(select, exclude, state), threads=threads, full_refresh=full_refresh, use_cache=use_cache,
                      fail_fast=fail_fast)


class _SilentStream:
    def stream_progress(self, sources: list[SourceProgress], final: bool) -> None:
        pass


def _or_silent(reporter: Reporter | None) -> Reporter:
    from featureduck.tasks.reporting import SilentReporter  # imports the reporting layers: only when a command runs

    return reporter or SilentReporter()


def _cli_vars(cli_vars: dict[str, Any] | str | None) -> dict[str, Any]:
    """--vars as a mapping: given as one, or as YAML text."""
    if isinstance(cli_vars, str):
        parsed = load_yaml_text(cli_vars, "--vars") if cli_vars.strip() else {}
        if not isinstance(parsed, dict):
            raise UsageError(f"--vars must be a YAML mapping, got {cli_vars!r}")
        return dict(parsed)
    return dict(cli_vars or {})


def _merge_vars(config: ProjectConfig, cli_vars: dict[str, Any]) -> dict[str, Any]:
    """Project vars (dbt's project-scoped ones flattened), overridden by --vars."""
    merged = {k: v for k, v in config.shape.vars.items() if k != config.name}
    scoped = config.shape.vars.get(config.name)
    if isinstance(scoped, dict):
        merged.update(scoped)
    merged.update(cli_vars)
    return merged
