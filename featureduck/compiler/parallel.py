"""Compile independent models on every core, in forked worker processes.

Parsing and generating SQL is CPU-bound Python holding the GIL, so threads
would not help; forked workers inherit the rendered project without pickling
it and send back only the compiled models. Used when the platform forks, the
machine has several cores, the process has no other threads (forking a
threaded process is unsafe) and there are enough models to repay the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from featureduck.errors import FeatureDuckError

Result = TypeVar("Result")
MIN_MODELS_PER_WORKER = 150

# The job of the current fan-out; forked workers see it without pickling.
_job: Callable[[str], object] | None = None


def run_each(job: Callable[[str], Result], names: list[str]) -> Iterator[tuple[str, Result | FeatureDuckError]]:
    """(name, job(name) or the FeatureDuckError it raised), for every name."""
    workers = _worker_count(len(names))
    if workers < 2:
        yield from _run_chunk_with(job, names)
        return
    global _job
    _job = job
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for chunk in pool.map(_run_chunk, [names[i::workers] for i in range(workers)]):
                yield from chunk  # type: ignore[misc]
    finally:
        _job = None


def _worker_count(jobs: int) -> int:
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    return max(1, min(os.cpu_count() or 1, jobs // MIN_MODELS_PER_WORKER))


def _run_chunk(names: list[str]) -> list[tuple[str, object]]:
    assert _job is not None
    return list(_run_chunk_with(_job, names))


def _run_chunk_with(job: Callable[[str], Result], names: list[str]) -> Iterator[tuple[str, Result | FeatureDuckError]]:
    for name in names:
        try:
            yield name, job(name)
        except FeatureDuckError as err:
            yield name, err
