"""The floor for `fduck run`: the same compiled statements executed directly.

Reads target/manifest.json written by `fduck compile`, then runs each model's
compiled SQL as `CREATE OR REPLACE TABLE|VIEW` with the duckdb module, one
connection, in DAG order: no rendering, no scheduling, no bookkeeping.

    python benchmarks/floor.py PROJECT_DIR DATABASE [--target dev]
"""

from __future__ import annotations

import argparse
import json
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb


def run_floor(project: Path, database: Path, target: str = "dev") -> float:
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    graph = {uid: [d for d in node["depends_on"]["nodes"] if d in nodes] for uid, node in nodes.items()}
    order = list(TopologicalSorter(graph).static_order())
    statements = []
    for uid in order:
        node = nodes[uid]
        kind = node["config"].get("materialized", "view")
        if kind == "ephemeral":
            continue
        compiled = node["compiled"][target]
        keyword = "VIEW" if kind == "view" else "TABLE"
        statements.append(f"CREATE OR REPLACE {keyword} {compiled['relation']} AS\n{compiled['sql']}")
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        for statement in statements:
            con.execute(statement)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("database", type=Path)
    parser.add_argument("--target", default="dev")
    args = parser.parse_args()
    print(f"floor: {run_floor(args.project, args.database, args.target):.2f}s")


if __name__ == "__main__":
    main()
