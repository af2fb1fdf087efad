"""Feast's get_historical_features on bench_training_set.py's data; run by that script.

Runs in its own virtual environment (Feast pins its own duckdb and pandas):

    python3 -m venv benchmarks/work/feast-venv
    benchmarks/work/feast-venv/bin/pip install 'feast[duckdb]==0.67.0'

The same feature view as the fduck project (entity user, 5 features, ttl 7
days) over the same Parquet file; the entity rows are read into pandas, the
input Feast takes, before the clock starts. Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, required=True, help="bench_training_set.py's generated project")
    parser.add_argument("--offline-store", choices=["duckdb", "file"], required=True)
    args = parser.parse_args()

    import pandas
    import pyarrow.compute
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.repo_config import RepoConfig
    from feast.types import Float64, Int64

    repo = (args.project / "feast" / args.offline_store).resolve()
    repo.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(
        project="pit_bench",
        registry=str(repo / "registry.db"),
        provider="local",
        offline_store={"type": args.offline_store},
        online_store={"type": "sqlite", "path": str(repo / "online.db")},
        entity_key_serialization_version=3,
        repo_path=str(repo),
    )
    store = FeatureStore(config=config)
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
    source = FileSource(path=str((args.project / "data" / "activity.parquet").resolve()), timestamp_field="feature_ts")
    schema = [Field(name=f"f{i}", dtype=Int64 if i == 4 else Float64) for i in range(1, 6)]
    view = FeatureView(name="activity", entities=[user], ttl=timedelta(days=7), schema=schema, source=source, online=False)
    store.apply([user, view])

    entity_rows = pandas.read_parquet(args.project / "data" / "entities.parquet")
    started = time.perf_counter()
    result = store.get_historical_features(entity_df=entity_rows, features=[f"activity:f{i}" for i in range(1, 6)]).to_arrow()
    seconds = time.perf_counter() - started
    f4 = result.column("f4")
    print(json.dumps({
        "seconds": seconds,
        "rows": result.num_rows,
        "non_null": result.num_rows - result.column("f1").null_count,
        "sum_f4": int(pyarrow.compute.sum(f4).as_py() or 0),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
