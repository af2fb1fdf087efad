"""The embedded store's writer lock under contention: how long a writer that waits
(a stream's batch, a `materialize`) waits while a server process writes pushes as
fast as it can, trying the lock on its event loop and, when the try fails, waiting
for its turn as its executor does (serving.app.PushQueue). Each write holds the
lock for HOLD_SECONDS of CPU, about a push group's write transaction.

    python benchmarks/bench_writer_turns.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from featureduck.online.writer_lock import WriterLock  # noqa: E402

WORK = Path(__file__).resolve().parent / "work" / "writer_turns"
HOLD_SECONDS = 0.002


def _write(lock: WriterLock, wait: bool) -> bool:
    with lock.held(wait=wait) as held:
        if held:
            started = time.perf_counter()
            while time.perf_counter() - started < HOLD_SECONDS:
                pass
    return held


def serve_pushes(seconds: float) -> None:
    """The server's side: a try on the loop, else a wait in turn, over and over."""
    lock = WriterLock(WORK)
    writes, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        if not _write(lock, wait=False):
            _write(lock, wait=True)
        writes += 1
    print(f"server: {writes} writes", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        serve_pushes(args.seconds + 1.0)
        return
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    server = subprocess.Popen([sys.executable, __file__, "--server", "--seconds", str(args.seconds)])
    time.sleep(0.5)  # the server writing already
    lock = WriterLock(WORK)
    waits: list[float] = []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        _write(lock, wait=True)
        waits.append(time.perf_counter() - started - HOLD_SECONDS)
        time.sleep(0.001)
    server.wait()
    waits.sort()
    print(f"waiting writer: {len(waits)} writes in {args.seconds:g} s; wait p50 {waits[len(waits) // 2] * 1000:.1f} ms, "
          f"p99 {waits[int(len(waits) * 0.99)] * 1000:.1f} ms, max {waits[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
