"""Framework overhead of `fduck run` per engine: run time minus the engine's own time.

For the repository's example project and a generated project of N models,
on DuckDB and PostgreSQL: `fduck run` (in process with `Project.run` on 1
and 4 threads, and as a CLI command) against the floor, the same compiled
statements executed directly in DAG order on one connection. Overhead per
model is (in-process run on 1 thread - floor) / models built: one thread, as
the floor has, so that parallelism does not hide the framework's cost. An
untimed run first loads what a process loads once (imports, the JVM). Every measurement starts from a
fresh database holding only the raw data (and, for the floor on Postgres,
the file sources fduck staged, which the floor's SQL reads). On a first
Postgres run the floor loads those files itself: with Postgres' COPY of the
CSV text, and again (a second row) with the rows DuckDB reads from them, the
reader fduck stages files with, so the second row's figure is fduck's own
overhead with DuckDB's start and CSV sniffing counted as engine time.

    python benchmarks/bench_engines.py --models 1000 --dsn postgresql://...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path
from statistics import median
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_project import RAW_ROWS, SOURCE_TABLES, generate, load_raw_data  # noqa: E402

from featureduck.api import Project  # noqa: E402

WORK = Path(__file__).resolve().parent / "work" / "engines"
REPO = Path(__file__).resolve().parent.parent
SCHEMA = "fd_bench"
TARGETS = {"duckdb": "dev", "postgres": "pg", "spark": "spark"}
SPARK_WAREHOUSE = WORK / "spark-warehouse"  # one JVM, one session, one warehouse for every project


def profiles(dsn: str) -> str:
    return (
        "default:\n  target: dev\n  outputs:\n"
        "    dev: {type: duckdb, path: target/bench.duckdb, threads: 4}\n"
        f"    pg: {{type: postgres, dsn: '{dsn}', schema: {SCHEMA}, threads: 4}}\n"
        f"    spark: {{type: spark, master: 'local[2]', warehouse: '{SPARK_WAREHOUSE}', schema: {SCHEMA}, threads: 4}}\n"
    )


def _spark(project: Path) -> Any:
    """The process's Spark session, started through the project's spark target if need be."""
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is None:
        with Project.load(project, target="spark").session():
            pass  # the session stays: Spark's is the process's
    return SparkSession.getActiveSession()


def reset(engine: str, project: Path, dsn: str, raw: bool, keep_staged: bool = False) -> None:
    """Drop what a run built; keep (or load) the raw data. With `keep_staged`,
    keep the staged file sources and the state store that records them, as a
    later run finds them: only the models are rebuilt."""
    if engine == "duckdb":
        for database in (project / "target").glob("bench.duckdb*"):
            database.unlink()
        if raw:
            load_raw_data(project / "target" / "bench.duckdb")
        return
    if engine == "spark":
        spark = _spark(project)
        for (schema,) in spark.sql("SHOW DATABASES").collect():
            if schema.startswith(SCHEMA) and not (keep_staged and schema != SCHEMA):
                spark.sql(f"DROP DATABASE `{schema}` CASCADE")
        if raw and not spark.catalog.databaseExists("raw"):
            spark.sql("CREATE DATABASE raw")
            for i in range(SOURCE_TABLES):
                spark.sql(
                    f"CREATE TABLE raw.events_{i} USING PARQUET AS SELECT CAST(abs(hash(id * {i + 2})) % 2000 AS INT) AS user_id, "
                    f"timestamp_ntz'2024-01-01 00:00:00' + make_dt_interval(0, 0, 0, id * 37) AS event_ts, "
                    f"CAST((abs(hash(id + {i})) % 20000) / 100.0 AS DOUBLE) AS amount, "
                    f"array('a', 'b', 'c', 'd')[CAST(id % 4 AS INT)] AS category FROM range({RAW_ROWS})"
                )
        return
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        schemas = con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [SCHEMA + "%"]).fetchall()
        for (schema,) in schemas:
            if not (keep_staged and schema != SCHEMA):
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if raw and not con.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'raw'").fetchall():
            con.execute("CREATE SCHEMA raw")
            for i in range(SOURCE_TABLES):
                con.execute(
                    f"CREATE TABLE raw.events_{i} AS SELECT (abs(hashint4(g * {i + 2})) % 2000)::int AS user_id, "
                    f"timestamp '2024-01-01' + g * interval '37 seconds' AS event_ts, "
                    f"((abs(hashint4(g + {i})) % 20000) / 100.0)::double precision AS amount, "
                    f"(array['a', 'b', 'c', 'd'])[1 + g % 4] AS category FROM generate_series(0, {RAW_ROWS - 1}) AS g"
                )


def floor(project: Path, engine: str, dsn: str, load_sources: bool = False, duckdb_reads: bool = False) -> float:
    """Seconds to execute the compiled statements in DAG order on one connection
    (on Postgres with `load_sources`, after loading the file sources by hand: with
    Postgres' own COPY of the CSV text, or with `duckdb_reads` the rows DuckDB's
    read_csv returns, as fduck stages them, COPYed row by row)."""
    target = TARGETS[engine]
    nodes = json.loads((project / "target" / "manifest.json").read_text())["nodes"]
    graph = {uid: [d for d in node["depends_on"]["nodes"] if d in nodes] for uid, node in nodes.items()}
    statements = [f"CREATE SCHEMA IF NOT EXISTS {'main' if engine == 'duckdb' else SCHEMA}"]
    for uid in TopologicalSorter(graph).static_order():
        node = nodes[uid]
        kind = node["config"].get("materialized", "view")
        if kind != "ephemeral":
            compiled = node["compiled"][target]
            keyword = {"view": "VIEW", "materialized_view": "MATERIALIZED VIEW"}.get(kind, "TABLE")
            if engine != "postgres" and kind == "materialized_view":
                keyword = "TABLE"
            using = " USING PARQUET" if engine == "spark" and keyword == "TABLE" else ""
            statements.append(f"CREATE {keyword} {compiled['relation']}{using} AS\n{compiled['sql']}")
    if engine == "spark":
        spark = _spark(project)
        started = time.perf_counter()
        for statement in statements:
            spark.sql(statement)
        return time.perf_counter() - started
    if engine == "duckdb":
        started = time.perf_counter()
        with duckdb.connect(str(project / "target" / "bench.duckdb")) as duck:
            for statement in statements:
                duck.execute(statement)
        return time.perf_counter() - started
    import psycopg

    loads = _hand_loads(project, dsn) if load_sources else []
    started = time.perf_counter()  # connecting counts, as it does for fduck and DuckDB
    with psycopg.connect(dsn, autocommit=True) as con:
        reader = duckdb.connect() if duckdb_reads and loads else None
        for relation, definition, path in loads:
            con.execute(f"CREATE TABLE {relation} ({definition})".encode())
            if reader is None:
                with con.cursor().copy(f"COPY {relation} FROM STDIN (FORMAT csv, HEADER true)".encode()) as stream:
                    stream.write(path.read_bytes())
                continue
            rows = reader.execute("SELECT * FROM read_csv(?)", [str(path)]).fetchall()
            with con.cursor().copy(f"COPY {relation} FROM STDIN".encode()) as stream:
                for row in rows:
                    stream.write_row(row)
        if reader is not None:
            reader.close()
        for statement in statements:
            con.execute(statement.encode())
    return time.perf_counter() - started


def _hand_loads(project: Path, dsn: str) -> list[tuple[str, str, Path]]:
    """The file sources loaded by hand: (relation, its columns as fduck staged them,
    CSV file), for a floor that loads what fduck stages. Drops the staged tables,
    which the floor then recreates."""
    import psycopg

    from featureduck.compiler.relations import file_location, staged_relation

    loads = []
    with psycopg.connect(dsn, autocommit=True) as con:
        for table in Project.load(project, target="pg").definition.sources.values():
            if table.format != "csv":
                continue
            relation = staged_relation(table, SCHEMA).sql("postgres")
            columns = con.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [relation],
            ).fetchall()
            con.execute(f"DROP TABLE {relation}".encode())
            definition = ", ".join(f'"{name}" {kind}' for name, kind in columns)
            loads.append((relation, definition, Path(file_location(table, project))))
    return loads


def measure(
    project: Path, engine: str, dsn: str, raw: bool, staged: bool = False, repeats: int = 1, duckdb_reads: bool = False
) -> tuple[int, float, float, float, float | None]:
    """(models, floor, run on 1 thread, run on 4 threads, CLI run on 4 threads), in
    seconds, the medians of `repeats` measurements.

    `staged`: every run finds the file sources staged by an earlier run, as
    runs after the first do while the files are unchanged. Otherwise each run
    starts from a database without them and stages them, and on Postgres the
    floor loads the CSV files with COPY first (or, with `duckdb_reads`, the rows
    DuckDB reads from them, as fduck does). No CLI figure for Spark: its embedded metastore admits one
    JVM at a time, and this process holds the session."""
    target = TARGETS[engine]
    reset(engine, project, dsn, raw)
    Project.load(project, target=target).run()  # warm-up: imports and caches, not timed
    runs: dict[int, list[float]] = {1: [], 4: []}
    floors = []
    for _ in range(repeats):
        for threads in (1, 4):
            reset(engine, project, dsn, raw, keep_staged=staged)
            started = time.perf_counter()
            results = Project.load(project, target=target).run(threads=threads)
            runs[threads].append(time.perf_counter() - started)
            assert not results.failed, [r.message for r in results.results if r.status == "error"]
        reset(engine, project, dsn, raw, keep_staged=True)
        floors.append(floor(project, engine, dsn, load_sources=engine == "postgres" and not staged, duckdb_reads=duckdb_reads))
    cli = None
    if engine != "spark":
        reset(engine, project, dsn, raw, keep_staged=staged)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "featureduck.cli", "run", "--target", target], cwd=project, check=True, capture_output=True)
        cli = time.perf_counter() - started
    return len(results.results), median(floors), median(runs[1]), median(runs[4]), cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--spark-models", type=int, default=100, help="size of the generated project on Spark (0: skip Spark)")
    parser.add_argument("--repeats", type=int, default=9, help="measurements of the example project (median reported)")
    parser.add_argument("--dsn", default=os.environ.get("FDUCK_BENCH_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    example = WORK / "example"
    shutil.rmtree(example, ignore_errors=True)
    example.mkdir(parents=True)
    for part in ("featureduck_project.yml", "models", "macros", "sources", "features", "data"):  # the project, not the package
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy)(REPO / part, example / part)
    (example / "profiles.yml").write_text(profiles(args.dsn))
    generated = WORK / f"generated_{args.models}"
    generate(generated, args.models)
    (generated / "profiles.yml").write_text(profiles(args.dsn))
    project_file = generated / "dbt_project.yml"
    project_file.write_text(project_file.read_text().replace("profile: bench", "profile: default"))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    header = f"{'project':<26} {'engine':<9} {'models':>6} {'floor':>8} {'run -t1':>8} {'run -t4':>8} {'cli -t4':>8}"
    print(header + f" {'overhead/model (t1)':>20}")
    small = WORK / f"generated_{args.spark_models}"
    if args.spark_models:
        generate(small, args.spark_models)
        (small / "profiles.yml").write_text(profiles(args.dsn))
        (small / "dbt_project.yml").write_text((small / "dbt_project.yml").read_text().replace("profile: bench", "profile: default"))
    # (name, project, raw data loaded, engine, sources staged, floor reads the files with DuckDB)
    runs = [("example", example, False, engine, False, False) for engine in TARGETS if engine != "spark" or args.spark_models]
    runs.append(("example, duckdb-read floor", example, False, "postgres", False, True))
    runs.append(("example, staged", example, False, "postgres", True, False))
    runs += [(f"generated {args.models}", generated, True, engine, False, False) for engine in ("duckdb", "postgres")]
    if args.spark_models:
        runs.append((f"generated {args.spark_models}", small, True, "spark", False, False))
    for name, project, raw, engine, staged, duckdb_reads in runs:
        # a small project's figures are a few milliseconds each: the median of several runs
        repeats = args.repeats if project == example else 1
        models, floor_s, one, four, cli_s = measure(project, engine, args.dsn, raw, staged, repeats, duckdb_reads)
        per_model = (one - floor_s) / models * 1000
        cli_text = f"{cli_s:>7.2f}s" if cli_s is not None else f"{'-':>8}"
        print(f"{name:<26} {engine:<9} {models:>6} {floor_s:>7.2f}s {one:>7.2f}s {four:>7.2f}s {cli_text} {per_model:>17.2f} ms")


if __name__ == "__main__":
    main()
