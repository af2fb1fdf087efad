"""Reading a Postgres table into a DuckDB model: fduck's source (ATTACH) against the plain way.

A table of ROWS rows (id, user_id, amount, category, updated_at) in Postgres,
read whole into a DuckDB table:

- fduck: `Project.run` of a table model `select * from {{ source('app', 'events') }}`
  (the source ATTACHed read-only; DuckDB's postgres scanner), timed in process;
- postgres_scan: the same CREATE TABLE AS over `postgres_scan(dsn, schema, table)`,
  on a bare DuckDB connection (the alternative to ATTACH the issue names);
- COPY: psycopg streams `COPY (SELECT ...) TO STDOUT (FORMAT csv)` into a file that
  DuckDB then loads with read_csv (the plain way without the scanner);
- incremental: an incremental model over the source (`incremental: true`)
  after 10,000 new rows arrive: the watermark filter runs in Postgres.

    python benchmarks/bench_sources.py --rows 10000000 --dsn postgresql://...
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
import psycopg

from featureduck.api import Project
from featureduck.engines.extensions import load_extension

WORK = Path(__file__).resolve().parent / "work" / "sources"
SCHEMA = "fd_bench_src"
SOURCES = """
sources:
  - name: app
    type: postgres
    connection: "{dsn}"
    schema: {schema}
    tables:
      - name: events
        timestamp_field: updated_at
        incremental: true
"""
FULL = "{{ config(materialized='table') }}\nselect * from {{ source('app', 'events') }}\n"
INCREMENTAL = "{{ config(materialized='incremental') }}\nselect * from {{ source('app', 'events') }}\n"


def prepare_source(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as con:
        found = con.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{SCHEMA}.events"]).fetchone()
        if found and found[0] and con.execute(f"SELECT count(*) FROM {SCHEMA}.events").fetchone() == (rows,):
            return
        con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        con.execute(
            f"CREATE TABLE {SCHEMA}.events AS SELECT g::bigint AS id, (g % 100000)::int AS user_id, "
            "(g % 10000) / 100.0::double precision AS amount, (ARRAY['a', 'b', 'c', 'd'])[1 + g % 4] AS category, "
            f"timestamp '2024-01-01' + g * interval '1 second' AS updated_at FROM generate_series(1, {rows}) AS g"
        )
        con.execute(f"CREATE INDEX ON {SCHEMA}.events (updated_at)")
        con.execute(f"VACUUM ANALYZE {SCHEMA}.events")


def project(dsn: str, name: str, model: str) -> Path:
    root = WORK / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "models").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "featureduck_project.yml").write_text(f"name: {name}\n")
    (root / "sources" / "app.yml").write_text(SOURCES.format(dsn=dsn, schema=SCHEMA))
    (root / "models" / "events_copy.sql").write_text(model)
    return root


def timed_run(root: Path, **options: object) -> float:
    started = time.perf_counter()
    results = Project.load(root).run(threads=1, **options)  # type: ignore[arg-type]
    assert not results.failed, [r.message for r in results.results]
    return time.perf_counter() - started


def postgres_scan(dsn: str) -> float:
    with tempfile.TemporaryDirectory() as folder, duckdb.connect(str(Path(folder) / "scan.duckdb")) as con:
        load_extension(con, "postgres")
        started = time.perf_counter()
        con.execute(f"CREATE TABLE events_copy AS SELECT * FROM postgres_scan('{dsn}', '{SCHEMA}', 'events')")
        return time.perf_counter() - started


def copy_to_stdout(dsn: str) -> float:
    with tempfile.TemporaryDirectory() as folder, duckdb.connect(str(Path(folder) / "copy.duckdb")) as con:
        csv = Path(folder) / "events.csv"
        started = time.perf_counter()
        with psycopg.connect(dsn) as source, source.cursor() as cursor, csv.open("wb") as out:
            with cursor.copy(f"COPY (SELECT * FROM {SCHEMA}.events) TO STDOUT (FORMAT csv, HEADER true)") as stream:
                for chunk in stream:
                    out.write(chunk)
        con.execute(f"CREATE TABLE events_copy AS SELECT * FROM read_csv('{csv}')")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dsn", default=os.environ.get("FDUCK_BENCH_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    print(f"{args.rows:,} rows; python {sys.version.split()[0]}, duckdb {duckdb.__version__}, {os.cpu_count()} cores")
    prepare_source(args.dsn, args.rows)

    full = project(args.dsn, "full", FULL)
    timed_run(full)  # warm-up: imports, the extension, Postgres's cache
    fduck: list[float] = []
    scan: list[float] = []
    copy: list[float] = []
    for _ in range(args.repeats):  # interleaved: this machine's speed drifts over minutes
        fduck.append(timed_run(full))
        scan.append(postgres_scan(args.dsn))
        copy.append(copy_to_stdout(args.dsn))
    for label, runs in (("fduck run (source ATTACHed)", fduck), ("postgres_scan() call", scan),
                        ("psycopg COPY TO STDOUT + read_csv", copy)):
        best = min(runs)
        print(f"{label:<36} best {best:6.2f} s of {[round(r, 2) for r in runs]}  {args.rows / best:>12,.0f} rows/s")

    incremental = project(args.dsn, "incremental", INCREMENTAL)
    first = timed_run(incremental)
    with psycopg.connect(args.dsn, autocommit=True) as con:
        con.execute(
            f"INSERT INTO {SCHEMA}.events SELECT g, g % 100000, 1.0, 'e', timestamp '2024-01-01' + g * interval '1 second' "
            f"FROM generate_series({args.rows + 1}, {args.rows + 10_000}) AS g"
        )
    try:
        later = timed_run(incremental)
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as con:
            con.execute(f"DELETE FROM {SCHEMA}.events WHERE id > {args.rows}")
    with duckdb.connect(str(incremental / "target" / "dev.duckdb"), read_only=True) as con:
        count = con.execute("SELECT count(*) FROM main.events_copy").fetchone()
    print(f"incremental model: first run {first:.2f} s; 10,000 new rows past the watermark {later:.2f} s (table holds {count[0]:,} rows)")


if __name__ == "__main__":
    main()
