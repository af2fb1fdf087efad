"""`fduck` commands: each parses its own options, calls the Python API and hands
what it got to the console module. The shared options are declared once, in
cli/options.py."""

from __future__ import annotations

import datetime
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from featureduck import __version__
from featureduck.cli import console as out
from featureduck.cli.options import GLOBAL_OPTIONS, ProjectArgs, UtcTime, project_command, run_handling_errors
from featureduck.project.ids import NodeId
from featureduck.runner.results import RunResults
from featureduck.tasks.options import Selector
from featureduck.utils.secrets import MaskingStream

if TYPE_CHECKING:
    from featureduck.api import Project
    from featureduck.store.freshness import Freshness

THREADS = click.option("--threads", type=click.IntRange(min=1), default=None, help="Models built at once")
FULL_REFRESH = click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch")
NO_CACHE = click.option("--no-cache", is_flag=True, help="Build every selected model, even those unchanged since their last build")
OUTPUT = click.option("--output", type=click.Choice(["text", "json"]), default="text", help="text for people, json for tools")
FAIL_FAST = click.option("--fail-fast", "-x", is_flag=True,
                         help="Stop at the first failure: nothing more starts, what runs finishes, the rest is skipped")


def _global_options(group: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(GLOBAL_OPTIONS):
        group = option(group)
    return group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="featureduck")
@_global_options
@click.pass_context
def cli(ctx: click.Context, **given: Any) -> None:
    """featureduck: SQL-first feature engineering.

    The project options (--project-dir, --profiles-dir, --target, --vars,
    --debug) go before the command or after it: `fduck --debug run` and
    `fduck run --debug` are one.
    """
    ctx.obj = given
    # every line written, a traceback's too, has its credentials masked (utils.secrets)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))


@cli.command()
@click.argument("name")
@click.option("--debug", is_flag=True, hidden=True)
def init(name: str, debug: bool) -> None:
    """Create a new project NAME from the starter template."""

    def create() -> None:
        from featureduck.scaffold import init_project

        path = init_project(Path(name))
        out.print_text(f"Created project [bold]{path.name}[/bold] in {path}")
        out.print_text(f"Next: cd {name} && fduck run")

    run_handling_errors(debug, create)


@project_command(cli)
def debug(args: ProjectArgs) -> None:
    """Check the project, the profile and the connection; print versions."""
    import sqlglot

    out.print_debug([f"featureduck {__version__}, python {platform.python_version()}, sqlglot {sqlglot.__version__}"])
    project = args.load()
    target = project.target
    out.print_debug([
        f"project: {project.config.name} ({project.config.root / project.config.file_name})",
        f"models: {len(project.definition.models)}, sources: {len(project.definition.sources)}",
        f"profiles.yml: {target.profiles_file or 'none (built-in default)'}",
        f"target: {target.name} (type {target.type}, dialect {target.dialect})",
        *(f"  {key}: {value}" for key, value in target.public_settings().items()),
    ])
    with project.session() as session:
        session.adapter.execute("SELECT 1")
        out.print_text(f"connection: [green]OK[/green] ({session.adapter.TYPE} {session.adapter.version()})")


@project_command(cli, "ls", selection=True)
@click.option(
    "--resource-type",
    type=click.Choice(["model", "snapshot", "seed", "test", "unit_test", "source", "view", "materialized_view", "entity",
                       "feature_view", "all"]),
    default="all",
    help="view and materialized_view also show when each was last built and whether its SQL changed since; "
    "source shows the watermark of each incremental source",
)
@OUTPUT
def ls_command(args: ProjectArgs, selector: Selector, resource_type: str, output: str) -> None:
    """List resources, honouring selectors."""
    project = args.load()
    selection = project.selection(selector)
    if resource_type in ("view", "materialized_view"):
        out.print_relation_states(project.relation_states(selection, {resource_type}), output)
        return
    if resource_type == "source":
        out.print_sources(project.source_watermarks(selection), output)
        return
    definition = project.definition
    if resource_type in ("entity", "feature_view") or (resource_type == "all" and not selector.select):
        items = [(str(NodeId("entity", project.config.name, name)), {"resource_type": "entity", **entity.to_dict()})
                 for name, entity in definition.entities.items() if resource_type in ("all", "entity")]
        items += [(str(NodeId("feature_view", project.config.name, key)), {"resource_type": "feature_view", **view.to_dict()})
                  for key, view in definition.feature_views.items() if resource_type in ("all", "feature_view")]
        out.print_records(sorted(items), output)
        if resource_type != "all":
            return
    records = []
    for uid in sorted(selection.selected):
        node = NodeId.parse(uid)
        if resource_type not in ("all", node.kind):
            continue
        record: dict[str, object] = {"resource_type": node.kind, "name": node.name}
        model = selection.compiled.models.get(node.name) if node.kind in ("model", "snapshot") else None
        if model is not None:
            record.update(materialized=model.materialized, relation=model.relation.sql(project.target.dialect),
                          tags=model.config.get("tags", []))
        records.append((uid, record))
    out.print_records(records, output)


@project_command(cli, "compile", selection=True)
@click.option("--no-cache", is_flag=True, help="Ignore the compile cache")
def compile_command(args: ProjectArgs, selector: Selector, no_cache: bool) -> None:
    """Render and transpile every model for the target; no database needed."""
    started = time.perf_counter()
    project = args.load()
    compiled = project.compile(use_cache=not no_cache)
    selection = project.selection(selector)
    names = {node.name for node in map(NodeId.parse, selection.selected) if node.kind in ("model", "snapshot")}
    errors = [str(e) for n, e in compiled.errors.items() if n in names]
    feature_errors = [str(e) for e in project.check_feature_views()]
    test_errors = [test.error for test in project.compile_tests(selector.select, selector.exclude, selector.state) if test.sql is None]
    where = project.config.target_dir / "compiled" / project.target.name
    failed = {"models failed to compile": len(errors), "feature views do not match their models": len(feature_errors),
              "tests failed to compile": len(test_errors)}
    out.print_compiled([*errors, *feature_errors, *test_errors], len(names & set(compiled.models)), project.target, where,
                       compiled.from_cache, time.perf_counter() - started, failed)
    if any(failed.values()):
        sys.exit(1)


@project_command(cli)
def parse(args: ProjectArgs) -> None:
    """Read and validate the whole project (YAML, Jinja, SQL, tests) and write target/manifest.json; no database."""
    started = time.perf_counter()
    project = args.load()
    parsed = project.parse()
    out.print_parsed(parsed, project.config.target_dir / "manifest.json", time.perf_counter() - started)
    if parsed.errors:
        sys.exit(1)


@project_command(cli, selection=True)
@THREADS
@FULL_REFRESH
@NO_CACHE
@FAIL_FAST
def run(args: ProjectArgs, selector: Selector, threads: int | None, full_refresh: bool, no_cache: bool, fail_fast: bool) -> None:
    """Build the selected models in DAG order, skipping those unchanged since their last build."""
    _run(args.load(), selector, threads, full_refresh, not no_cache, fail_fast)


def _run(project: Project, selector: Selector, threads: int | None, full_refresh: bool, use_cache: bool, fail_fast: bool) -> None:
    out.print_starting("Running", project.target, threads)
    results = project.run(selector.select, selector.exclude, threads, full_refresh, selector.state, out.ConsoleReporter(),
                          use_cache=use_cache, fail_fast=fail_fast)
    out.print_run_summary(results)
    if results.failed:
        sys.exit(1)


@project_command(cli)
@click.argument("column")
@OUTPUT
def lineage(args: ProjectArgs, column: str, output: str) -> None:
    """MODEL.COLUMN: the upstream columns it is derived from, through every model to seeds and sources."""
    traced = args.load().lineage(column)
    if output == "json":
        out.print_json(traced.to_dict())
    else:
        out.print_lineage(traced)


@cli.group()
def docs() -> None:
    """The docs site: every node, the lineage graph, column lineage, search."""


@project_command(docs, "generate")
def docs_generate(args: ProjectArgs) -> None:
    """Write the static site to target/docs/ (no CDN: it works offline) and the column lineage to manifest.json."""
    started = time.perf_counter()
    generated = args.load().generate_docs()
    out.print_docs_generated(generated, time.perf_counter() - started)


@project_command(docs, "serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on")
def docs_serve(args: ProjectArgs, host: str, port: int) -> None:
    """Serve target/docs/ over HTTP; a later `docs generate` shows on the next load."""
    from featureduck.docs_site.server import open_server

    project = args.load()
    server = open_server(project.config.target_dir / "docs", host, port)
    out.print_text(f"Serving the docs of {project.config.name} on http://{host}:{server.server_address[1]} (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@project_command(cli)
@click.argument("model", required=False)
@click.option("--inline", default=None, help="A query to show instead of a model (refs and sources allowed)")
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True, help="Rows to show")
@OUTPUT
def show(args: ProjectArgs, model: str | None, inline: str | None, limit: int, output: str) -> None:
    """The first rows of a model's query (or an inline query), run with nothing built."""
    preview = args.load().show(model, inline, limit)
    out.print_preview(preview.columns, preview.rows, output)


@project_command(cli, selection=True)
@THREADS
def snapshot(args: ProjectArgs, selector: Selector, threads: int | None) -> None:
    """Record the selected snapshots' changes in their history tables (dbt's type-2 snapshots)."""
    _snapshot(args.load(), selector, threads)


def _snapshot(project: Project, selector: Selector, threads: int | None) -> None:
    out.print_starting("Snapshotting", project.target, threads)
    results = project.snapshot(selector.select, selector.exclude, threads, selector.state, out.ConsoleReporter())
    out.print_run_summary(results)
    if results.failed:
        sys.exit(1)


@project_command(cli, selection=True)
@click.option("--full-refresh", is_flag=True, help="Accepted for dbt parity: every load replaces its table whole")
def seed(args: ProjectArgs, selector: Selector, full_refresh: bool) -> None:
    """Load the CSV files in the seed paths into tables, in bulk."""
    _seed(args.load(), selector)


def _seed(project: Project, selector: Selector) -> None:
    started = time.perf_counter()
    results = project.seed(selector.select, selector.exclude, selector.state, out.ConsoleReporter())
    out.print_run_summary(RunResults(results, time.perf_counter() - started))
    if any(r.status == "error" for r in results):
        sys.exit(1)


@project_command(cli, selection=True)
@THREADS
@FULL_REFRESH
@NO_CACHE
@FAIL_FAST
def build(args: ProjectArgs, selector: Selector, threads: int | None, full_refresh: bool, no_cache: bool, fail_fast: bool) -> None:
    """Seed, run and test in DAG order; a failing test skips the dependents of what it tests."""
    _build(args.load(), selector, threads, full_refresh, not no_cache, fail_fast)


def _build(project: Project, selector: Selector, threads: int | None, full_refresh: bool, use_cache: bool, fail_fast: bool) -> None:
    started = time.perf_counter()
    out.print_starting("Building", project.target, threads)
    results, test_results = project.build(selector.select, selector.exclude, threads, full_refresh, selector.state,
                                          out.ConsoleReporter(), use_cache=use_cache, fail_fast=fail_fast)
    out.print_run_summary(results)
    out.print_test_summary(test_results, time.perf_counter() - started)
    if results.failed or any(r.status in ("fail", "error") for r in test_results):
        sys.exit(1)


@project_command(cli, "test", selection=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Tests run at once")
@FAIL_FAST
def test_command(args: ProjectArgs, selector: Selector, threads: int | None, fail_fast: bool) -> None:
    """Run data tests: generic tests from YAML and singular tests; exit 1 on a failure."""
    _test(args.load(), selector, threads, fail_fast)


def _test(project: Project, selector: Selector, threads: int | None, fail_fast: bool) -> None:
    started = time.perf_counter()
    results = project.test(selector.select, selector.exclude, threads, selector.state, out.ConsoleReporter(), fail_fast=fail_fast)
    out.print_test_summary(results, time.perf_counter() - started)
    if any(r.status in ("fail", "error") for r in results):
        sys.exit(1)


@project_command(cli)
@THREADS
@FAIL_FAST
def retry(args: ProjectArgs, threads: int | None, fail_fast: bool) -> None:
    """Rerun what failed or was skipped in the last run, build, seed, snapshot or test (from target/run_results.json)."""
    from dataclasses import replace

    from featureduck.tasks.retry import what_to_retry

    planned = what_to_retry(Path(args.project_dir))
    if not planned.select:
        out.print_text(f"Nothing to retry: the last `fduck {planned.command}` had no errors, failures or skips")
        return
    project = replace(args, target=args.target or planned.target).load()
    out.print_text(f"Retrying {out.plural(len(planned.select), 'node')} of the last `fduck {planned.command}`")
    selector = Selector.of(planned.select)
    if planned.command == "run":
        _run(project, selector, threads, False, True, fail_fast)
    elif planned.command == "build":
        _build(project, selector, threads, False, True, fail_fast)
    elif planned.command == "snapshot":
        _snapshot(project, selector, threads)
    elif planned.command == "seed":
        _seed(project, selector)
    else:
        _test(project, selector, threads, fail_fast)


@project_command(cli)
@click.argument("model", required=False)
@click.option("--query", default=None, help="A query to export instead of a model (refs and sources allowed)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=True), help="The file (or, with --partition-by, folder)")
@click.option("--format", "format_", type=click.Choice(["csv", "parquet", "json", "xlsx"]), default=None,
              help="Default: from the file's suffix")
@click.option("--compression", type=click.Choice(["gzip", "zstd", "snappy"]), default=None,
              help="Compress the file (Parquet: inside it; CSV and JSON: the whole file)")
@click.option("--partition-by", "partition_by", multiple=True, help="Write a hive-partitioned folder by these columns")
@click.option("--delimiter", default=None, help="CSV field delimiter")
@click.option("--no-header", is_flag=True, help="CSV and Excel: no header row")
@click.option("--json-array", is_flag=True, help="JSON: one array instead of one object per line")
@click.option("--encoding", default=None, help="CSV: the file's encoding (latin-1, cp1252, utf-16, utf-8-sig...); default UTF-8")
def export(
    args: ProjectArgs, model: str | None, query: str | None, out_path: str, format_: str | None, compression: str | None,
    partition_by: tuple[str, ...], delimiter: str | None, no_header: bool, json_array: bool, encoding: str | None,
) -> None:
    """Export a model (or --query) to CSV, Parquet, JSON or Excel; it streams."""
    started = time.perf_counter()
    rows = args.load().export(out_path, model, query, format_, compression=compression, partition_by=tuple(partition_by),
                              delimiter=delimiter, header=not no_header, json_array=json_array, encoding=encoding)
    out.print_text(f"Exported {out.plural(rows, 'row')} to {out_path} in {time.perf_counter() - started:.2f}s")


@project_command(cli)
@click.option("--select", "-s", "select", multiple=True, help="Tables and seeds to back up (default: all)")
@click.option("--exclude", multiple=True, help="Selectors to leave out")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False), help="Backup folder (default: backups/)")
@click.option("--list", "list_", is_flag=True, help="List the snapshots instead of taking one")
def backup(args: ProjectArgs, select: tuple[str, ...], exclude: tuple[str, ...], directory: str | None, list_: bool) -> None:
    """Snapshot the built tables and seeds as Parquet, copying only what changed."""
    started = time.perf_counter()
    project = args.load()
    store = project.backup_store(directory)
    if list_:
        out.print_snapshots(store.list(), store.root)
        return
    snapshot = project.backup(select, exclude, directory)
    out.print_text(
        f"Snapshot {snapshot.id}: {out.plural(len(snapshot.relations), 'relation')}, {snapshot.copied} copied, "
        f"{len(snapshot.relations) - snapshot.copied} unchanged ({out.size_text(snapshot.bytes)}) in {store.root} "
        f"in {time.perf_counter() - started:.2f}s"
    )


@project_command(cli)
@click.argument("snapshot", required=False)
@click.option("--at", "at", default=None, type=UtcTime(), help="The newest snapshot taken at or before this UTC time (2026-11-22 14:00)")
@click.option("--select", "-s", "select", multiple=True, help="Relations to restore (default: all in the snapshot)")
@click.option("--exclude", multiple=True, help="Selectors to leave out")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False), help="Backup folder (default: backups/)")
def restore(
    args: ProjectArgs, snapshot: str | None, at: datetime.datetime | None, select: tuple[str, ...], exclude: tuple[str, ...],
    directory: str | None,
) -> None:
    """Put a snapshot's relations back, into this target (any engine); checksums are verified first."""
    started = time.perf_counter()
    chosen, restored = args.load().restore(snapshot, at, select, exclude, directory)
    out.print_restored(chosen, restored, time.perf_counter() - started)


@project_command(cli)
@click.argument("models", nargs=-1, required=True)
@click.option("--threshold", type=click.FloatRange(min=0), default=0.25, show_default=True,
              help="Flag a row count or mean moving by more than this fraction of its average, or a null rate by more than this")
@OUTPUT
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False), help="Also write an HTML report with charts")
@click.option("--no-store", is_flag=True, help="Do not keep this profile in the history")
def profile(args: ProjectArgs, models: tuple[str, ...], threshold: float, output: str, html_path: str | None, no_store: bool) -> None:
    """Column statistics of built models; flags what moved against their earlier profiles."""
    results = args.load().profile(list(models), threshold, keep=not no_store)
    if output == "json":
        out.print_json([{**p.to_dict(), "anomalies": [{**a.__dict__, "message": a.describe()} for a in found]} for p, found, _ in results])
    else:
        for model_profile, found, past in results:
            out.print_profile(model_profile, found, len(past))
    if html_path:
        from featureduck.profiling.report import render

        Path(html_path).write_text(render(results))
        if output == "text":
            out.print_text(f"HTML report: {html_path}")


@project_command(cli)
@click.argument("model")
@OUTPUT
def explain(args: ProjectArgs, model: str, output: str) -> None:
    """Run a model's query under the engine's analyzer: the plan with timings, the slowest operators, advice."""
    plan, suggestions = args.load().explain(model)
    if output == "json":
        out.print_json({
            "model": model, "seconds": plan.seconds, "plan": plan.root.to_dict() if plan.root else plan.text,
            "slowest": [{k: v for k, v in n.to_dict().items() if k != "children"} for n in plan.slowest()],
            "suggestions": [{"rule": s.rule, "message": s.message} for s in suggestions],
        })
        return
    out.print_explanation(model, plan, suggestions)


@project_command(cli)
@click.option("--slowest", type=click.IntRange(min=1), default=None, help="The N slowest models of the last run, against their history")
@click.option("--last", type=click.IntRange(min=1), default=10, show_default=True, help="Runs of history to read")
@OUTPUT
def runs(args: ProjectArgs, slowest: int | None, last: int, output: str) -> None:
    """Recent runs from the state store; with --slowest, the slowest models and their regressions."""
    from dataclasses import asdict

    from featureduck.advice.runs import slowest as slowest_models
    from featureduck.advice.runs import summarize
    from featureduck.tasks.inspect import run_timings

    timings, streamed = run_timings(args.load(), max(last, 2))
    if slowest is not None:
        models = slowest_models(timings, slowest)
        if output == "json":
            out.print_json([{**asdict(m), "regressed": m.regressed} for m in models])
        else:
            out.print_slowest(models)
        return
    summaries = summarize(timings)
    if output == "json":
        out.print_json([asdict(s) for s in summaries])
    else:
        out.print_runs(summaries)
        out.print_stream_runs(streamed[:last])


@project_command(cli)
@OUTPUT
def freshness(args: ProjectArgs, output: str) -> None:
    """Check source and feature-view freshness against their SLAs; exit 1 on an error."""
    _report_freshness(args.load().freshness(), output)


def _report_freshness(results: list[Freshness], output: str) -> None:
    """Both freshness commands: a table or JSON; exit 1 on an error."""
    if output == "json":
        out.print_json([r.to_dict() for r in results])
    else:
        out.print_freshness(results)
    if any(r.status == "error" for r in results):
        sys.exit(1)


@cli.group()
def source() -> None:
    """Sources, as dbt spells their commands."""


@project_command(source, "freshness", selection=True)
@OUTPUT
def source_freshness(args: ProjectArgs, selector: Selector, output: str) -> None:
    """dbt's `source freshness`: the selected sources against their SLAs, written to target/sources.json; exit 1 on an error."""
    _report_freshness(args.load().source_freshness(selector.select, selector.exclude), output)


@project_command(cli, "training-set")
@click.option("--entities", "entities_file", required=True, type=click.Path(dir_okay=False),
              help="CSV or Parquet: join keys, event_timestamp, labels")
@click.option("--features", "features", required=True, multiple=True, help="view:feature[,view:feature...] (view@2:feature for a version)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Output .parquet or .csv")
def training_set(args: ProjectArgs, entities_file: str, features: tuple[str, ...], out_path: str) -> None:
    """Write a point-in-time correct training set."""
    started = time.perf_counter()
    references = [part for value in features for part in value.split(",") if part.strip()]
    rows = args.load().write_training_set(entities_file, references, out_path)
    out.print_text(f"Wrote {out.plural(rows, 'row')} with {out.plural(len(references), 'feature')} to {out_path} "
                   f"in {time.perf_counter() - started:.2f}s")


@project_command(cli)
@click.option("--select", "-s", "select", multiple=True, help="Online feature views (name or name@version); default: all")
@click.option("--full", is_flag=True, help="Recompute from every row and replace each view's online values")
@click.option("--start-time", "start", type=UtcTime(), default=None,
              help="With --end-time, Feast's window: the newest row per entity stamped from this time on (UTC)")
@click.option("--end-time", "end", type=UtcTime(), default=None,
              help="Read rows stamped up to this time (UTC); alone, Feast's materialize-incremental END")
def materialize(args: ProjectArgs, select: tuple[str, ...], full: bool, start: datetime.datetime | None,
                end: datetime.datetime | None) -> None:
    """Load the latest feature values of online views into the online store."""
    from featureduck.online.materialize import online_views

    project = args.load()
    names = [part for value in select for part in value.split(",") if part.strip()]
    with out.materialize_progress(len(online_views(project.definition, names or None))) as reporter:
        done = project.materialize(names or None, full, reporter, start, end)
    out.print_materialized(done)


@project_command(cli)
@click.option("--select", "-s", "select", multiple=True, help="Stream sources (source or source.table); default: all")
@click.option("--until-idle", "until_idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop after this many seconds without a message; default: run until Ctrl-C or SIGTERM")
@click.option("--reset", is_flag=True, help="Forget what the sources landed and read each topic again from its first message")
def stream(args: ProjectArgs, select: tuple[str, ...], until_idle: float | None, reset: bool) -> None:
    """Land stream sources' messages in the target exactly once, and keep stream feature views online."""
    names = [part for value in select for part in value.split(",") if part.strip()]
    done = args.load().stream(names or None, until_idle, reset, out.StreamReporter())
    out.print_streamed(done)


@cli.group()
def online() -> None:
    """Online store maintenance."""


@project_command(online, "migrate")
@click.option("--from-table", "old_table", default="online_features", show_default=True,
              help="The single table (feature_view, entity_key, features jsonb); schema-qualified or in the store's schema")
def online_migrate(args: ProjectArgs, old_table: str) -> None:
    """Move a single-table Postgres online store into one typed table per view (safe to run twice)."""
    if not out.print_migrated(args.load().migrate_online_store(old_table), old_table):
        sys.exit(1)


@project_command(cli)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on")
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes")
def serve(args: ProjectArgs, host: str, port: int, workers: int) -> None:
    """Serve online features over HTTP: lookups by key, batches, metrics, OpenAPI docs."""
    from featureduck.cli.serve import run_server

    run_server(args.load(), host, port, workers)


@project_command(cli, folder_only=True)
def deps(args: ProjectArgs) -> None:
    """Install the packages of packages.yml into dbt_packages/ (local, git and hub ones); needs no profile."""
    from featureduck.api import Project

    installed = Project.install_packages(Path(args.project_dir))
    for package in installed:
        out.print_text(f"installed {package.name} ({package.source}): {package.how}")
    if not installed:
        out.print_text("no packages to install")


@project_command(cli, folder_only=True)
@click.option("--all", "everything", is_flag=True, help="Also remove databases and state under target/")
def clean(args: ProjectArgs, everything: bool) -> None:
    """Remove compiled artifacts from target/ (databases are kept unless --all); needs no profile."""
    from featureduck.api import Project

    removed = Project.clean_folder(Path(args.project_dir), everything)
    for path in removed:
        out.print_text(f"removed {path}")
    if not removed:
        out.print_text("nothing to clean")
