"""Point-in-time training sets on Postgres and Spark: the candidate join forms, measured.

Data: bench_training_set.py's generator at 10,000 entities (a 1M-row feature
view, 5 features, ttl 7 days) and 100,000 entity rows, built by `fduck run`
on each engine (the Parquet source staged in, the model a table). For each
engine: every candidate form of the join alone, fduck's first, over the same
loaded entity rows, each checked to return the same answer as fduck's (row
count, rows with features, sum of an integer feature); then
`get_historical_features` end to end (Arrow in, Arrow out: entity rows
loaded, query, rows fetched).

    python benchmarks/bench_training_set_engines.py --dsn postgresql://...
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training_set import WORK, generate  # noqa: E402

from featureduck.api import Project  # noqa: E402
from featureduck.tasks.training_set import tie_free  # noqa: E402

SCHEMA = "fd_pit"
FEATURES = [f"activity:f{i}" for i in range(1, 6)]
TIMEOUT_S = 300  # a form slower than this is reported as such
TTL = "interval '7 days'"
PICK = "f.f1, f.f2, f.f3, f.f4, f.f5"
WITHIN_TTL = ", ".join(f"case when f.feature_ts >= e.__fd_event_ts - {TTL} then f.f{i} end as f{i}" for i in range(1, 6))

# The forms measured besides fduck's own (whose SQL the adapter generates).
POSTGRES_FORMS = {
    # one range join bounded by the ttl, then the newest row per entity row
    "DISTINCT ON over a ttl-bounded range join": f"""
        select distinct on (e.__fd_row) e.user_id, e.event_timestamp, e.label, {PICK}
        from __fd_entities e left join {SCHEMA}.activity f
          on f.user_id = e.user_id and f.feature_ts <= e.__fd_event_ts and f.feature_ts >= e.__fd_event_ts - {TTL}
        order by e.__fd_row, f.feature_ts desc, f.f1 desc nulls last, f.f2 desc nulls last, f.f3 desc nulls last,
                 f.f4 desc nulls last, f.f5 desc nulls last""",
    # one probe of the view per entity row: an index on (user_id, feature_ts) is what makes it work
    "LEFT JOIN LATERAL ... ORDER BY ts DESC LIMIT 1": f"""
        select e.user_id, e.event_timestamp, e.label, {WITHIN_TTL}
        from __fd_entities e left join lateral (
            select a.feature_ts, a.f1, a.f2, a.f3, a.f4, a.f5 from {SCHEMA}.activity a
            where a.user_id = e.user_id and a.feature_ts <= e.__fd_event_ts
            order by a.feature_ts desc, a.f1 desc nulls last, a.f2 desc nulls last, a.f3 desc nulls last,
                     a.f4 desc nulls last, a.f5 desc nulls last
            limit 1
        ) f on true
        order by e.__fd_row""",
}
SPARK_FORMS = {
    "range join bounded by the ttl, row_number() = 1": f"""
        select user_id, event_timestamp, label, f1, f2, f3, f4, f5 from (
            select e.__fd_row, e.user_id, e.event_timestamp, e.label, {PICK}, row_number() over (
                partition by e.__fd_row order by f.feature_ts desc, f.f1 desc nulls last, f.f2 desc nulls last,
                f.f3 desc nulls last, f.f4 desc nulls last, f.f5 desc nulls last) as rank
            from __fd_entities e left join {SCHEMA}.activity f
              on f.user_id = e.user_id and f.feature_ts <= e.__fd_event_ts and f.feature_ts >= e.__fd_event_ts - {TTL}
        ) where rank = 1 order by __fd_row""",
    "range join bounded by the ttl, max_by(struct)": f"""
        select e.user_id, e.event_timestamp, e.label, m.v.f1, m.v.f2, m.v.f3, m.v.f4, m.v.f5
        from __fd_entities e left join (
            select e.__fd_row, max_by(struct({PICK}), struct(f.feature_ts, f.f1, f.f2, f.f3, f.f4, f.f5)) as v
            from __fd_entities e join {SCHEMA}.activity f
              on f.user_id = e.user_id and f.feature_ts <= e.__fd_event_ts and f.feature_ts >= e.__fd_event_ts - {TTL}
            group by e.__fd_row
        ) m on m.__fd_row = e.__fd_row
        order by e.__fd_row""",
}


def figures(table: Any) -> tuple[int, int, int]:
    import pyarrow.compute

    return table.num_rows, table.num_rows - table.column("f1").null_count, int(pyarrow.compute.sum(table.column("f4")).as_py() or 0)


def prepare(dsn: str, warehouse: Path) -> Path:
    source = generate(10_000, 100_000)
    project = WORK / "engines_10000_100000"
    if not project.exists():
        shutil.copytree(source, project, ignore=shutil.ignore_patterns("target", "feast"))
    (project / "profiles.yml").write_text(
        "default:\n  target: pg\n  outputs:\n"
        f"    pg: {{type: postgres, dsn: '{dsn}', schema: {SCHEMA}, threads: 2}}\n"
        f"    spark: {{type: spark, master: 'local[2]', warehouse: '{warehouse}', schema: {SCHEMA}, threads: 2}}\n"
    )
    return project


def timed(label: str, run: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        result = run()
    except Exception as err:  # noqa: BLE001 - a form that fails or times out is reported, not fatal
        print(f"  {label:<58} failed after {time.perf_counter() - started:.1f} s: {str(err).splitlines()[0][:100]}")
        return time.perf_counter() - started, None
    seconds = time.perf_counter() - started
    print(f"  {label:<58} {seconds:7.2f} s  rows, with features, sum(f4): {figures(result)}")
    return seconds, result


def bench(project: Path, target: str) -> None:
    import pyarrow.parquet

    from featureduck.store.offline import prepare_entities, training_set_query
    from featureduck.store.training_set import resolve_requests

    loaded = Project.load(project, target=target)
    started = time.perf_counter()
    assert not loaded.run().failed
    print(f"{target}: fduck run (stage 1M feature rows, build the view) {time.perf_counter() - started:.1f} s")
    rows = pyarrow.parquet.read_table(project / "data" / "entities.parquet")

    with loaded.session(1) as session:
        adapter = session.adapter
        with adapter.in_time_zone("UTC"):
            started = time.perf_counter()
            columns = prepare_entities(adapter, rows)
            print(f"  {'loading the 100k entity rows':<58} {time.perf_counter() - started:7.2f} s")
            requests = resolve_requests(loaded.definition, FEATURES)
            query = adapter.sql(training_set_query(adapter, loaded.definition, loaded.compile(), requests, columns,
                                                          tie_free(session)))
            if target == "pg":
                adapter.execute(f"SET statement_timeout = '{TIMEOUT_S}s'")
                adapter.execute("ANALYZE __fd_entities")
            # Spark's first queries warm its JVM up: there every form runs twice, the second run counts
            for _ in range(1 if target == "pg" else 2):
                timed("fduck's form", lambda: adapter.fetch(query, "arrow"))
                for label, sql in (POSTGRES_FORMS if target == "pg" else SPARK_FORMS).items():
                    timed(label, lambda sql=sql: adapter.fetch(sql, "arrow"))
            if target == "pg":
                adapter.execute(f"CREATE INDEX fd_pit_keys_ts ON {SCHEMA}.activity (user_id, feature_ts)")
                adapter.execute(f"ANALYZE {SCHEMA}.activity")
                for label, sql in POSTGRES_FORMS.items():
                    timed(f"{label}, with an index on (user_id, feature_ts)", lambda sql=sql: adapter.fetch(sql, "arrow"))
                adapter.execute(f"DROP INDEX {SCHEMA}.fd_pit_keys_ts")
    ends = [timed("get_historical_features, end to end", lambda: loaded.get_historical_features(rows, FEATURES))[0] for _ in range(2)]
    print(f"  (best end to end: {min(ends):.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("FDUCK_BENCH_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres"))
    parser.add_argument("--engines", default="pg,spark")
    args = parser.parse_args()
    project = prepare(args.dsn, WORK / "spark-warehouse")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; 100,000 entity rows x 1,000,000 feature rows, 5 features, ttl 7d")
    for target in args.engines.split(","):
        bench(project, target)


if __name__ == "__main__":
    main()
