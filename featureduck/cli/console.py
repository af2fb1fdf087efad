"""Terminal output: dbt-style progress lines, summaries and errors (rich)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from featureduck.project.ids import NodeId
from featureduck.runner.results import NodeResult, RunResults

if TYPE_CHECKING:
    from featureduck.compiler.lineage import ColumnLineage
    from featureduck.online.materialize import Materialized
    from featureduck.tasks.docs import GeneratedDocs
    from featureduck.tasks.parse import Parsed
    from featureduck.testing.definitions import DataTest
    from featureduck.testing.execute import TestResult

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_table(table: Any) -> None:
    """A rich table: fitted to the terminal, or, piped, as wide as its values (never cut at 80 columns)."""
    (console if console.is_terminal else Console(highlight=False, width=100_000)).print(table)


def shown_path(path: Path) -> str:
    """A path as a person would type it here: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 model`, `2 models`, `1,000 rows` (`many` for words not made plural by an s)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"

_STATUS_STYLE = {"success": ("OK", "green"), "cached": ("CACHED", "cyan"), "error": ("ERROR", "red"), "skipped": ("SKIP", "yellow")}
_LINE_WIDTH = 72


def _dots(text: str) -> str:
    return text + " " + "." * max(3, _LINE_WIDTH - len(text)) + " "


_TEST_STYLE = {"pass": ("PASS", "green"), "warn": ("WARN", "yellow"), "fail": ("FAIL", "red"), "error": ("ERROR", "red"),
               "skipped": ("SKIP", "yellow")}


class ConsoleReporter:
    """dbt's progress lines: one when a model, seed or test starts, one when it ends, with
    status and timing (featureduck.tasks.reporting's protocol). Nodes are numbered in the
    order they start (one that never starts, cached or skipped, when it is told), over
    everything the command planned: `build` numbers its seeds, models and tests as one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total: int | None = None
        self._numbers: dict[tuple[str, str], int] = {}

    def plan(self, total: int) -> None:
        with self._lock:
            self._total = total

    def _number(self, key: tuple[str, str], total: int) -> str:
        """Called under the lock."""
        if key not in self._numbers:
            self._numbers[key] = len(self._numbers) + 1
        return f"{self._numbers[key]} of {self._total or total}"

    def source_staged(self, source: str, relation: str, rows: int | None) -> None:
        text = f"Staged file source {source} into {relation} ({plural(rows, 'row')})" if rows is not None else (
            f"File source {source} unchanged since it was staged into {relation}"
        )
        with self._lock:
            console.print(escape(text))

    def node_started(self, index: int, total: int, name: str, materialized: str, relation: str) -> None:
        with self._lock:
            text = f"{self._number(('node', name), total)} START {_node_kind(materialized)} {relation}"
            console.print(escape(_dots(text)) + "[RUN]")

    def node_finished(self, index: int, total: int, result: NodeResult) -> None:
        label, style = _STATUS_STYLE[result.status]
        with self._lock:
            number = self._number(("node", result.name), total)
            if result.status == "success":
                rows = f"{plural(result.rows_affected, 'row')} " if result.rows_affected is not None else ""
                text = f"{number} {label} {result.message} {result.relation}"
                tail = f"[{label} {rows}in {result.execution_time:.2f}s]"
            elif result.status == "cached":
                text = f"{number} {label} {_node_kind(result.materialized)} {result.relation}"
                tail = f"[{label}, {result.message}]"
            elif result.status == "error":
                text = f"{number} {label} building {_node_kind(result.materialized)} {result.relation}"
                tail = f"[{label} in {result.execution_time:.2f}s]"
            else:
                text = f"{number} {label} {result.relation}"
                tail = f"[{label}]"
            console.print(f"[{style}]{escape(_dots(text))}{escape(tail)}[/{style}]")

    def test_started(self, index: int, total: int, test: DataTest) -> None:
        with self._lock:
            console.print(escape(_dots(f"{self._number(('test', test.unique_id), total)} START test {test.name}")) + "[RUN]")

    def test_finished(self, index: int, total: int, result: TestResult) -> None:
        label, style = _TEST_STYLE[result.status]
        count = f" {result.failures}" if result.status in ("warn", "fail") else ""
        with self._lock:
            text = f"{self._number(('test', result.test.unique_id), total)} {label}{count} {result.test.name}"
            tail = f"[{label}{count} in {result.execution_time:.2f}s]"
            console.print(f"[{style}]{escape(_dots(text))}{escape(tail)}[/{style}]")

    def view_materialized(self, done: Materialized) -> None:
        """Told by the progress bar (materialize_progress), and after, by print_materialized."""


def print_test_summary(results: list[Any], elapsed: float) -> None:
    counts = {status: sum(1 for r in results if r.status == status) for status in ("pass", "warn", "fail", "error", "skipped")}
    console.print()
    style = "red" if counts["fail"] or counts["error"] else ("yellow" if counts["warn"] else "green")
    console.print(
        f"[{style}]Finished running {plural(len(results), 'test')} in {elapsed:.2f}s: {counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['fail']} fail, {counts['error']} error" + (f", {counts['skipped']} skipped" if counts["skipped"] else "") + f"[/{style}]"
    )
    for result in results:
        if result.status in ("pass", "skipped"):
            continue
        test = result.test
        console.print()
        label = {"warn": "Warning", "fail": "Failure", "error": "Error"}[result.status]
        kind = "unit test" if test.test_type == "unit" else "test"
        console.print(f"[{_TEST_STYLE[result.status][1]}]{label} in {kind} {escape(test.name)} ({escape(str(test.location))})[/]")
        if result.status == "error" or test.test_type == "unit":  # a unit test's message is its diff
            console.print(escape(result.message))
            continue
        subject = f"{str(test.attached_to).split('.')[0]} {test.attached_label}" if test.attached_to else ""
        column = f", column {test.column}" if test.column else ""
        console.print(escape(f"{subject}{column}: {result.failures} failing rows" if subject else f"{result.failures} failing rows"))
        if result.stored_in:
            console.print(escape(f"  failing rows stored in {result.stored_in}"))


def _node_kind(materialized: str) -> str:
    """How dbt names a node in progress lines: `seed`, `snapshot`, `table model`."""
    if materialized in ("seed", "snapshot"):
        return materialized
    return f"{materialized} model" if materialized else "model"  # "": one that did not compile


def print_run_summary(results: RunResults) -> None:
    """`Finished running 1 seed and 4 models in ...`, then each failure's message."""
    ok, errors, skipped = results.count("success"), results.count("error"), results.count("skipped")
    cached = results.count("cached")
    kinds = [_summary_kind(r.materialized) for r in results.results]
    ran = [plural(kinds.count(kind), kind) for kind in ("seed", "model", "snapshot") if kind in kinds] or ["0 models"]
    console.print()
    style = "red" if errors else "green"
    unchanged = f"{cached} cached, " if cached else ""
    console.print(
        f"[{style}]Finished running {' and '.join([', '.join(ran[:-1]), ran[-1]] if len(ran) > 1 else ran)} "
        f"in {results.elapsed:.2f}s: {ok} ok, {unchanged}{errors} error, {skipped} skipped[/{style}]"
    )
    for result in results.results:
        if result.status == "error":
            console.print()
            console.print(f"[red]Failure in {_summary_kind(result.materialized)} {escape(result.name)}[/red]")
            console.print(escape(result.message))


def _summary_kind(materialized: str) -> str:
    return materialized if materialized in ("seed", "snapshot") else "model"


def print_explanation(model: str, plan: Any, suggestions: list[Any]) -> None:
    """The plan tree, the slowest operators, then advice."""
    console.print(f"[bold]{escape(model)}[/bold]: the query took {plan.seconds * 1000:,.1f} ms")
    console.print()
    for line in plan.lines():
        console.print(escape(line))
    slowest = plan.slowest()
    if slowest:
        console.print()
        console.print("[bold]Slowest operators[/bold]")
        for node in slowest:
            share = f" ({(node.seconds or 0) / plan.seconds:.0%})" if plan.seconds else ""
            console.print(escape(f"  {(node.seconds or 0) * 1000:,.1f} ms{share}  {node.operator}  {node.detail}"))
    console.print()
    if not suggestions:
        console.print("[green]No suggestions.[/green]")
    for suggestion in suggestions:
        console.print(f"[yellow]suggestion ({suggestion.rule}):[/yellow] {escape(suggestion.message)}")


def print_runs(summaries: list[Any]) -> None:
    from rich.table import Table

    if not summaries:
        console.print("no runs recorded yet")
        return
    table = Table("run", "started (UTC)", "built", "cached", "errors", "model time")
    for s in summaries:
        table.add_row(s.run_id, f"{s.started_at:%Y-%m-%d %H:%M:%S}", str(s.built), str(s.cached), str(s.errors), f"{s.seconds:.2f}s")
    print_table(table)


def print_stream_runs(runs: list[Any]) -> None:
    """`fduck stream`'s runs, a row per source: nothing when none streamed."""
    from rich.table import Table

    if not runs:
        return
    table = Table("stream run", "source", "started (UTC)", "time", "rows landed", "dead letters", "offsets", "lag")
    for r in runs:
        offsets = ", ".join(f"p{k}@{v:,}" for k, v in sorted(r.positions.items(), key=lambda kv: int(kv[0])))
        table.add_row(r.run_id, escape(r.name), f"{r.started_at:%Y-%m-%d %H:%M:%S}", f"{r.seconds:.1f}s", f"{r.landed:,}",
                      f"{r.dead_letters:,}", offsets, _lag({int(k): v for k, v in r.lag.items()}))
    print_table(table)


def print_slowest(models: list[Any]) -> None:
    from rich.table import Table

    if not models:
        console.print("no run has built a model yet")
        return
    table = Table("model", "materialized", "last run", "median before", "runs", "")
    for m in models:
        flag = "[red]regressed[/red]" if m.regressed else ""
        table.add_row(escape(m.name), m.materialized, f"{m.seconds:.3f}s", "-" if m.median is None else f"{m.median:.3f}s",
                      str(m.runs), flag)
    print_table(table)


def print_profile(profile: Any, anomalies: list[Any], earlier: int) -> None:
    """A table per model: a row per column; then what moved against its history."""
    from rich.table import Table

    console.print(f"[bold]{escape(profile.model)}[/bold] {escape(profile.relation)}: {plural(profile.rows, 'row')} "
                  f"[dim](compared with {plural(earlier, 'earlier profile')})[/dim]")
    table = Table("column", "type", "nulls", "distinct", "min", "max", "mean", "median", "most frequent")
    for c in profile.columns:
        top = f"{_short(c.top_values[0][0], 14)} ({c.top_values[0][1]:,})" if c.top_values else "-"
        median = c.quantiles.get("p50")
        table.add_row(
            escape(c.name), escape(c.type), f"{c.null_rate:.1%}", "-" if c.distinct is None else f"{c.distinct:,}",
            escape(_short(c.min, 19)), escape(_short(c.max, 19)), "-" if c.mean is None else f"{c.mean:.4g}",
            "-" if median is None else f"{median:.4g}", escape(top),
        )
    print_table(table)
    for anomaly in anomalies:
        console.print(f"[yellow]anomaly: {escape(anomaly.describe())}[/yellow]")


def _short(value: Any, width: int = 24) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def print_snapshots(snapshots: list[Any], folder: Any) -> None:
    """A table: id, when, target and engine, relations, copied, size."""
    from rich.table import Table

    if not snapshots:
        console.print(f"no snapshots in {escape(str(folder))}")
        return
    table = Table("snapshot", "taken (UTC)", "target", "relations", "copied", "size")
    for column in table.columns[:3]:
        column.no_wrap = True
    for s in snapshots:
        table.add_row(s.id, s.created_at.replace("T", " ")[:19], f"{s.target} ({s.engine})", str(len(s.relations)), str(s.copied),
                      size_text(s.bytes))
    print_table(table)


def size_text(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.1f} kB"


def print_freshness(results: list[Any]) -> None:
    """A table: view, newest timestamp, age, SLA, status."""
    from rich.table import Table

    if not results:
        print_text("Nothing to check: no source with a freshness SLA and a timestamp_field (and no feature view)")
        return
    table = Table("source or feature view", "newest", "age", "warn after", "error after", "status")
    styles = {"pass": "green", "warn": "yellow", "error": "red", "no sla": "dim"}
    for r in results:
        table.add_row(
            f"{'source' if r.resource_type == 'source' else 'view'} {r.view}",
            r.newest.isoformat(sep=" ", timespec="seconds") if r.newest else "-",
            _age(r.age_seconds),
            _age(r.warn_after),
            _age(r.error_after),
            f"[{styles[r.status]}]{r.status}[/{styles[r.status]}]",
        )
    print_table(table)


class _ProgressReporter(ConsoleReporter):
    def __init__(self, advance: Callable[[], None]) -> None:
        super().__init__()
        self._advance = advance

    def view_materialized(self, done: Materialized) -> None:
        self._advance()


@contextmanager
def materialize_progress(total: int) -> Iterator[ConsoleReporter]:
    """A progress bar over the `total` views being materialized, on a terminal (piped: none,
    and no line of it); yields the reporter that moves it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not console.is_terminal:
        yield ConsoleReporter()
        return
    columns = (TextColumn("materializing"), BarColumn(), MofNCompleteColumn(), TextColumn("views"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("views", total=total)
        yield _ProgressReporter(lambda: progress.advance(task))


def print_materialized(done: list[Any]) -> None:
    """One line per view, then the total rows and rows per second."""
    if not done:
        console.print("No online feature views (mark one `online: true`)")
        return
    for d in done:
        rate = d.rows / d.seconds if d.seconds else 0.0
        if d.window.start is not None:
            kind = f"stamped {d.window.start} to {d.window.end or 'now'}"
        else:
            kind = "full" if d.full else f"since {d.watermark_before}" if d.watermark_before else "incremental"
            kind += f", up to {d.window.end}" if d.window.end else ""
        console.print(f"{d.view}: {plural(d.rows, 'row')} ({kind}) in {d.seconds:.2f}s, {rate:,.0f} rows/s; up to {d.watermark or '-'}")
        moved = d.watermark is not None and d.watermark_before is not None and d.watermark > d.watermark_before
        if d.window.start is not None and moved and d.window.start > str(d.watermark_before):
            error_console.print(f"[yellow]warning: {d.view}: rows stamped after {d.watermark_before} and before {d.window.start} "
                                "were not loaded, and an incremental materialize will not load them: run it with --full[/yellow]")
    rows = sum(d.rows for d in done)
    seconds = sum(d.seconds for d in done)
    console.print(f"[green]Materialized {plural(rows, 'row')} of {plural(len(done), 'view')} in {seconds:.2f}s "
                  f"({rows / seconds if seconds else 0:,.0f} rows/s)[/green]")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return f"{hours / 24:.1f}d" if hours >= 48 else f"{hours:.1f}h"


class StreamReporter:
    """A line per source every few seconds while it streams: rows landed, rate, lag."""

    EVERY = 5.0

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._landed: dict[str, int] = {}

    def stream_progress(self, sources: list[Any], final: bool) -> None:
        now = time.monotonic()
        if final or now - self._last < self.EVERY:
            return
        elapsed = now - self._last
        self._last = now
        for p in sources:
            rate = f", {(p.landed - self._landed.get(p.name, 0)) / elapsed:,.0f}/s"
            self._landed[p.name] = p.landed
            console.print(f"{escape(p.name)}: {plural(p.landed, 'row')} landed{rate}, lag {_lag(p.lag)}")


def _lag(lag: dict[int, int]) -> str:
    """Total lag, and per partition when there are several: `12 (p0 10, p1 2)`."""
    total = f"{sum(lag.values()):,}"
    if len(lag) <= 1:
        return total
    return total + " (" + ", ".join(f"p{k} {v:,}" for k, v in sorted(lag.items())) + ")"


def print_streamed(done: list[Any]) -> None:
    """One line per source: rows landed, dead letters, online rows, where each partition is."""
    for p in done:
        dead = f", {plural(p.dead_letters, 'dead letter')} in {escape(p.relation)}__dead_letters" if p.dead_letters else ""
        online = f", {plural(p.online_rows, 'online row')} written" if p.online_rows else ""
        online += f" ({plural(p.deleted, 'delete')} among the changes)" if p.deleted else ""
        positions = ", ".join(f"p{k}@{v:,}" for k, v in sorted(p.positions.items())) or "nothing read"
        console.print(f"{escape(p.name)}: {plural(p.landed, 'row')} landed in {escape(p.relation)}{dead}{online} "
                      f"in {p.seconds:.1f}s; offsets {positions}; lag {_lag(p.lag)}")


def print_warnings(warnings: list[tuple[str, Any]]) -> None:
    """What the project load warned of, as dbt warns: on stderr, the command goes on."""
    for message, location in warnings:
        error_console.print(f"[yellow]warning: {escape(str(location))}: {escape(message)}[/yellow]")


def print_error(message: str) -> None:
    error_console.print(f"[red]error:[/red] {escape(message)}")


def print_internal_error(trace: str) -> None:
    error_console.print("[red]internal error[/red] (please report it with this traceback):")
    sys.stderr.write(trace)


# --- what the other commands print ---------------------------------------------------


def print_lineage(traced: ColumnLineage, depth: int = 0) -> None:
    """A column and, indented under it, the columns it is derived from."""
    node = NodeId.parse(traced.node)
    kind = "" if node.kind in ("model", "snapshot") and depth else f" ({node.kind})" if node.kind != "model" else ""
    print_line(f"{'  ' * depth}{'<- ' if depth else ''}{node.name}.{traced.column}{kind}")
    for upstream in traced.upstream:
        print_lineage(upstream, depth + 1)


def print_parsed(parsed: Parsed, manifest: Path, seconds: float) -> None:
    for error in dict.fromkeys(parsed.errors):
        print_error(error)
    found = ", ".join(plural(n, kind) for kind, n in parsed.counts.items() if n)
    print_text(f"Parsed {found or 'an empty project'} in {seconds:.2f}s; wrote {shown_path(manifest)}")
    if parsed.errors:
        print_text(f"[red]{plural(len(dict.fromkeys(parsed.errors)), 'error')}[/red]")


def print_docs_generated(generated: GeneratedDocs, seconds: float) -> None:
    for uid, error in sorted(generated.lineage_errors.items()):
        print_text(f"[yellow]column lineage of {escape(uid)} not traced[/yellow]: {escape(error)}")
    print_text(f"Wrote the docs site ({plural(generated.nodes, 'node')}, {plural(generated.columns_traced, 'column')} traced) "
               f"to {shown_path(generated.folder / 'index.html')} in {seconds:.2f}s")
    print_text("Open it as a file, or serve it: fduck docs serve")


def print_preview(columns: list[str], rows: list[tuple[Any, ...]], output: str) -> None:
    """`fduck show`: the rows as a table, or as JSON objects (values as JSON has them, else text)."""
    if output == "json":
        print_json([dict(zip(columns, row, strict=True)) for row in rows])
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*("null" if value is None else escape(str(value)) for value in row))
    print_table(table)


def print_line(text: str) -> None:
    """A line as it is (ids, JSON records): no markup, no wrapping."""
    sys.stdout.write(text + "\n")


def print_json(data: Any, indent: int | None = 1) -> None:
    print_line(json.dumps(data, indent=indent, default=str))


def print_records(records: list[tuple[str, dict[str, Any]]], output: str) -> None:
    """`fduck ls`: a unique id per line, or a JSON object per line."""
    for uid, record in records:
        print_line(json.dumps({"unique_id": uid, **record}) if output == "json" else uid)


def print_sources(sources: list[tuple[Any, list[Any]]], output: str) -> None:
    """Each source table, and for an incremental one the watermark each model reading it keeps."""
    for table, marks in sources:
        watermarks = {NodeId.parse(m.model_id).name: {"watermark": m.watermark, "recorded_at": _when(m.recorded_at)} for m in marks}
        if output == "json":
            print_line(json.dumps({
                "unique_id": table.unique_id, "resource_type": "source", "name": f"{table.source_name}.{table.name}",
                "type": table.source_type, "timestamp_field": table.timestamp_field, "incremental": table.incremental,
                "watermarks": watermarks,
            }))
            continue
        line = f"{table.unique_id:<48} {table.source_type:<9}"
        if table.incremental:
            marked = ", ".join(f"{model} {mark['watermark'] or '-'}" for model, mark in watermarks.items()) or "not read yet"
            line += f" incremental on {table.timestamp_field}: {marked}"
        print_line(line.rstrip())


def print_relation_states(states: list[Any], output: str) -> None:
    for item in states:
        built = _when(item.last_built) if item.last_built else None
        if output == "json":
            print_line(json.dumps({"name": item.name, "relation": item.relation, "materialized": item.materialized,
                                   "depends_on": item.depends_on, "last_built": built, "state": item.state}))
        else:
            print_line(f"{item.name:<32} {item.relation:<40} {built or '-':<20} {item.state}")


def _when(moment: Any) -> str:
    return str(moment.isoformat(sep=" ", timespec="seconds"))


def print_compiled(errors: list[str], count: int, target: Any, where: Any, cached: bool, seconds: float,
                   failed: dict[str, int]) -> None:
    """`fduck compile`: each error once, the summary, then what failed by kind."""
    for error in dict.fromkeys(errors):  # one folder config's error is every model's under it: told once
        print_error(error)
    console.print(f"Compiled {count} models for target {target.name} ({target.dialect}) into {where}"
                  f"{' (cached)' if cached else ''} in {seconds:.2f}s")
    for what, number in failed.items():
        if number:
            console.print(f"[red]{number} {what}[/red]")


def print_debug(lines: list[str]) -> None:
    for line in lines:
        console.print(escape(line))


def print_starting(verb: str, target: Any, threads: int | None) -> None:
    """`fduck run` and `fduck build`'s first line: where, and how many at once."""
    console.print(escape(f"{verb} on target {target.name} ({target.type}, {threads or target.threads} threads)"))


def print_text(text: str) -> None:
    """A line of a command's own (markup allowed: the caller escapes what it quotes)."""
    console.print(text)


def print_restored(chosen: Any, restored: list[Any], seconds: float) -> None:
    taken = chosen.created_at.replace("T", " ")[:19]
    console.print(f"Restoring snapshot {chosen.id} (taken {taken} UTC on target {chosen.target}, {chosen.engine})")
    for item in restored:
        console.print(escape(f"  {item.name} -> {item.relation}: " + (plural(item.rows, "row") if item.rows is not None else item.note)))
    console.print(f"Restored {plural(sum(1 for r in restored if r.rows is not None), 'relation')} in {seconds:.2f}s")


def print_migrated(done: list[Any], old_table: str) -> bool:
    """`fduck online migrate`'s report; whether every row is in its view's table."""
    for d in done:
        lost = d.old_rows - d.present
        console.print(escape(f"{d.view}: {plural(d.old_rows, 'row')} in {old_table}, {d.present:,} of their entities in the view's table")
                      + (f" [red]({lost:,} missing)[/red]" if lost else ""))
    if not done:
        console.print(escape(f"Nothing to migrate: {old_table} holds no rows of the online feature views"))
        return True
    if all(d.present == d.old_rows for d in done):
        console.print(f"[green]Every row is in its view's table; {escape(old_table)} is left in place: "
                      "drop it when you are satisfied[/green]")
        return True
    return False


def print_serving(name: str, target: str, host: str, port: int, workers: int) -> None:
    """Printed once everything that can fail was checked: tests and scripts wait for it."""
    print(f"Serving {name} (target {target}) on http://{host}:{port} with {workers} worker{'s' if workers > 1 else ''}; docs at /docs",
          flush=True)
