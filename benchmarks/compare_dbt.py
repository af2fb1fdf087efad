"""A dbt-duckdb project built by dbt and by fduck, side by side: are the tables identical?

The project (tests/fixtures/dbt_parity) uses the dbt features fduck promises
to run unchanged: dbt_project.yml folder nesting with `+` and plain keys, a
custom schema, project-level seed column types, a dbt `type: duckdb`
profile, schema.yml `version: 2` with `tests:` and `data_tests:` (dbt 1.10
`arguments:` too), seeds, Jinja `set` and `for`, `{{ doc() }}` from .md
files, `{{ log() }}`, macros, an incremental model and a singular test.

Each tool runs `seed`, `run` and `test` on its own copy. Every table each
built is exported to Parquet by its own duckdb (dbt-duckdb's venv has a newer
duckdb whose files this one may not open), then compared: the same tables,
the same column names and types, the same rows (EXCEPT ALL both ways).

    python3 -m venv benchmarks/work/dbt-venv
    benchmarks/work/dbt-venv/bin/pip install dbt-core==1.11.16 dbt-duckdb
    python benchmarks/compare_dbt.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "fixtures" / "dbt_parity"
WORK = HERE / "work" / "dbt_parity"
DBT = HERE / "work" / "dbt-venv" / "bin" / "dbt"
EXPORT = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                     "WHERE table_type IN ('BASE TABLE', 'VIEW') ORDER BY 1, 2").fetchall()
out = []
for schema, name in tables:
    if schema.endswith("_featureduck"):  # fduck's state store, which dbt has no counterpart of
        continue
    path = f"{sys.argv[2]}/{schema}.{name}.parquet"
    con.execute(f'COPY (SELECT * FROM "{schema}"."{name}") TO \\'{path}\\' (FORMAT parquet)')
    types = con.execute(f'DESCRIBE "{schema}"."{name}"').fetchall()
    out.append({"relation": f"{schema}.{name}", "columns": [[c[0], c[1]] for c in types]})
print(json.dumps(out))
"""


def build(tool: str, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FIXTURE, folder)
    for command in ("seed", "run", "test"):
        if tool == "dbt":
            args = [str(DBT), command, "--project-dir", str(folder), "--profiles-dir", str(folder)]
        else:
            args = [sys.executable, "-m", "featureduck.cli", command, "--project-dir", str(folder)]
        result = subprocess.run(args, capture_output=True, text=True, cwd=folder)
        if result.returncode != 0:
            raise SystemExit(f"{tool} {command} failed:\n{result.stdout}\n{result.stderr}")


def export(python: str, database: Path, folder: Path) -> dict[str, list[list[str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([python, "-c", EXPORT, str(database), str(folder)], check=True, capture_output=True, text=True).stdout
    return {t["relation"]: t["columns"] for t in json.loads(out)}


def main() -> None:
    if not DBT.exists():
        raise SystemExit(f"no dbt at {DBT} (see this script's docstring)")
    build("dbt", WORK / "dbt")
    build("fduck", WORK / "fduck")
    dbt_tables = export(str(DBT.parent / "python"), WORK / "dbt" / "target" / "parity.duckdb", WORK / "export_dbt")
    fduck_tables = export(sys.executable, WORK / "fduck" / "target" / "parity.duckdb", WORK / "export_fduck")
    version = subprocess.run([str(DBT), "--version"], capture_output=True, text=True).stdout.split("installed:")[1].split()[0]
    print(f"dbt-core {version} + dbt-duckdb built {len(dbt_tables)} relations, fduck {len(fduck_tables)}")
    same = True
    for relation in sorted(set(dbt_tables) | set(fduck_tables)):
        if relation not in dbt_tables or relation not in fduck_tables:
            print(f"{relation:<32} only built by {'dbt' if relation in dbt_tables else 'fduck'}")
            same = False
            continue
        columns_match = dbt_tables[relation] == fduck_tables[relation]
        a, b = WORK / "export_dbt" / f"{relation}.parquet", WORK / "export_fduck" / f"{relation}.parquet"
        rows = duckdb.sql(f"SELECT count(*) FROM '{a}'").fetchone()
        only_dbt = duckdb.sql(f"SELECT count(*) FROM (SELECT * FROM '{a}' EXCEPT ALL SELECT * FROM '{b}')").fetchone()
        only_fduck = duckdb.sql(f"SELECT count(*) FROM (SELECT * FROM '{b}' EXCEPT ALL SELECT * FROM '{a}')").fetchone()
        identical = columns_match and only_dbt == (0,) and only_fduck == (0,)
        same &= identical
        detail = "" if columns_match else f"  columns: dbt {dbt_tables[relation]} / fduck {fduck_tables[relation]}"
        print(f"{relation:<32} {rows[0] if rows else 0:>3} rows  {'identical' if identical else 'DIFFERENT'}{detail}")
    print("all tables identical" if same else "tables differ")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
