"""Point-in-time training set: fduck against a hand-written DuckDB ASOF JOIN (the floor) and Feast.

Data: a feature view of ENTITIES entities over 90 days (about 10 million rows,
5 features, ttl 7 days) built as a DuckDB table, and 1 million entity rows
(Arrow in, Arrow out). Each side runs in its own process so its peak memory
is its own; fduck and the floor read the same table and the same entity
Parquet file. Feast 0.67 (`feast_historical.py`, in its own virtual
environment at benchmarks/work/feast-venv) reads the same Parquet files with
its DuckDB offline store and, with --feast-file, its default file (dask)
store. Rows are compared, not only time: how many come back, how
many carry features and the sum of an integer feature.

    python benchmarks/bench_training_set.py --entities 100000 --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / "work" / "training_set"
FEAST_PYTHON = Path(__file__).resolve().parent / "work" / "feast-venv" / "bin" / "python"

PROJECT_FILE = "name: pit_bench\n"
PROFILES = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/bench.duckdb, threads: 2}\n"
FEATURES_YML = """
entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - name: activity
    entity: user
    model: activity
    timestamp_field: feature_ts
    ttl: 7d
    features: [{name: f1}, {name: f2}, {name: f3}, {name: f4}, {name: f5}]
"""
MODEL = "{{ config(materialized='table') }} select * from {{ source('raw', 'activity') }}"
SOURCES = "sources:\n  - name: raw\n    tables:\n      - {name: activity, path: data/activity.parquet}\n"

FLOOR_SQL = """
select e.*,
  case when f.feature_ts >= e.event_timestamp - interval 7 day then f.f1 end as f1,
  case when f.feature_ts >= e.event_timestamp - interval 7 day then f.f2 end as f2,
  case when f.feature_ts >= e.event_timestamp - interval 7 day then f.f3 end as f3,
  case when f.feature_ts >= e.event_timestamp - interval 7 day then f.f4 end as f4,
  case when f.feature_ts >= e.event_timestamp - interval 7 day then f.f5 end as f5
from entities as e
asof left join main.activity as f on e.user_id = f.user_id and e.event_timestamp >= f.feature_ts
"""


def generate(entities: int, rows: int) -> Path:
    import duckdb

    project = WORK / f"p_{entities}_{rows}"
    if (project / "data" / "entities.parquet").exists():
        return project
    shutil.rmtree(project, ignore_errors=True)
    (project / "data").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "features").mkdir()
    (project / "sources").mkdir()
    (project / "featureduck_project.yml").write_text(PROJECT_FILE)
    (project / "profiles.yml").write_text(PROFILES)
    (project / "features" / "f.yml").write_text(FEATURES_YML)
    (project / "models" / "activity.sql").write_text(MODEL)
    (project / "sources" / "raw.yml").write_text(SOURCES)
    with duckdb.connect() as con:
        # about 100 feature rows per entity over 90 days, at distinct instants
        con.execute(f"""
            copy (
                select u as user_id,
                       timestamp '2024-01-01' + to_seconds(((hash(u * 1000 + k) % 7776) * 1000 + k)::bigint) as feature_ts,
                       random() as f1, random() as f2, random() as f3, (hash(u + k) % 100)::bigint as f4, random() as f5
                from range({entities}) as a(u), range(100) as b(k)
            ) to '{project}/data/activity.parquet' (format parquet)
        """)
        con.execute(f"""
            copy (
                select (hash(i) % {entities})::bigint as user_id,
                       timestamp '2024-01-01' + to_seconds((hash(i * 7) % 7776000)::bigint) as event_timestamp,
                       (i % 2 = 0) as label
                from range({rows}) as r(i)
            ) to '{project}/data/entities.parquet' (format parquet)
        """)
    subprocess.run([sys.executable, "-m", "featureduck.cli", "run"], cwd=project, check=True, capture_output=True)
    return project


def measure_fduck(project: Path) -> dict[str, float]:
    import pyarrow.parquet

    from featureduck.api import Project

    rows = pyarrow.parquet.read_table(project / "data" / "entities.parquet")
    loaded = Project.load(project)
    loaded.compile()
    started = time.perf_counter()
    result = loaded.get_historical_features(rows, [f"activity:f{i}" for i in range(1, 6)])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **_row_figures(result)}


def _row_figures(result: Any) -> dict[str, float]:
    import pyarrow.compute

    return {
        "rows": result.num_rows,
        "non_null": result.num_rows - result.column("f1").null_count,
        "sum_f4": int(pyarrow.compute.sum(result.column("f4")).as_py() or 0),
    }


def measure_floor(project: Path) -> dict[str, float]:
    import duckdb
    import pyarrow.parquet

    rows = pyarrow.parquet.read_table(project / "data" / "entities.parquet")
    with duckdb.connect(str(project / "target" / "bench.duckdb")) as con:
        started = time.perf_counter()
        con.register("entity_rows", rows)
        # ASOF probing a registered Arrow table directly took 29 s at 100k x 1M here: copy it in first
        con.execute("create temp table entities as select * from entity_rows")
        result = con.execute(FLOOR_SQL).to_arrow_table()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, **_row_figures(result)}


def child(kind: str, project: Path) -> None:
    figures = measure_fduck(project) if kind == "fduck" else measure_floor(project)
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["fduck", "floor"])
    parser.add_argument("--feast-file", action="store_true", help="also Feast's file (dask) store: minutes, over 24 GiB here")
    parser.add_argument("--project", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.project)
        return
    project = generate(args.entities, args.rows)
    print(f"{args.rows} entity rows x {args.entities * 100} feature rows (5 features, ttl 7d), DuckDB, Arrow out")
    results: dict[str, dict[str, float]] = {}
    for kind in ("floor", "fduck", "floor", "fduck"):  # each twice, in fresh processes; the better run counts
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--project", str(project)], check=True, capture_output=True, text=True
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        if kind not in results or figures["seconds"] < results[kind]["seconds"]:
            results[kind] = figures
    if FEAST_PYTHON.exists():
        for store in ["duckdb"] + (["file"] if args.feast_file else []):
            script = Path(__file__).resolve().parent / "feast_historical.py"
            started = time.perf_counter()
            out = subprocess.run(
                [str(FEAST_PYTHON), str(script), "--project", str(project), "--offline-store", store], capture_output=True, text=True,
            )
            elapsed = time.perf_counter() - started
            if out.returncode != 0:  # -9: the kernel's out-of-memory killer
                print(f"  feast {store}: failed after {elapsed:.0f} s, exit {out.returncode}: {out.stderr.strip()[-300:]}")
                continue
            results[f"feast {store}"] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  (feast {store}: {elapsed:.0f} s with its imports and registry)")
    else:
        print(f"  Feast skipped: no {FEAST_PYTHON} (see feast_historical.py)")
    for kind, figures in results.items():
        print(
            f"  {kind:<12} {figures['seconds']:7.2f} s  peak {figures['peak_mb']:6.0f} MB  rows {figures['rows']}  "
            f"with features {figures['non_null']}  sum(f4) {figures['sum_f4']}"
        )
    print(f"  fduck / floor: {results['fduck']['seconds'] / results['floor']['seconds']:.2f}x time, "
          f"{results['fduck']['peak_mb'] / results['floor']['peak_mb']:.2f}x memory")


if __name__ == "__main__":
    main()
