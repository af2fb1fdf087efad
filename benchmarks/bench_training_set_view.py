"""A training set from a view-backed feature view, beside the hand-written ASOF floor,
in one run.

The feature view's model is a *view* over a Parquet file (ENTITIES x 100 feature
rows, 5 features, ttl 7 days; 10 million rows at the default), so the training
set reads the file live and may skip the tie ranking only where the tie check
holds for the rows there now (store.ties). 1 million entity rows come from a
Parquet file and the training set is written to Parquet. The floor is one
DuckDB process: the same entity file read into a table, a hand-written
`ASOF LEFT JOIN` over the same view, `COPY ... TO` Parquet (in the join's
own order; a training set keeps the entity rows' order, so the same join
sorted back into it is printed beside, for scale). Each side is a
process of its own, timed whole from the command's start (imports included)
to its exit, alternately, the median of --repeats; the answers are compared
(rows, rows with features, the sum of an integer feature).

    python benchmarks/bench_training_set_view.py --entities 100000 --rows 1000000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_training_set as base  # noqa: E402

FLOOR = """
import sys, duckdb
project, ordered = sys.argv[1], sys.argv[3] == "ordered"
with duckdb.connect(project + "/target/bench.duckdb") as con:
    numbered = ", row_number() over () as entity_row" if ordered else ""
    con.execute(f"create temp table entities as select *{numbered} from read_parquet('{project}/data/entities.parquet')")
    query = f"select * exclude (entity_row) from ({sys.argv[2]}) order by entity_row" if ordered else sys.argv[2]
    con.execute(f"copy ({query}) to '{project}/floor.parquet' (format parquet)")
"""
FDUCK = ["-m", "featureduck.cli", "training-set", "--entities", "data/entities.parquet",
         "--features", ",".join(f"activity:f{i}" for i in range(1, 6)), "--out", "fduck.parquet"]


def figures(path: Path) -> tuple[int, int, int]:
    import duckdb

    with duckdb.connect() as con:
        row = con.execute(f"select count(*), count(f1), sum(f4) from read_parquet('{path}')").fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2] or 0)


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base.MODEL = "{{ config(materialized='view') }} select * from {{ source('raw', 'activity') }}"
    base.WORK = base.WORK.parent / "training_set_view"
    project = base.generate(args.entities, args.rows)
    # the view's tie check is made against the file as it is now
    subprocess.run([sys.executable, "-m", "featureduck.cli", "run"], cwd=project, check=True, stdout=subprocess.DEVNULL)
    floor_sql = base.FLOOR_SQL  # over main.activity, the view fduck built
    times: dict[str, list[float]] = {"fduck": [], "floor": [], "ordered": []}
    for _ in range(args.repeats):
        times["fduck"].append(timed([sys.executable, *FDUCK], project))
        times["ordered"].append(timed([sys.executable, "-c", FLOOR, str(project), floor_sql, "ordered"], project))
        times["floor"].append(timed([sys.executable, "-c", FLOOR, str(project), floor_sql, "as is"], project))
    fduck, floor, ordered = (statistics.median(times[k]) for k in ("fduck", "floor", "ordered"))
    same = figures(project / "fduck.parquet") == figures(project / "floor.parquet")
    print(f"view-backed feature view, {args.entities * 100:,} feature rows x {args.rows:,} entity rows, Parquet out; "
          f"medians of {args.repeats}:")
    print(f"  fduck training-set {fduck:.2f} s, floor (ASOF LEFT JOIN, COPY to Parquet) {floor:.2f} s: "
          f"{fduck / floor:.2f}x (target <= 1.2x)")
    print(f"  for scale, not the floor: the same ASOF LEFT JOIN keeping the entity rows' order (as a training set does) "
          f"{ordered:.2f} s; fduck is {fduck / ordered:.2f}x that")
    print(f"  answers (rows, rows with features, sum f4): fduck {figures(project / 'fduck.parquet')}, "
          f"floor {figures(project / 'floor.parquet')}: {'same' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
