"""`fduck materialize`: the latest feature values of online views into the online store.

Per view, the offline engine computes the newest row of each entity among
the rows stamped after the view's watermark (the newest feature timestamp
already materialized), with the training sets' tie rule; the store upserts
them in one transaction and moves the watermark. `--full` recomputes from
all rows and replaces the view's contents. A row that arrives late, stamped
before the watermark, reaches the store on the next `--full`.

As Feast's: `--end-time` loads only rows stamped up to it (`materialize-incremental
END`), and `--start-time S --end-time E` the newest row per entity stamped in [S, E]
(`materialize S E`), upserted. The store never lets an older row replace a newer one,
so a window in the past cannot regress what is online.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject
from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.online.base import FEATURE_TS, OnlineStore, OnlineView
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView
from featureduck.utils.suggest import did_you_mean


@dataclass(frozen=True)
class Window:
    """Which feature timestamps a materialization reads (UTC, ISO text): from `start`
    (inclusive; None: after the view's watermark, or every row when full) to `end`
    (inclusive; None: no bound)."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Materialized:
    view: str  # name@version
    rows: int
    seconds: float
    full: bool
    watermark_before: str | None  # rows stamped after it were read (unless a window's start says otherwise)
    watermark: str | None
    window: Window = Window()


class ViewProgress(Protocol):
    """Materializing's part of the tasks' reporter (featureduck.tasks.reporting)."""

    def view_materialized(self, done: Materialized) -> None: ...


def online_views(definition: ProjectDefinition, names: list[str] | None) -> list[FeatureView]:
    """The views marked `online: true`, all or those named (`view` for every version, or `view@2`)."""
    online = [v for v in definition.feature_views.values() if v.online]
    if not names:
        return online
    chosen = []
    for name in names:
        found = [v for v in online if name in (v.name, v.key)]
        if not found:
            known = sorted({v.name for v in online})
            raise UsageError(f"no online feature view '{name}'", hint=did_you_mean(name.split("@")[0], known) or
                             ("online views: " + ", ".join(known) if known else "mark a feature view `online: true`"))
        chosen += [v for v in found if v not in chosen]
    return chosen


def latest_rows(view: FeatureView, keys: list[str], relation: exp.Table, watermark: str | None, window: Window = Window()) -> exp.Select:
    """The newest row per entity (ties: the greatest features, NULL lowest), stamped after
    `watermark` (or from the window's start) and up to the window's end."""
    stamped = exp.cast(exp.column(view.timestamp_field, quoted=True), "TIMESTAMP")
    features = [exp.column(f.name, quoted=True) for f in view.features]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column(k, quoted=True) for k in keys],
        order=exp.Order(expressions=[
            exp.Ordered(this=stamped.copy(), desc=True),
            *[exp.Ordered(this=f.copy(), desc=True, nulls_first=False) for f in features],
        ]),
    )
    conditions: list[exp.Expr] = [exp.column(k, quoted=True).is_(exp.null()).not_() for k in keys]
    if window.start is not None:
        conditions.append(exp.GTE(this=stamped.copy(), expression=exp.cast(exp.Literal.string(window.start), "TIMESTAMP")))
    elif watermark is not None:
        conditions.append(exp.GT(this=stamped.copy(), expression=exp.cast(exp.Literal.string(watermark), "TIMESTAMP")))
    if window.end is not None:
        conditions.append(exp.LTE(this=stamped.copy(), expression=exp.cast(exp.Literal.string(window.end), "TIMESTAMP")))
    ranked = exp.select(
        *[exp.column(k, quoted=True) for k in keys], exp.alias_(stamped, FEATURE_TS), *features, exp.alias_(rank, "__fd_rank"),
    ).from_(relation.copy()).where(exp.and_(*conditions))
    names = [*keys, FEATURE_TS, *(f.name for f in view.features)]
    return exp.select(*[exp.column(n, quoted=True) for n in names]).from_(ranked.subquery("ranked")).where(
        exp.column("__fd_rank").eq(1)
    )


def materialize(
    adapter: EngineAdapter,
    store: OnlineStore,
    definition: ProjectDefinition,
    compiled: CompiledProject,
    views: list[FeatureView],
    full: bool,
    reporter: ViewProgress,
    window: Window = Window(),
) -> list[Materialized]:
    if full and window.start is not None:
        raise UsageError("--full replaces a view with all its rows: it takes an --end-time, not a --start-time")
    if window.start is not None and window.end is not None and window.start > window.end:
        raise UsageError(f"--start-time {window.start} is after --end-time {window.end}")
    done = []
    for view in views:
        relation = compiled.view_relation(view, definition.sources)
        if relation is None:
            raise UsageError(f"model '{view.model}' of feature view '{view.name}' did not compile")
        started = time.perf_counter()
        online = OnlineView.of(view, definition.entities[view.entity])
        state = None if full else store.state(online)
        query = latest_rows(view, list(online.join_keys), relation, state.watermark if state else None, window)
        encoded = store.encoding(online, query) if adapter.local() is not None else None  # DuckDB SQL, run by DuckDB
        if encoded is not None:  # the engine encodes the rows as the store keeps them, in the same pass
            query = encoded
        local = adapter.local()
        with adapter.in_time_zone("UTC"), local.progress_bar(True) if local else nullcontext():  # UTC, as in training sets
            rows = adapter.fetch(query, "arrow")
        written = store.write(online, rows, full=state is None)
        after = store.state(online)
        result = Materialized(
            view.key, written, time.perf_counter() - started, state is None,
            state.watermark if state else None, after.watermark if after else None, window,
        )
        done.append(result)
        reporter.view_materialized(result)
    return done
