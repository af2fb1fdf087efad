"""`fduck` commands. Options common to all commands follow the command, as in dbt."""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from featureduck import __version__
from featureduck.cli.console import (
    ConsoleReporter,
    console,
    print_error,
    print_explanation,
    print_freshness,
    print_internal_error,
    print_profile,
    print_run_summary,
    print_runs,
    print_slowest,
    print_snapshots,
    print_test_summary,
    size_text,
)
from featureduck.errors import FeatureDuckError, UsageError
from featureduck.runner.results import RunResults
from featureduck.utils.secrets import MaskingStream

if TYPE_CHECKING:
    from featureduck.api import Project

F = TypeVar("F", bound=Callable[..., Any])


def common_options(func: F) -> F:
    """--project-dir, --profiles-dir, --target, --vars and --debug on every command."""
    options = [
        click.option("--project-dir", default=".", type=click.Path(file_okay=False), help="Project folder (default: .)"),
        click.option("--profiles-dir", default=None, type=click.Path(file_okay=False), help="Folder holding profiles.yml"),
        click.option("--target", "-t", default=None, help="Target in the profile (default: the profile's)"),
        click.option("--vars", "vars_", default=None, help="YAML mapping overriding project vars"),
        click.option("--debug", is_flag=True, help="Show tracebacks for errors"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def selection_options(func: F) -> F:
    options = [
        click.option("--select", "-s", "select", multiple=True, help="name, +name, name+, tag:x, path:dir, state:modified"),
        click.option("--exclude", multiple=True, help="Selectors to leave out"),
        click.option("--state", default=None, type=click.Path(file_okay=False), help="Folder with a saved manifest.json"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def handles_errors(func: F) -> F:
    """Print FeatureDuckError without a traceback and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.get("debug", False)
        try:
            result = func(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return result
        except BrokenPipeError:  # the reader stopped (`fduck ls | head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except FeatureDuckError as err:
            if debug:
                raise
            print_error(str(err))
            sys.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception:  # noqa: BLE001 - anything else is our bug
            if debug:
                raise
            print_internal_error(traceback.format_exc())
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _load(project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None) -> Project:
    from featureduck.api import Project

    return Project.load(project_dir, target=target, vars=vars_, profiles_dir=profiles_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="featureduck")
def cli() -> None:
    """featureduck: SQL-first feature engineering."""
    # every line written, a traceback's too, has its credentials masked (utils.secrets)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))


@cli.command()
@click.argument("name")
@click.option("--debug", is_flag=True, hidden=True)
@handles_errors
def init(name: str, debug: bool) -> None:
    """Create a new project NAME from the starter template."""
    from featureduck.scaffold import init_project

    path = init_project(Path(name))
    console.print(f"Created project [bold]{path.name}[/bold] in {path}")
    console.print(f"Next: cd {name} && fduck run")


@cli.command()
@common_options
@handles_errors
def debug(project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool) -> None:
    """Check the project, the profile and the connection; print versions."""
    import sqlglot

    console.print(f"featureduck {__version__}, python {platform.python_version()}, sqlglot {sqlglot.__version__}")
    project = _load(project_dir, profiles_dir, target, vars_)
    console.print(f"project: {project.config.name} ({project.config.root / project.config.file_name})")
    console.print(f"models: {len(project.definition.models)}, sources: {len(project.definition.sources)}")
    where = project.target.profiles_file or "none (built-in default)"
    console.print(f"profiles.yml: {where}")
    console.print(f"target: {project.target.name} (type {project.target.type}, dialect {project.target.dialect})")
    for key, value in project.target.public_settings().items():
        console.print(f"  {key}: {value}")
    with project.session() as session:
        session.adapter.execute("SELECT 1")
        console.print(f"connection: [green]OK[/green] ({session.adapter.TYPE} {session.adapter.version()})")


@cli.command("ls")
@common_options
@selection_options
@click.option(
    "--resource-type",
    type=click.Choice(["model", "seed", "source", "view", "materialized_view", "entity", "feature_view", "all"]),
    default="all",
    help="view and materialized_view also show when each was last built and whether its SQL changed since; "
    "source shows the watermark of each incremental source",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def ls_command(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, resource_type: str, output: str,
) -> None:
    """List resources, honouring selectors."""
    project = _load(project_dir, profiles_dir, target, vars_)
    selection = project.select(list(select), list(exclude), state)
    if resource_type in ("view", "materialized_view"):
        _list_relation_states(project.relation_states(selection, {resource_type}), output)
        return
    if resource_type == "source":
        _list_sources(project.source_watermarks(selection), output)
        return
    if resource_type in ("entity", "feature_view") or (resource_type == "all" and not select):
        _list_feature_store(project, resource_type, output)
        if resource_type != "all":
            return
    compiled = selection.compiled
    for uid in sorted(selection.selected):
        kind = uid.split(".", 1)[0]
        if resource_type not in ("all", kind):
            continue
        name = uid.split(".", 2)[2]
        model = compiled.models.get(name) if kind == "model" else None
        if output == "json":
            record = {"unique_id": uid, "resource_type": kind, "name": name}
            if model is not None:
                record.update(
                    materialized=model.materialized,
                    relation=model.relation.sql(project.target.dialect),
                    tags=model.config.get("tags", []),
                )
            click.echo(json.dumps(record))
        else:
            click.echo(uid)


def _list_feature_store(project: Any, resource_type: str, output: str) -> None:
    definition = project.definition
    items: list[tuple[str, dict[str, Any]]] = []
    if resource_type in ("all", "entity"):
        items += [
            (f"entity.{definition.config.name}.{name}", {"resource_type": "entity", **entity.to_dict()})
            for name, entity in definition.entities.items()
        ]
    if resource_type in ("all", "feature_view"):
        items += [
            (f"feature_view.{definition.config.name}.{key}", {"resource_type": "feature_view", **v.to_dict()})
            for key, v in definition.feature_views.items()
        ]
    for uid, record in sorted(items):
        click.echo(json.dumps({"unique_id": uid, **record}) if output == "json" else uid)


def _list_sources(sources: list[tuple[Any, list[Any]]], output: str) -> None:
    """Each source table, and for an incremental one the watermark each model reading it keeps."""
    for table, marks in sources:
        watermarks = {
            m.model_id.split(".", 2)[2]: {"watermark": m.watermark, "recorded_at": m.recorded_at.isoformat(sep=" ", timespec="seconds")}
            for m in marks
        }
        if output == "json":
            click.echo(json.dumps({
                "unique_id": table.unique_id, "resource_type": "source", "name": f"{table.source_name}.{table.name}",
                "type": table.source_type, "timestamp_field": table.timestamp_field, "incremental": table.incremental,
                "watermarks": watermarks,
            }))
            continue
        line = f"{table.unique_id:<48} {table.source_type:<9}"
        if table.incremental:
            marked = ", ".join(f"{model} {mark['watermark'] or '-'}" for model, mark in watermarks.items()) or "not read yet"
            line += f" incremental on {table.timestamp_field}: {marked}"
        click.echo(line.rstrip())


def _list_relation_states(states: list[Any], output: str) -> None:
    for item in states:
        built = item.last_built.isoformat(sep=" ", timespec="seconds") if item.last_built else None
        if output == "json":
            click.echo(json.dumps({
                "name": item.name, "relation": item.relation, "materialized": item.materialized,
                "depends_on": item.depends_on, "last_built": built, "state": item.state,
            }))
        else:
            click.echo(f"{item.name:<32} {item.relation:<40} {built or '-':<20} {item.state}")


@cli.command("compile")
@common_options
@selection_options
@click.option("--no-cache", is_flag=True, help="Ignore the compile cache")
@handles_errors
def compile_command(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, no_cache: bool,
) -> None:
    """Render and transpile every model for the target; no database needed."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    compiled = project.compile(use_cache=not no_cache)
    selection = project.select(list(select), list(exclude), state)
    names = {uid.split(".", 2)[2] for uid in selection.selected if uid.startswith("model.")}
    errors = {n: e for n, e in compiled.errors.items() if n in names}
    feature_errors = project.check_feature_views()
    test_errors = [test.error for test in project.compile_tests(list(select), list(exclude), state) if test.sql is None]
    # one folder config's error is every model's under it: told once
    for error in dict.fromkeys([*(str(e) for e in errors.values()), *(str(e) for e in feature_errors), *test_errors]):
        print_error(error)
    count = len(names & set(compiled.models))
    where = project.config.target_dir / "compiled" / project.target.name
    cached = " (cached)" if compiled.from_cache else ""
    console.print(
        f"Compiled {count} models for target {project.target.name} ({project.target.dialect}) "
        f"into {where}{cached} in {time.perf_counter() - started:.2f}s"
    )
    if errors or feature_errors or test_errors:
        if errors:
            console.print(f"[red]{len(errors)} models failed to compile[/red]")
        if feature_errors:
            console.print(f"[red]{len(feature_errors)} feature views do not match their models[/red]")
        if test_errors:
            console.print(f"[red]{len(test_errors)} tests failed to compile[/red]")
        sys.exit(1)


@cli.command()
@common_options
@selection_options
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Models built at once")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch")
@click.option("--no-cache", is_flag=True, help="Build every selected model, even those unchanged since their last build")
@handles_errors
def run(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, threads: int | None, full_refresh: bool,
    no_cache: bool,
) -> None:
    """Build the selected models in DAG order, skipping those unchanged since their last build."""
    project = _load(project_dir, profiles_dir, target, vars_)
    threads = threads or project.target.threads
    console.print(f"Running on target {project.target.name} ({project.target.type}, {threads} threads)")
    results = project.run(select, exclude, threads, full_refresh, state, ConsoleReporter(), use_cache=not no_cache)
    print_run_summary(results)
    if results.failed:
        sys.exit(1)


@cli.command()
@common_options
@selection_options
@click.option("--full-refresh", is_flag=True, help="Accepted for dbt parity: every load replaces its table whole")
@handles_errors
def seed(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, full_refresh: bool,
) -> None:
    """Load the CSV files in the seed paths into tables, in bulk."""
    project = _load(project_dir, profiles_dir, target, vars_)
    started = time.perf_counter()
    results = project.seed(select, exclude, state, ConsoleReporter())
    print_run_summary(RunResults(results, time.perf_counter() - started), "seeds")
    if any(r.status == "error" for r in results):
        sys.exit(1)


@cli.command()
@common_options
@selection_options
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Models built at once")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch")
@click.option("--no-cache", is_flag=True, help="Build every selected model, even those unchanged since their last build")
@handles_errors
def build(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, threads: int | None, full_refresh: bool,
    no_cache: bool,
) -> None:
    """Seed, run and test in DAG order; a failing test skips the dependents of what it tests."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    console.print(f"Building on target {project.target.name} ({project.target.type}, {threads or project.target.threads} threads)")
    results, test_results = project.build(select, exclude, threads, full_refresh, state, ConsoleReporter(), use_cache=not no_cache)
    print_run_summary(results, "seeds and models")
    print_test_summary(test_results, time.perf_counter() - started)
    if results.failed or any(r.status in ("fail", "error") for r in test_results):
        sys.exit(1)


@cli.command()
@common_options
@click.argument("model", required=False)
@click.option("--query", default=None, help="A query to export instead of a model (refs and sources allowed)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=True), help="The file (or, with --partition-by, folder)")
@click.option("--format", "format_", type=click.Choice(["csv", "parquet", "json", "xlsx"]), default=None,
              help="Default: from the file's suffix")
@click.option("--compression", type=click.Choice(["gzip", "zstd", "snappy"]), default=None)
@click.option("--partition-by", "partition_by", multiple=True, help="Write a hive-partitioned folder by these columns")
@click.option("--delimiter", default=None, help="CSV field delimiter")
@click.option("--no-header", is_flag=True, help="CSV and Excel: no header row")
@click.option("--json-array", is_flag=True, help="JSON: one array instead of one object per line")
@click.option("--encoding", default=None, help="CSV: the file's encoding (latin-1, cp1252, utf-16, utf-8-sig...); default UTF-8")
@handles_errors
def export(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    model: str | None, query: str | None, out: str, format_: str | None, compression: str | None,
    partition_by: tuple[str, ...], delimiter: str | None, no_header: bool, json_array: bool, encoding: str | None,
) -> None:
    """Export a model (or --query) to CSV, Parquet, JSON or Excel; it streams."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    rows = project.export(out, model, query, format_, compression=compression, partition_by=tuple(partition_by),
                          delimiter=delimiter, header=not no_header, json_array=json_array, encoding=encoding)
    console.print(f"Exported {rows} rows to {out} in {time.perf_counter() - started:.2f}s")


@cli.command()
@common_options
@click.option("--select", "-s", "select", multiple=True, help="Tables and seeds to back up (default: all)")
@click.option("--exclude", multiple=True, help="Selectors to leave out")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False), help="Backup folder (default: backups/)")
@click.option("--list", "list_", is_flag=True, help="List the snapshots instead of taking one")
@handles_errors
def backup(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], directory: str | None, list_: bool,
) -> None:
    """Snapshot the built tables and seeds as Parquet, copying only what changed."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    store = project.backup_store(directory)
    if list_:
        print_snapshots(store.list(), store.root)
        return
    snapshot = project.backup(list(select), list(exclude), directory)
    reused = len(snapshot.relations) - snapshot.copied
    console.print(
        f"Snapshot {snapshot.id}: {len(snapshot.relations)} relations, {snapshot.copied} copied, {reused} unchanged "
        f"({size_text(snapshot.bytes)}) in {store.root} in {time.perf_counter() - started:.2f}s"
    )


@cli.command()
@common_options
@click.argument("snapshot", required=False)
@click.option("--at", "at", default=None, help="The newest snapshot taken at or before this UTC time (2026-11-22 14:00)")
@click.option("--select", "-s", "select", multiple=True, help="Relations to restore (default: all in the snapshot)")
@click.option("--exclude", multiple=True, help="Selectors to leave out")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False), help="Backup folder (default: backups/)")
@handles_errors
def restore(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    snapshot: str | None, at: str | None, select: tuple[str, ...], exclude: tuple[str, ...], directory: str | None,
) -> None:
    """Put a snapshot's relations back, into this target (any engine); checksums are verified first."""
    import datetime

    started = time.perf_counter()
    moment = None
    if at is not None:
        try:
            moment = datetime.datetime.fromisoformat(at)
        except ValueError:
            raise UsageError(f"--at {at!r} is not a time", hint="give it as 2026-11-22 14:00 (UTC)") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    project = _load(project_dir, profiles_dir, target, vars_)
    chosen, restored = project.restore(snapshot, moment, list(select), list(exclude), directory)
    taken = chosen.created_at.replace("T", " ")[:19]
    console.print(f"Restoring snapshot {chosen.id} (taken {taken} UTC on target {chosen.target}, {chosen.engine})")
    for item in restored:
        console.print(f"  {item.name} -> {item.relation}: " + (f"{item.rows} rows" if item.rows is not None else item.note))
    console.print(f"Restored {sum(1 for r in restored if r.rows is not None)} relations in {time.perf_counter() - started:.2f}s")


@cli.command()
@common_options
@click.argument("models", nargs=-1, required=True)
@click.option("--threshold", type=click.FloatRange(min=0), default=0.25, show_default=True,
              help="Flag a row count or mean moving by more than this fraction of its average, or a null rate by more than this")
@click.option("--output", type=click.Choice(["text", "json"]), default="text")
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False), help="Also write an HTML report with charts")
@click.option("--no-store", is_flag=True, help="Do not keep this profile in the history")
@handles_errors
def profile(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    models: tuple[str, ...], threshold: float, output: str, html_path: str | None, no_store: bool,
) -> None:
    """Column statistics of built models; flags what moved against their earlier profiles."""
    project = _load(project_dir, profiles_dir, target, vars_)
    results = project.profile(list(models), threshold, keep=not no_store)
    if output == "json":
        click.echo(json.dumps([{**p.to_dict(), "anomalies": [{**a.__dict__, "message": a.describe()} for a in found]}
                               for p, found, _ in results], indent=1, default=str))
    else:
        for model_profile, found, past in results:
            print_profile(model_profile, found, len(past))
    if html_path:
        from featureduck.profiling.report import render

        Path(html_path).write_text(render(results))
        if output == "text":
            console.print(f"HTML report: {html_path}")


@cli.command()
@common_options
@click.argument("model")
@click.option("--output", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def explain(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool, model: str, output: str,
) -> None:
    """Run a model's query under the engine's analyzer: the plan with timings, the slowest operators, advice."""
    project = _load(project_dir, profiles_dir, target, vars_)
    plan, suggestions = project.explain(model)
    if output == "json":
        click.echo(json.dumps({
            "model": model, "seconds": plan.seconds, "plan": plan.root.to_dict() if plan.root else plan.text,
            "slowest": [{k: v for k, v in n.to_dict().items() if k != "children"} for n in plan.slowest()],
            "suggestions": [{"rule": s.rule, "message": s.message} for s in suggestions],
        }, indent=1))
        return
    print_explanation(model, plan, suggestions)


@cli.command()
@common_options
@click.option("--slowest", type=click.IntRange(min=1), default=None, help="The N slowest models of the last run, against their history")
@click.option("--last", type=click.IntRange(min=1), default=10, show_default=True, help="Runs of history to read")
@click.option("--output", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def runs(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    slowest: int | None, last: int, output: str,
) -> None:
    """Recent runs from the state store; with --slowest, the slowest models and their regressions."""
    from dataclasses import asdict

    from featureduck.advice.runs import slowest as slowest_models
    from featureduck.advice.runs import summarize

    project = _load(project_dir, profiles_dir, target, vars_)
    timings = project.run_timings(max(last, 2))
    if slowest is not None:
        models = slowest_models(timings, slowest)
        if output == "json":
            click.echo(json.dumps([{**asdict(m), "regressed": m.regressed} for m in models], indent=1))
        else:
            print_slowest(models)
        return
    summaries = summarize(timings)
    if output == "json":
        click.echo(json.dumps([asdict(s) for s in summaries], indent=1, default=str))
    else:
        print_runs(summaries)


@cli.command("test")
@common_options
@selection_options
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Tests run at once")
@handles_errors
def test_command(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], exclude: tuple[str, ...], state: str | None, threads: int | None,
) -> None:
    """Run data tests: generic tests from YAML and singular tests; exit 1 on a failure."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    results = project.test(select, exclude, threads, state, ConsoleReporter())
    print_test_summary(results, time.perf_counter() - started)
    if any(r.status in ("fail", "error") for r in results):
        sys.exit(1)


@cli.command()
@common_options
@click.option("--output", type=click.Choice(["text", "json"]), default="text")
@handles_errors
def freshness(project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool, output: str) -> None:
    """Check source and feature-view freshness against their SLAs; exit 1 on an error."""
    project = _load(project_dir, profiles_dir, target, vars_)
    results = project.freshness()
    if output == "json":
        click.echo(json.dumps([r.to_dict() for r in results], indent=1))
    else:
        print_freshness(results)
    if any(r.status == "error" for r in results):
        sys.exit(1)


@cli.command("training-set")
@common_options
@click.option(
    "--entities", "entities_file", required=True, type=click.Path(dir_okay=False),
    help="CSV or Parquet: join keys, event_timestamp, labels",
)
@click.option("--features", "features", required=True, multiple=True, help="view:feature[,view:feature...] (view@2:feature for a version)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output .parquet or .csv")
@handles_errors
def training_set(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    entities_file: str, features: tuple[str, ...], out: str,
) -> None:
    """Write a point-in-time correct training set."""
    started = time.perf_counter()
    project = _load(project_dir, profiles_dir, target, vars_)
    references = [part for value in features for part in value.split(",") if part.strip()]
    rows = project.write_training_set(entities_file, references, out)
    console.print(f"Wrote {rows} rows with {len(references)} features to {out} in {time.perf_counter() - started:.2f}s")


@cli.command()
@common_options
@click.option("--select", "-s", "select", multiple=True, help="Online feature views (name or name@version); default: all")
@click.option("--full", is_flag=True, help="Recompute from every row and replace each view's online values")
@handles_errors
def materialize(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    select: tuple[str, ...], full: bool,
) -> None:
    """Load the latest feature values of online views into the online store."""
    from featureduck.cli.console import materialize_progress, print_materialized
    from featureduck.online.materialize import online_views

    project = _load(project_dir, profiles_dir, target, vars_)
    names = [part for value in select for part in value.split(",") if part.strip()]
    with materialize_progress(len(online_views(project.definition, names or None))) as reporter:
        done = project.materialize(names or None, full, reporter)
    print_materialized(done)


@cli.group()
def online() -> None:
    """Online store maintenance."""


@online.command("migrate")
@common_options
@click.option("--from-table", "old_table", default="online_features", show_default=True,
              help="The single table (feature_view, entity_key, features jsonb); schema-qualified or in the store's schema")
@handles_errors
def online_migrate(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool, old_table: str,
) -> None:
    """Move a single-table Postgres online store into one typed table per view (safe to run twice)."""
    project = _load(project_dir, profiles_dir, target, vars_)
    done = project.migrate_online_store(old_table)
    for d in done:
        lost = d.old_rows - d.present
        console.print(f"{d.view}: {d.old_rows:,} rows in {old_table}, {d.present:,} of their entities in the view's table"
                      + (f" [red]({lost:,} missing)[/red]" if lost else ""))
    if not done:
        console.print(f"No rows of online feature views in {old_table}")
    elif all(d.present == d.old_rows for d in done):
        console.print(f"[green]Every row is in its view's table; {old_table} is left in place: drop it when you are satisfied[/green]")
    else:
        sys.exit(1)


@cli.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes")
@handles_errors
def serve(
    project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool,
    host: str, port: int, workers: int,
) -> None:
    """Serve online features over HTTP (SPEC section 7)."""
    from featureduck.cli.serve import run_server

    project = _load(project_dir, profiles_dir, target, vars_)
    run_server(project, host, port, workers)


@cli.command()
@common_options
@click.option("--all", "everything", is_flag=True, help="Also remove databases and state under target/")
@handles_errors
def clean(project_dir: str, profiles_dir: str | None, target: str | None, vars_: str | None, debug: bool, everything: bool) -> None:
    """Remove compiled artifacts from target/ (databases are kept unless --all)."""
    from featureduck.api import Project

    del profiles_dir, target, vars_  # clean needs no profile
    removed = Project.clean_folder(Path(project_dir), everything)
    for path in removed:
        console.print(f"removed {path}")
    if not removed:
        console.print("nothing to clean")

