"""Online store and serving: fduck against Feast 0.67 on the same data.

Data: a feature view of ENTITIES entities (one row each, 5 features) built as
a DuckDB table by `fduck run`, and the same rows as Parquet for Feast.

- materialize: `Project.materialize(full=True)` into the embedded store and
  into the Postgres store (timed in process, interpreter start excluded,
  best of five), rows per second; Feast's `materialize` into its SQLite
  online store (its default), the same way.
- serving: `fduck serve` (1 worker; the embedded store, then the Postgres
  store) and `feast serve` (1 worker), each alone
  on the machine's 2 cores with wrk beside it, random keys: one entity per
  GET at concurrency 1 and 16, and 100-entity batches at 16 (Feast's
  /get-online-features takes both as POSTs). fduck also serves keys drawn
  from 10,000 hot entities, which its in-process cache keeps.

    python benchmarks/bench_online.py --entities 1000000 [--skip-feast]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from featureduck.api import Project

WORK = Path(__file__).resolve().parent / "work" / "online"
HOT = 10_000
FEAST_PYTHON = Path(__file__).resolve().parent / "work" / "feast-venv" / "bin" / "python"
FEATURES_YML = """
entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - name: activity
    entity: user
    model: activity
    timestamp_field: feature_ts
    online: true
    features:
      - {name: f1, dtype: double}
      - {name: f2, dtype: double}
      - {name: f3, dtype: double}
      - {name: f4, dtype: bigint}
      - {name: f5, dtype: double}
"""
MODEL = """{{ config(materialized='table') }}
select u as user_id, timestamp '2024-01-01' + to_seconds(u % 86400) as feature_ts,
       random() as f1, random() as f2, random() as f3, (u % 100)::bigint as f4, random() as f5
from range({{ var('entities') }}) as a(u)
"""
EMPTY_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from featureduck.serving.server import serve

async def empty(request):
    return Response(b'{{"status":"ok"}}', media_type="application/json")

serve(Starlette(routes=[Route("/", empty)]), "127.0.0.1", {port})
"""
FDUCK_ONE = 'request = function() return wrk.format("GET", "/features/activity/" .. math.random(0, {top})) end'
FDUCK_BATCH = """request = function()
  local keys = {{}}
  for i = 1, 100 do keys[i] = tostring(math.random(0, {top})) end
  return wrk.format("POST", "/features/activity/batch", {{["Content-Type"] = "application/json"}},
                    '{{"entities": [' .. table.concat(keys, ",") .. ']}}')
end"""
FEAST_REQUEST = """request = function()
  local keys = {{}}
  for i = 1, {n} do keys[i] = tostring(math.random(0, {top})) end
  return wrk.format("POST", "/get-online-features", {{["Content-Type"] = "application/json"}},
    '{{"features": ["activity:f1", "activity:f2", "activity:f3", "activity:f4", "activity:f5"], "entities": {{"user_id": [' ..
    table.concat(keys, ",") .. ']}}}}')
end"""


def prepare(entities: int) -> Path:
    project = WORK / f"p_{entities}"
    if (project / "data" / "activity.parquet").exists():
        return project
    shutil.rmtree(project, ignore_errors=True)
    for folder in ("models", "features", "data"):
        (project / folder).mkdir(parents=True)
    (project / "featureduck_project.yml").write_text(f"name: online_bench\nvars: {{entities: {entities}}}\n")
    (project / "features" / "f.yml").write_text(FEATURES_YML)
    (project / "models" / "activity.sql").write_text(MODEL)
    subprocess.run([sys.executable, "-m", "featureduck.cli", "run", "--project-dir", str(project)], check=True, capture_output=True)
    import duckdb

    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        con.execute(f"copy main.activity to '{project / 'data' / 'activity.parquet'}' (format parquet)")
    return project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, body: bytes | None = None) -> None:
    for _ in range(600):
        try:
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def wrk(url: str, script: str, connections: int, seconds: int = 10) -> dict[str, float]:
    path = WORK / "script.lua"
    path.write_text("math.randomseed(os.time())\n" + script)
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), url],
        check=True, capture_output=True, text=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        figures[key] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["errors"] = float(errors.group(1)) if errors else 0.0
    return figures


def serve_and_measure(
    command: list[str], base: str, probe: tuple[str, bytes | None], scripts: dict[str, tuple[str, int]]
) -> dict[str, dict[str, float]]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(base + probe[0], probe[1])
        wrk(base, scripts["one, c1"][0], 1, 3)  # warm-up
        return {name: wrk(base, script, connections) for name, (script, connections) in scripts.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--skip-feast", action="store_true")
    parser.add_argument("--dsn", default=os.environ.get("FDUCK_BENCH_PG_DSN", "postgresql://postgres:fduck@127.0.0.1:5432/postgres"),
                        help="server for the Postgres online store ('' to skip it)")
    args = parser.parse_args()
    project = prepare(args.entities)
    top = args.entities - 1
    print(f"{args.entities:,} entities, 5 features; python {sys.version.split()[0]}, {os.cpu_count()} cores")

    loaded = Project.load(project)
    runs = []
    for _ in range(5):  # this machine's timings drift: the best of five
        started = time.perf_counter()
        done = loaded.materialize(full=True)
        runs.append(time.perf_counter() - started)
    print(f"fduck materialize --full, embedded store: best {min(runs):.2f} s of {[round(r, 2) for r in runs]}, "
          f"{done[0].rows / min(runs):,.0f} rows/s")

    if args.dsn:
        (project / "profiles.yml").write_text(
            "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: target/dev.duckdb}\n"
            f"    pgstore:\n      type: duckdb\n      path: target/dev.duckdb\n"
            f"      online_store: {{type: postgres, dsn: '{args.dsn}', schema: fd_online_bench}}\n"
        )
        loaded = Project.load(project, target="pgstore")
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            done = loaded.materialize(full=True)
            runs.append(time.perf_counter() - started)
        print(f"fduck materialize --full, Postgres store: best {min(runs):.2f} s of {[round(r, 2) for r in runs]}, "
              f"{done[0].rows / min(runs):,.0f} rows/s")

    # the framework alone: the same server settings, one route answering constant bytes
    port = free_port()
    empty = serve_and_measure(
        [sys.executable, "-c", EMPTY_APP.format(port=port)], f"http://127.0.0.1:{port}", ("/", None),
        {"one, c1": ('request = function() return wrk.format("GET", "/") end', 1),
         "one, c16": ('request = function() return wrk.format("GET", "/") end', 16)},
    )
    for name, figures in empty.items():
        print(f"starlette+uvicorn, empty route  {name:<8} {figures['rps']:>9,.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
              f"p99 {figures['p99_ms']:6.2f} ms")

    for target in ["dev"] + (["pgstore"] if args.dsn else []):
        port = free_port()
        fduck = serve_and_measure(
            [sys.executable, "-m", "featureduck.cli", "serve", "--project-dir", str(project), "--target", target, "--port", str(port)],
            f"http://127.0.0.1:{port}", ("/health", None),
            {"one, c1": (FDUCK_ONE.format(top=top), 1), "one, c16": (FDUCK_ONE.format(top=top), 16),
             "batch 100, c16": (FDUCK_BATCH.format(top=top), 16),
             # the hot-key cache's case: requests drawn from 10,000 entities
             "one, hot 10k, c16": (FDUCK_ONE.format(top=HOT - 1), 16), "batch 100, hot 10k, c16": (FDUCK_BATCH.format(top=HOT - 1), 16)},
        )
        store = "embedded" if target == "dev" else "Postgres"
        for name, figures in fduck.items():
            print(f"fduck serve, {store + ' store,':<16} {name:<15} {figures['rps']:>9,.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
                  f"p99 {figures['p99_ms']:6.2f} ms  non-2xx {figures['errors']:.0f}")

    if args.skip_feast or not FEAST_PYTHON.exists():
        print("Feast skipped" + ("" if args.skip_feast else f": no {FEAST_PYTHON} (see feast_online.py)"))
        return
    script = Path(__file__).resolve().parent / "feast_online.py"
    shutil.rmtree(project / "data" / "feast", ignore_errors=True)
    out = subprocess.run([str(FEAST_PYTHON), str(script), "materialize", "--data", str(project / "data")],
                         check=True, capture_output=True, text=True).stdout
    seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
    print(f"feast materialize, SQLite store: {seconds:.2f} s, {args.entities / seconds:,.0f} rows/s")
    if args.dsn:
        out = subprocess.run([str(FEAST_PYTHON), str(script), "materialize", "--data", str(project / "data"),
                              "--online-store", "postgres", "--dsn", args.dsn], check=True, capture_output=True, text=True).stdout
        seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
        print(f"feast materialize, Postgres store: {seconds:.2f} s, {args.entities / seconds:,.0f} rows/s")
    port = free_port()
    body = json.dumps({"features": ["activity:f1"], "entities": {"user_id": [1]}}).encode()
    feast = serve_and_measure(
        [str(FEAST_PYTHON), str(script), "serve", "--data", str(project / "data"), "--port", str(port)],
        f"http://127.0.0.1:{port}", ("/get-online-features", body),
        {"one, c1": (FEAST_REQUEST.format(n=1, top=top), 1), "one, c16": (FEAST_REQUEST.format(n=1, top=top), 16),
         "batch 100, c16": (FEAST_REQUEST.format(n=100, top=top), 16)},
    )
    for name, figures in feast.items():
        print(f"feast serve  {name:<15} {figures['rps']:>9,.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
              f"p99 {figures['p99_ms']:6.2f} ms  non-2xx {figures['errors']:.0f}")


if __name__ == "__main__":
    main()
