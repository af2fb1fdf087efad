"""Where a push's time goes, without HTTP: the push handler `fduck serve` runs
(`Handlers.push`: decode and validate, the group's newest rows, the store's write)
called in-process on one event loop with 16 pushes at a time, as wrk's 16
connections give one worker, on the same project and bodies as bench_streams'
push measure (100 rows of random users among 100,000, each stamped later than the
pushes before it). It prints the pushes per second, then the same under cProfile
with the functions that took the most time: what bounds one worker's rate before
any HTTP is parsed.

    python benchmarks/bench_push_handler.py [--pushes 5000] [--sync] [--no-writemap]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import io
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_streams import WORK, project_at, store_settings  # noqa: E402

from featureduck.api import Project  # noqa: E402
from featureduck.online.hot_keys import HotKeys  # noqa: E402
from featureduck.online.lookup import OnlineIndex  # noqa: E402
from featureduck.serving.app import Handlers  # noqa: E402
from featureduck.serving.config import ServeConfig  # noqa: E402
from featureduck.streams.push import Pusher  # noqa: E402

WARM_UP = 1000  # pushes before the timed ones: the store's first pages and the users' first rows


def bodies(count: int, seed: int = 7) -> list[bytes]:
    """Push bodies as bench_streams' wrk script writes them, each stamped a microsecond later."""
    rng = random.Random(seed)
    start = datetime.datetime(2026, 1, 1)
    made = []
    for index in range(count):
        stamp = (start + datetime.timedelta(microseconds=index)).isoformat(timespec="microseconds")
        rows = ",".join(f'{{"user_id":{rng.randrange(100_000)},"event_ts":"{stamp}","amount":{rng.randrange(4000) / 4:.2f},'
                        f'"clicks":{rng.randrange(9)}}}' for _ in range(100))
        made.append(f'{{"rows":[{rows}]}}'.encode())
    return made


async def push_all(handlers: Handlers, pushes: list[bytes], connections: int = 16) -> float:
    """Pushes per second, `connections` in flight at a time."""
    gate = asyncio.Semaphore(connections)

    async def one(body: bytes) -> None:
        async with gate:
            await handlers.push("clicks", body)

    started = time.perf_counter()
    await asyncio.gather(*(one(body) for body in pushes))
    return len(pushes) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=5000)
    parser.add_argument("--sync", action="store_true", help="the store flushed per commit (default: sync: false)")
    parser.add_argument("--no-writemap", action="store_true")
    args = parser.parse_args()
    root = project_at(WORK / "push_handler", "127.0.0.1:1", "bench.push", stream=True,
                      store=store_settings(args.sync, not args.no_writemap))
    project = Project.load(root)
    store = project.online_store()
    handlers = Handlers(project.definition, OnlineIndex(project.definition, store), ServeConfig.from_project(project.config),
                        HotKeys(store, 0), Pusher(project.definition, store, None))
    made = bodies(WARM_UP + 2 * args.pushes)
    warm, timed, profiled = made[:WARM_UP], made[WARM_UP:WARM_UP + args.pushes], made[WARM_UP + args.pushes:]
    asyncio.run(push_all(handlers, warm))
    rate = asyncio.run(push_all(handlers, timed))
    print(f"pushes/s, the handler alone: {rate:,.0f}")
    profile = cProfile.Profile()
    profile.enable()
    profiled_rate = asyncio.run(push_all(handlers, profiled))
    profile.disable()
    report = io.StringIO()
    pstats.Stats(profile, stream=report).sort_stats("tottime").print_stats(12)
    print(f"under cProfile: {profiled_rate:,.0f} pushes/s; the functions that took the most time:")
    print(report.getvalue())
    store.close()


if __name__ == "__main__":
    main()
