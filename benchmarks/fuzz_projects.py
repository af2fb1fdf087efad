"""Long runs of the fuzzed-projects check (tests/e2e/project_fuzz.py): the starter
and example projects with one file damaged at random, `fduck compile` and
`fduck run` on each; counts tracebacks and errors that do not name their file.
Exits 1 when there is any.

    python benchmarks/fuzz_projects.py --projects 300 --seed 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.project_fuzz import fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    tracebacks = unnamed = failing = 0
    with tempfile.TemporaryDirectory() as workdir:
        for number in range(args.projects):
            outcome = fuzz(Path(workdir), number, args.seed)
            failing += any(code != 0 for _, code, _ in outcome.results)
            for problem in outcome.problems:
                print(f"project {number} ({outcome.damage}): {problem}")
                tracebacks += "traceback" in problem
                unnamed += "without its file" in problem
    print(f"seed {args.seed}: {args.projects} fuzzed projects ({failing} with an error), {tracebacks} tracebacks, "
          f"{unnamed} errors without their file, {time.perf_counter() - started:.0f} s")
    return 1 if tracebacks or unnamed else 0


if __name__ == "__main__":
    sys.exit(main())
