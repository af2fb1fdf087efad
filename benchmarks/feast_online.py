"""Feast's online path on bench_online.py's data; run by that script in Feast's own venv.

    feast_online.py materialize --data DIR [--online-store postgres --dsn DSN]   # prints {"seconds"}
    feast_online.py serve --data DIR --port P   # `feast serve` on the same repo (runs until killed)
    feast_online.py remote --data DIR --url URL --keys 1,2,3   # Feast's own client against a feature server at URL

The feature view matches the fduck project: entity user (user_id), five
features, the Parquet file bench_online.py wrote.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path


def store(data: Path, online: str, dsn: str | None, url: str | None = None) -> object:
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.repo_config import RepoConfig
    from feast.types import Float64, Int64

    repo = (data / "feast" / online).resolve()
    repo.mkdir(parents=True, exist_ok=True)
    online_store: dict[str, object] = {"type": "sqlite", "path": str(repo / "online.db")}
    if online == "postgres":
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(dsn or "")
        online_store = {"type": "postgres", "host": parts.get("host", "127.0.0.1"), "port": int(parts.get("port", 5432)),
                        "database": parts.get("dbname", "postgres"), "db_schema": "feast_online_bench",
                        "user": parts.get("user", "postgres"), "password": parts.get("password", ""), "sslmode": "disable"}
    if online == "remote":  # Feast's remote online store: it reads through the server's /get-online-features
        online_store = {"type": "remote", "path": str(url)}
    config = RepoConfig(
        project="online_bench", registry=str(repo / "registry.db"), provider="local",
        offline_store={"type": "duckdb"}, online_store=online_store,
        entity_key_serialization_version=3, repo_path=str(repo),
    )
    feature_store = FeatureStore(config=config)
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
    source = FileSource(path=str((data / "activity.parquet").resolve()), timestamp_field="feature_ts")
    schema = [Field(name=f"f{i}", dtype=Int64 if i == 4 else Float64) for i in range(1, 6)]
    view = FeatureView(name="activity", entities=[user], ttl=datetime.timedelta(days=3650), schema=schema, source=source, online=True)
    feature_store.apply([user, view])
    return feature_store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["materialize", "serve", "remote"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, default=6566)
    parser.add_argument("--online-store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--dsn", default=None, help="for the postgres online store")
    parser.add_argument("--url", default=None, help="remote: the feature server's base URL")
    parser.add_argument("--keys", default="", help="remote: the user_ids to look up, comma-separated")
    args = parser.parse_args()
    feature_store = store(args.data, "remote" if args.action == "remote" else args.online_store, args.dsn, args.url)
    if args.action == "remote":
        rows = [{"user_id": int(key)} for key in args.keys.split(",") if key]
        answer = feature_store.get_online_features(  # type: ignore[attr-defined]
            features=[f"activity:f{i}" for i in range(1, 6)], entity_rows=rows).to_dict()
        print(json.dumps(answer))
    elif args.action == "materialize":
        started = time.perf_counter()
        feature_store.materialize(datetime.datetime(2023, 1, 1), datetime.datetime(2025, 1, 1))  # type: ignore[attr-defined]
        print(json.dumps({"seconds": time.perf_counter() - started}))
    else:
        feature_store.serve(host="127.0.0.1", port=args.port, type_="http", no_access_log=True, workers=1)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
