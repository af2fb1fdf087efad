"""Long differential runs of the run cache: seeded random histories of project
changes (tests/integration/duckdb/cache_history.py) built with the cache and
with --no-cache, every relation compared after each step. Prints each stale
step and the totals; exits 1 when any relation differed.

    python benchmarks/cache_differential.py --steps 500 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.duckdb.cache_history import History  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    stale = 0
    with tempfile.TemporaryDirectory() as workdir:
        history = History(Path(workdir), args.seed)
        for _ in range(args.steps):
            step = history.step()
            if step.differences:
                stale += len(step.differences)
                print(f"step {step.number} ({', '.join(step.changes)}; {step.command}):", *step.differences, sep="\n  ")
        runs = sum(1 for s in history.steps if s.command.startswith("run"))
        cached = sum(s.cached for s in history.steps)
    print(f"seed {args.seed}: {args.steps} steps ({runs} runs, {cached} models served from the cache), "
          f"{stale} stale relations, {time.perf_counter() - started:.0f} s")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
