"""`fduck export` of a relation far larger than the memory it may use.

A model of ROWS rows (id, user_id, amount, category, note, ts) is built in a
DuckDB file whose profile sets `memory_limit` to LIMIT; `fduck export` then
writes it to Parquet (zstd) and to gzipped CSV, each in a fresh process whose
peak RSS is read from the kernel (wait4). With `--pg-rows` the same model is
built on PostgreSQL and exported from there (it streams through DuckDB's
postgres extension). The relation's in-memory size is its Arrow size (a
million-row sample, scaled).

    python benchmarks/bench_export.py --rows 40000000 --limit 256MB --pg-rows 10000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

WORK = Path(__file__).resolve().parent / "work" / "export"
MODEL = """{{ config(materialized='table') }}
select i as id, i % 100000 as user_id, (i % 10000) / 100.0 as amount,
       ['a', 'b', 'c', 'd'][i % 4 + 1] as category, 'note ' || (i % 977) as note,
       timestamp '2024-01-01' + to_seconds(i) as ts
from range({{ var('rows') }}) as r(i)
"""


def prepare(rows: int, limit: str, pg_dsn: str | None) -> Path:
    project = WORK / f"p_{rows}"
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "featureduck_project.yml").write_text(f"name: export_bench\nprofile: bench\nvars:\n  rows: {rows}\n")
    (project / "models" / "events.sql").write_text(MODEL)
    profile = (f"bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/dev.duckdb\n"
               f"      settings:\n        memory_limit: {limit}\n")
    if pg_dsn:
        profile += f"    pg:\n      type: postgres\n      dsn: {pg_dsn}\n      schema: export_bench\n"
    (project / "profiles.yml").write_text(profile)
    return project


def fduck(project: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stdout of one `fduck` process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "featureduck.cli", *args, "--project-dir", str(project)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    if status != 0:
        raise SystemExit(f"fduck {' '.join(args)} failed:\n{out}\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def in_memory_size(project: Path, rows: int) -> float:
    """GB the relation takes as Arrow in memory: a million rows' buffers, scaled."""
    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        sample = con.execute("SELECT * FROM main.events LIMIT 1000000").to_arrow_table()
    return sample.nbytes * rows / sample.num_rows / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40_000_000)
    parser.add_argument("--limit", default="256MB")
    parser.add_argument("--pg-rows", type=int, default=0)
    parser.add_argument("--pg-dsn", default=os.environ.get("FDUCK_TEST_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    project = prepare(args.rows, args.limit, args.pg_dsn if args.pg_rows else None)
    out = project / "out"
    print("| engine | rows | relation in memory | memory_limit | file | wall | rows/s | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    fduck(project, "run")
    size = in_memory_size(project, args.rows)
    for name in ("events.parquet", "events.csv.gz"):
        wall, rss, _ = fduck(project, "export", "events", "--out", str(out / name))
        print(f"| duckdb | {args.rows:,} | {size:.2f} GB | {args.limit} | {name} ({(out / name).stat().st_size / 1e6:,.0f} MB) | "
              f"{wall:.1f} s | {args.rows / wall / 1e6:.2f}M | {rss:,.0f} MB |", flush=True)
    if args.pg_rows:
        fduck(project, "run", "--target", "pg", "--vars", f"rows: {args.pg_rows}")
        for name in ("pg_events.parquet", "pg_events.csv.gz"):
            wall, rss, _ = fduck(project, "export", "events", "--target", "pg", "--vars", f"rows: {args.pg_rows}", "--out", str(out / name))
            print(f"| postgres | {args.pg_rows:,} | (server) | - | {name} ({(out / name).stat().st_size / 1e6:,.0f} MB) | "
                  f"{wall:.1f} s | {args.pg_rows / wall / 1e6:.2f}M | {rss:,.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
