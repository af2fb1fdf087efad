"""`fduck stream`: the selected stream sources consumed into the target, and their
stream feature views kept online, until idle or interrupted; each source's run is
recorded in the state store (`fduck runs`) and its progress in target/streams.json,
which `fduck serve` exposes in /metrics."""

from __future__ import annotations

import datetime
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.compiler.meaning import keep_meaning
from featureduck.compiler.parse import parse_model_sql
from featureduck.compiler.projection import over, row_wise_table
from featureduck.errors import CompilationError, UsageError
from featureduck.online.base import OnlineView
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import SourceTable
from featureduck.runner.state import NodeRun, record_run
from featureduck.store.validation import stream_model_fault
from featureduck.streams.consume import SourceProgress, consume
from featureduck.streams.progress import write_progress
from featureduck.streams.views import BATCH_TABLE, StreamView
from featureduck.tasks.options import StreamOptions
from featureduck.tasks.workspace import Workspace
from featureduck.utils.clock import utc_now
from featureduck.utils.suggest import did_you_mean

if TYPE_CHECKING:
    from featureduck.streams.consume import StreamProgress


def stream_sources(definition: ProjectDefinition, names: list[str]) -> list[SourceTable]:
    """The stream sources named (`clicks`, `clicks.events`, `source:clicks.events`), or all."""
    streams = [t for t in definition.sources.values() if t.stream is not None]
    if not names:
        return streams
    chosen: list[SourceTable] = []
    for written in names:
        name = written.removeprefix("source:")
        found = [t for t in streams if name in (t.source_name, f"{t.source_name}.{t.name}")]
        if not found:
            known = sorted(f"{t.source_name}.{t.name}" for t in streams)
            raise UsageError(f"no stream source '{written}'", hint=did_you_mean(name, known) or
                             ("stream sources: " + ", ".join(known) if known else
                              "declare a source of `type: kafka`, or of `type: postgres` with `cdc: true`"))
        chosen += [t for t in found if t not in chosen]
    return chosen


def stream_views(workspace: Workspace, table: SourceTable) -> list[StreamView]:
    """The stream views `table`'s batches feed: over it directly, or over a model that is a
    row-wise projection of it (run on each batch, in DuckDB's SQL)."""
    definition = workspace.definition
    found = []
    for view in definition.feature_views.values():
        if not view.stream:
            continue
        online = OnlineView.of(view, definition.entities[view.entity])
        if view.source == (table.source_name, table.name):
            found.append(StreamView(view, online))
        elif view.model is not None:
            compiled = workspace.compile()
            model = compiled.models.get(view.model)
            if model is None:
                raise UsageError(f"model '{view.model}' of stream feature view '{view.name}' did not compile")
            tree = parse_model_sql(model.sql, compiled.target.dialect, model.path)
            fault = stream_model_fault(view, model, tree, definition)
            if fault is not None:  # never a stream view quietly left out
                raise CompilationError(fault, view.location)
            if model.sources == [(table.source_name, table.name)]:
                read, _ = row_wise_table(tree)
                assert isinstance(tree, exp.Select) and read is not None
                keep_meaning(tree, compiled.target.dialect, "duckdb", model.path)  # run by the stream's DuckDB
                found.append(StreamView(view, online, over(tree, read, BATCH_TABLE)))
    return found


def run_stream(workspace: Workspace, options: StreamOptions, reporter: StreamProgress) -> list[SourceProgress]:
    from featureduck.tasks.online import open_store

    definition = workspace.definition
    tables = stream_sources(definition, list(options.sources))
    if not tables:
        raise UsageError("the project has no stream sources",
                         hint="declare a source of `type: kafka` with a topic, or of `type: postgres` with `cdc: true`")
    if not workspace.target.traits.lands_streams:
        raise UsageError(f"a {workspace.target.type} target cannot land streams",
                         hint="stream into a duckdb or postgres target: each batch lands with its offsets in one transaction")
    plan = [(t, stream_views(workspace, t)) for t in tables]
    store = open_store(workspace) if any(views for _, views in plan) else None
    reporting = _Recording(reporter, workspace.config.target_dir)
    started = utc_now().replace(tzinfo=None)
    try:
        with workspace.session() as session, _stop_on_signals() as stopping:
            adapter = session.adapter
            done: list[SourceProgress] = []
            try:
                done = consume(adapter, store, plan, definition.config.dialect, f"featureduck.{definition.config.name}",
                               reporting, options.until_idle, workspace.config.root, options.reset, stopping.is_set)
            finally:
                record_run(adapter, [_run_row(p, started) for p in (done or reporting.last)])
            return done
    finally:
        if store is not None:
            store.close()


def _run_row(progress: SourceProgress, started: datetime.datetime) -> NodeRun:
    return NodeRun(
        unique_id=progress.source_id, name=progress.name, relation=progress.relation, materialized="stream",
        status="streamed", recorded_at=utc_now().replace(tzinfo=None), started_at=started, seconds=progress.seconds,
        rows_affected=progress.landed,
        stream={"dead_letters": progress.dead_letters, "deleted": progress.deleted, "batches": progress.batches,
                "online_rows": progress.online_rows,
                "positions": {str(k): v for k, v in progress.positions.items()}, "lag": {str(k): v for k, v in progress.lag.items()}},
    )


class _Recording:
    """Passes progress on, keeps the last, and writes it to target/streams.json."""

    def __init__(self, reporter: StreamProgress, target_dir: Path) -> None:
        self.reporter = reporter
        self.target_dir = target_dir
        self.last: list[SourceProgress] = []

    def stream_progress(self, sources: list[SourceProgress], final: bool) -> None:
        self.last = sources
        write_progress(self.target_dir, sources, final)
        self.reporter.stream_progress(sources, final)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM end the stream after the batch in hand commits."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
