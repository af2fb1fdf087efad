"""`fduck seed` of a large CSV against DuckDB's read_csv into a table (the floor).

A CSV of ROWS rows (id, user_id, amount, category, ts) in a project's seeds/;
`fduck seed` (in process, `Project.seed`) against a bare DuckDB connection
running `CREATE TABLE ... AS SELECT * FROM read_csv(...)` into a fresh file.
The two are interleaved, REPEATS times each; the best of each is reported.

    python benchmarks/bench_seed.py --rows 5000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from featureduck.api import Project

WORK = Path(__file__).resolve().parent / "work" / "seed"


def prepare(rows: int) -> Path:
    project = WORK / f"p_{rows}"
    csv = project / "seeds" / "events.csv"
    if csv.exists():
        return project
    shutil.rmtree(project, ignore_errors=True)
    csv.parent.mkdir(parents=True)
    (project / "featureduck_project.yml").write_text("name: seed_bench\n")
    duckdb.sql(
        f"COPY (SELECT range AS id, range % 100000 AS user_id, (range % 10000) / 100.0 AS amount, "
        f"['a', 'b', 'c', 'd'][range % 4 + 1] AS category, TIMESTAMP '2024-01-01' + to_seconds(range) AS ts "
        f"FROM range({rows})) TO '{csv}' (HEADER true)"
    )
    return project


def fduck_seed(project: Path) -> float:
    for database in (project / "target").glob("dev.duckdb*"):
        database.unlink()
    started = time.perf_counter()
    results = Project.load(project).seed()
    assert results and results[0].status == "success", results
    return time.perf_counter() - started


def floor(csv: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with duckdb.connect(str(Path(folder) / "floor.duckdb")) as con:
            con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{csv}', header = true)")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    project = prepare(args.rows)
    csv = project / "seeds" / "events.csv"
    print(f"{args.rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB CSV; python {sys.version.split()[0]}, "
          f"duckdb {duckdb.__version__}, {os.cpu_count()} cores")
    fduck_seed(project)  # warm-up: imports, the file in the page cache
    seeds, floors = [], []
    for _ in range(args.repeats):
        seeds.append(fduck_seed(project))
        floors.append(floor(csv))
    best_seed, best_floor = min(seeds), min(floors)
    print(f"fduck seed        best {best_seed:.2f} s of {[round(t, 2) for t in seeds]}  {args.rows / best_seed:,.0f} rows/s")
    print(f"read_csv (floor)  best {best_floor:.2f} s of {[round(t, 2) for t in floors]}  {args.rows / best_floor:,.0f} rows/s")
    print(f"fduck / floor: {best_seed / best_floor:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
