"""Run history from the state store: recent runs, and the slowest models of the last
one against their own past (a regression is 1.5x the model's median and 0.5 s more)."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from featureduck.runner.state import Timing


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    started_at: datetime.datetime
    built: int
    cached: int
    errors: int
    seconds: float  # the models' summed time (threads overlap them)


@dataclass(frozen=True)
class SlowModel:
    name: str
    materialized: str
    seconds: float
    median: float | None  # over the model's earlier runs in the history
    runs: int  # how many earlier runs that median is of

    @property
    def regressed(self) -> bool:
        return regressed(self.seconds, self.median)


def regressed(seconds: float, median: float | None) -> bool:
    """Slower than usual: 1.5x the model's median and half a second more."""
    return median is not None and seconds > 1.5 * median and seconds - median > 0.5


def summarize(timings: list[Timing]) -> list[RunSummary]:
    """Newest run first."""
    by_run: dict[str, list[Timing]] = {}
    for timing in timings:
        by_run.setdefault(timing.run_id, []).append(timing)
    summaries = [
        RunSummary(run_id, min(t.started_at for t in rows), sum(t.status == "success" for t in rows),
                   sum(t.status == "cached" for t in rows), sum(t.status == "error" for t in rows),
                   sum(t.seconds for t in rows if t.status != "cached"))
        for run_id, rows in by_run.items()
    ]
    return sorted(summaries, key=lambda s: s.started_at, reverse=True)


def slowest(timings: list[Timing], count: int) -> list[SlowModel]:
    """The `count` slowest models built by the newest run that built any."""
    runs = [s.run_id for s in summarize(timings) if s.built]
    if not runs:
        return []
    latest = [t for t in timings if t.run_id == runs[0] and t.status == "success"]
    found = []
    for timing in sorted(latest, key=lambda t: -t.seconds)[:count]:
        earlier = [t.seconds for t in timings if t.unique_id == timing.unique_id and t.run_id != runs[0] and t.status == "success"]
        found.append(SlowModel(timing.name, timing.materialized, timing.seconds,
                               statistics.median(earlier) if earlier else None, len(earlier)))
    return found
