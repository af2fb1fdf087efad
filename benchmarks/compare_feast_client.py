"""Feast's own client reading from `fduck serve`: do its answers match featureduck's?

A Feast repository holding the same entity and feature view as bench_online.py's
project is given Feast's remote online store (`online_store: {type: remote,
path: URL}`), pointed at `fduck serve`; `FeatureStore.get_online_features` then
reads through featureduck's `POST /get-online-features`, in Feast's request and
response shape. Its answers for random keys (some unknown) are compared value by
value with featureduck's own in-process lookups. Needs Feast's venv (see
benchmarks/README.md).

    python benchmarks/compare_feast_client.py [--entities N] [--keys N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_online import FEAST_PYTHON, free_port, prepare, wait_for  # noqa: E402

from featureduck.api import Project  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=500, help="keys looked up; one in ten is not an entity")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    project = prepare(args.entities)
    subprocess.run([sys.executable, "-m", "featureduck.cli", "materialize", "--full", "--project-dir", str(project)],
                   check=True, capture_output=True)
    rng = random.Random(args.seed)
    keys = [rng.randrange(args.entities) if rng.random() > 0.1 else args.entities + rng.randrange(1000) for _ in range(args.keys)]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "serve", "--project-dir", str(project), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        read = subprocess.run([str(FEAST_PYTHON), str(HERE / "feast_online.py"), "remote", "--data", str(project / "data"),
                               "--url", f"http://127.0.0.1:{port}", "--keys", ",".join(map(str, keys))],
                              check=True, capture_output=True, text=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    feast = json.loads(read.stdout.strip().splitlines()[-1])
    ours = Project.load(project).get_online_features("activity", [{"user_id": key} for key in keys])
    differences = []
    for row, (key, mine) in enumerate(zip(keys, ours, strict=True)):
        if feast["user_id"][row] != key:
            differences.append(f"row {row}: Feast's user_id {feast['user_id'][row]}, asked {key}")
        for i in range(1, 6):
            theirs = feast[f"f{i}"][row]
            expected = mine["features"][f"f{i}"] if mine["features"] else None
            same = theirs == expected or (isinstance(theirs, float) and expected is not None and abs(theirs - expected) < 1e-12)
            if not same:
                differences.append(f"user {key} f{i}: Feast's client {theirs!r}, featureduck {expected!r}")
    found = sum(1 for mine in ours if mine["features"])
    values = sum(1 for i in range(1, 6) for value in feast[f"f{i}"] if value is not None)
    print(f"{len(keys)} keys ({found} entities, {len(keys) - found} unknown) x 5 features through Feast's remote online store, "
          f"{values} values read: " + ("identical" if not differences else f"{len(differences)} DIFFERENT"))
    for line in differences[:20]:
        print("  " + line)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
