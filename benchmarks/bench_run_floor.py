"""A cold `fduck run` beside its floor and `dbt run`, side by side in one script.

For a generated dbt-style project of N models (generate_project.py: views and
tables, macros, refs, sources over a raw DuckDB database), each round times,
from a fresh copy of the same raw database each:

- fduck: `fduck run --no-cache --threads 1`, the whole process, with its
  compile cache, compiled SQL and manifest removed first (cold);
- the floor: `floor_statements.py`, a process that imports the duckdb module
  and executes dbt's compiled statements (`dbt compile`'s manifest) as
  `CREATE OR REPLACE VIEW|TABLE ... AS (...)` in DAG order: the work a run
  cannot skip, with nothing else;
- dbt: `dbt run --threads 1` (dbt-core 1.11.16 + dbt-duckdb, its own venv).

Figures are wall times of the whole process, the median over rounds.

    python3 -m venv benchmarks/work/dbt-venv
    benchmarks/work/dbt-venv/bin/pip install dbt-core==1.11.16 dbt-duckdb
    python benchmarks/bench_run_floor.py --models 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from graphlib import TopologicalSorter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import FDUCK, WORK, fresh_copy, timed  # noqa: E402
from generate_project import generate, load_raw_data  # noqa: E402

FLOOR = [sys.executable, str(Path(__file__).resolve().parent / "floor_statements.py")]


def dbt_statements(dbt: Path, project: Path) -> list[str]:
    """dbt's compiled SQL of every model, as the statements a run executes, in DAG order."""
    subprocess.run([str(dbt), "compile", "--project-dir", ".", "--profiles-dir", "."], cwd=project, check=True,
                   stdout=subprocess.DEVNULL)
    nodes = {uid: n for uid, n in json.loads((project / "target" / "manifest.json").read_text())["nodes"].items()
             if n["resource_type"] == "model"}
    graph = {uid: [d for d in node["depends_on"]["nodes"] if d in nodes] for uid, node in nodes.items()}
    statements = []
    for uid in TopologicalSorter(graph).static_order():
        node = nodes[uid]
        kind = node["config"]["materialized"]
        if kind == "ephemeral":
            continue  # dbt inlines it into its children's compiled SQL
        keyword = "VIEW" if kind == "view" else "TABLE"
        statements.append(f"CREATE OR REPLACE {keyword} {node['relation_name']} AS (\n{node['compiled_code']}\n)")
    return statements


def fresh_database(project: Path, raw: Path) -> None:
    """The pristine raw database in place of whatever the last round left."""
    target = project / "target"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    shutil.copy(raw, target / "bench.duckdb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dbt", type=Path, default=WORK / "dbt-venv" / "bin" / "dbt")
    args = parser.parse_args()
    base = WORK / f"floor{args.models}" / "generated"
    generate(base, args.models)
    raw = base.parent / "pristine" / "bench.duckdb"  # named as the projects' files: the catalog is "bench" in each
    shutil.rmtree(raw.parent, ignore_errors=True)
    raw.parent.mkdir(parents=True)
    load_raw_data(raw)
    fd = fresh_copy(base, "featureduck", None)
    floor = fresh_copy(base, "floor", None)
    dbt_dir = fresh_copy(base, "dbt", [str(args.dbt.parent / "python")])
    statements = base.parent / "statements.json"
    statements.write_text(json.dumps(dbt_statements(args.dbt, dbt_dir)))
    times: dict[str, list[float]] = {"fduck": [], "floor": [], "dbt": []}
    for round_ in range(args.rounds):
        fresh_database(fd, raw)
        times["fduck"].append(timed([*FDUCK, "run", "--no-cache", "--threads", "1"], fd).seconds)
        fresh_database(floor, raw)
        times["floor"].append(timed([*FLOOR, str(statements), str(floor / "target" / "bench.duckdb")], floor).seconds)
        # dbt's duckdb release writes its own file (it may not read ours)
        shutil.rmtree(dbt_dir / "target", ignore_errors=True)
        dbt_dir = fresh_copy(base, "dbt", [str(args.dbt.parent / "python")])
        times["dbt"].append(timed([str(args.dbt), "run", "--threads", "1", "--project-dir", ".", "--profiles-dir", "."],
                                  dbt_dir).seconds)
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    fduck, floor_s, dbt_s = (statistics.median(times[k]) for k in ("fduck", "floor", "dbt"))
    print(f"{args.models} models, medians of {args.rounds}: fduck {fduck:.2f} s, floor {floor_s:.2f} s, dbt {dbt_s:.2f} s")
    print(f"fduck / floor = {fduck / floor_s:.3f} (target <= 1.15); dbt / fduck = {dbt_s / fduck:.2f} (target >= 4)")


if __name__ == "__main__":
    main()
