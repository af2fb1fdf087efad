"""Run caching: a second `fduck run` of an unchanged generated project against the first.

The project of N models (generate_project.py) gets a fresh DuckDB file with
the raw data; then, each timed as a whole command:

1. the first `fduck run` (empty state: everything builds, compile included);
2. `fduck run` again, nothing changed (median of REPEAT): every model cached;
3. after one staging model's SQL changes: only it and its descendants build;
4. `fduck run --no-cache`: everything builds again, for reference.

    python benchmarks/bench_run_cache.py --models 1000
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import FDUCK, WORK, fresh_copy, timed  # noqa: E402
from generate_project import generate  # noqa: E402


def statuses(project: Path) -> dict[str, int]:
    """How many models the last run built and how many it found cached (run_results.json)."""
    import json

    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = WORK / f"n{args.models}" / "generated"
    generate(base, args.models)
    project = fresh_copy(base, "cache", None)
    rows = []
    first = timed([*FDUCK, "run"], project)
    rows.append(("first run (empty state)", first.seconds, statuses(project)))
    unchanged = statistics.median(timed([*FDUCK, "run"], project).seconds for _ in range(args.repeat))
    rows.append(("second run, unchanged", unchanged, statuses(project)))
    staging = sorted((project / "models" / "staging").glob("*.sql"))[0]
    staging.write_text(re.sub(r"(?i)\bselect\b", "select 1 as cache_bench_marker,", staging.read_text(), count=1))
    changed = timed([*FDUCK, "run"], project)
    rows.append((f"after changing {staging.stem}", changed.seconds, statuses(project)))
    forced = timed([*FDUCK, "run", "--no-cache"], project)
    rows.append(("--no-cache", forced.seconds, statuses(project)))
    print(f"| {args.models} models | wall | built | cached | of the first run |\n| --- | --- | --- | --- | --- |")
    for label, seconds, counts in rows:
        print(f"| {label} | {seconds:.2f} s | {counts.get('success', 0)} | {counts.get('cached', 0)} | {seconds / first.seconds:.1%} |")


if __name__ == "__main__":
    main()
