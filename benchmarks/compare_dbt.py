"""dbt-duckdb projects built by dbt and by fduck, side by side: the same tables, the same outcomes?

tests/fixtures/dbt_parity uses the dbt features fduck has run unchanged
from the start: dbt_project.yml folder nesting with `+` and plain keys, a
custom schema, project-level seed column types, a dbt `type: duckdb`
profile, schema.yml `version: 2` with `tests:` and `data_tests:` (dbt 1.10
`arguments:` too), seeds, Jinja `set` and `for`, `{{ doc() }}` from .md
files, `{{ log() }}`, macros, an incremental model and a singular test.
tests/fixtures/dbt_features uses what dbt decides while it renders: Jinja in
dbt_project.yml and source YAML, a project `generate_schema_name`, the
`run_query` pivot under `{% if execute %}`, `adapter.get_columns_in_relation`,
`statement`/`load_result`, `{{ this }}` and `ref()` inside SQL strings, and
unit tests (`unit_tests:`).

Each tool runs `build` on its own copy. Every table each built is exported
to Parquet by its own duckdb (dbt-duckdb's venv has a newer duckdb whose
files this one may not open), then compared: the same tables, the same
column names and types, the same rows (EXCEPT ALL both ways); then every
node's outcome in run_results.json (seeds, models and tests), by name.

    python3 -m venv benchmarks/work/dbt-venv
    benchmarks/work/dbt-venv/bin/pip install dbt-core==1.11.16 dbt-duckdb
    python benchmarks/compare_dbt.py [--dbt-utils PATH-TO-A-dbt-utils-CHECKOUT] [--project PATH-TO-A-dbt-PROJECT ...]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

HERE = Path(__file__).resolve().parent
FIXTURES = [HERE.parent / "tests" / "fixtures" / name for name in ("dbt_parity", "dbt_features", "dbt_packages")]
WORK = HERE / "work" / "dbt_compare"
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


class BuildFailed(Exception):
    """A tool could not build the project (its output's last lines say why)."""


def build(tool: str, fixture: Path, folder: Path, allow_failures: bool = False, seed_first: bool = False) -> dict[str, str]:
    """`build` on a fresh copy of `fixture`; each node's outcome by name, from run_results.json.
    With `allow_failures`, a build that exits non-zero still counts when it wrote its results."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(fixture, folder)
    commands = ["deps"] if (folder / "packages.yml").exists() else []
    commands += ["seed", "build"] if seed_first else ["build"]  # seed_first: as dbt's suites seed, then run
    for command in commands:
        if tool == "dbt":
            args = [str(DBT), command, "--project-dir", str(folder), "--profiles-dir", str(folder)]
        else:
            args = [sys.executable, "-m", "featureduck.cli", command, "--project-dir", str(folder)]
        result = subprocess.run(args, capture_output=True, text=True, cwd=folder)
        written = (folder / "target" / "run_results.json").is_file() and command == "build"
        if result.returncode != 0 and not (allow_failures and written):
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
            raise BuildFailed(f"{tool} {command} of {fixture.name} failed:\n{tail}")
    results = json.loads((folder / "target" / "run_results.json").read_text())["results"]
    return {_node_key(r["unique_id"]): OUTCOME.get(r["status"], r["status"]) for r in results}


def _node_key(unique_id: str) -> str:
    """kind.name: dbt's data test ids end in a digest of their arguments, unit test ids
    (unit_test.project.model.name) name their model too."""
    parts = unique_id.split(".")
    return f"{parts[0]}.{parts[3]}.{parts[2]}" if parts[0] == "unit_test" else f"{parts[0]}.{parts[2]}"


OUTCOME = {"cached": "success"}  # fduck's run cache: built before, unchanged


def export(python: str, database: Path, folder: Path) -> dict[str, list[list[str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([python, "-c", EXPORT, str(database), str(folder)], check=True, capture_output=True, text=True).stdout
    return {t["relation"]: t["columns"] for t in json.loads(out)}


def database_file(fixture: Path) -> str:
    """The DuckDB file the fixture's dev target names (profiles.yml), relative to the project."""
    profiles = yaml.safe_load((fixture / "profiles.yml").read_text())
    profile = next(iter(profiles.values()))
    return str(profile["outputs"][profile.get("target", "dev")]["path"])


def compare(fixture: Path, allow_failures: bool = False, seed_first: bool = False) -> bool:
    """Both tools' tables and node outcomes, printed; True when all are identical."""
    work = WORK / fixture.name
    dbt_outcomes = build("dbt", fixture, work / "dbt", allow_failures, seed_first)
    fduck_outcomes = build("fduck", fixture, work / "fduck", allow_failures, seed_first)
    database = database_file(fixture)
    dbt_tables = export(str(DBT.parent / "python"), work / "dbt" / database, work / "export_dbt")
    fduck_tables = export(sys.executable, work / "fduck" / database, work / "export_fduck")
    print(f"{fixture.name}: dbt built {len(dbt_tables)} relations, fduck {len(fduck_tables)}")
    same = True
    for relation in sorted(set(dbt_tables) | set(fduck_tables)):
        if relation not in dbt_tables or relation not in fduck_tables:
            print(f"  {relation:<36} only built by {'dbt' if relation in dbt_tables else 'fduck'}")
            same = False
            continue
        columns_match = dbt_tables[relation] == fduck_tables[relation]
        a, b = work / "export_dbt" / f"{relation}.parquet", work / "export_fduck" / f"{relation}.parquet"
        rows = duckdb.sql(f"SELECT count(*) FROM '{a}'").fetchone()
        only_dbt = duckdb.sql(f"SELECT count(*) FROM (SELECT * FROM '{a}' EXCEPT ALL SELECT * FROM '{b}')").fetchone()
        only_fduck = duckdb.sql(f"SELECT count(*) FROM (SELECT * FROM '{b}' EXCEPT ALL SELECT * FROM '{a}')").fetchone()
        identical = columns_match and only_dbt == (0,) and only_fduck == (0,)
        same &= identical
        detail = "" if columns_match else f"  columns: dbt {dbt_tables[relation]} / fduck {fduck_tables[relation]}"
        print(f"  {relation:<36} {rows[0] if rows else 0:>3} rows  {'identical' if identical else 'DIFFERENT'}{detail}")
    for node in sorted(set(dbt_outcomes) | set(fduck_outcomes)):
        dbt_status, fduck_status = dbt_outcomes.get(node, "absent"), fduck_outcomes.get(node, "absent")
        if dbt_status != fduck_status:
            print(f"  {node:<36} dbt {dbt_status}, fduck {fduck_status}  DIFFERENT")
            same = False
    tests = sum(1 for node in dbt_outcomes if node.startswith("test."))
    units = sum(1 for node in dbt_outcomes if node.startswith("unit_test."))
    print(f"  {len(dbt_outcomes)} node outcomes ({tests} data tests, {units} unit tests): {'identical' if same else 'some differ'}")
    return same


# With a checkout of dbt-labs/dbt-utils (`--dbt-utils PATH`): the packages fixture with it
# installed as `dbt deps` would, and a model and tests of ours that use it.
UTILS_MODEL = """
select
    {{ dbt_utils.generate_surrogate_key(['id', 'customer']) }} as order_key,
    {{ dbt_utils.star(ref('orders'), except=['ordered_at']) }},
    {{ dbt_utils.safe_divide('amount_cents', 100) }} as amount,
    {{ dbt_utils.safe_add(['id', 'amount_cents']) }} as summed,
    {{ dbt_utils.get_url_host("'https://shop.example/cart?x=1'") }} as host
from {{ ref('orders') }}
"""
UTILS_TESTS = """
version: 2
models:
  - name: utils_usage
    data_tests:
      - dbt_utils.expression_is_true:
          arguments: {expression: "amount * 100 = amount_cents"}
      - dbt_utils.unique_combination_of_columns:
          arguments: {combination_of_columns: [id, customer]}
      - dbt_utils.equal_rowcount:
          arguments: {compare_model: ref('orders')}
    columns:
      - name: id
        data_tests:
          - dbt_utils.accepted_range: {arguments: {min_value: 1, max_value: 3}}
          - dbt_utils.not_constant
      - name: customer
        data_tests:
          - dbt_utils.not_empty_string
"""


def checked_out(checkout: Path, into: Path) -> None:
    """A checkout's files at `into`; a bare repository (what `fetch` leaves) gives its HEAD's."""
    if (checkout / "dbt_project.yml").is_file():
        shutil.copytree(checkout, into, ignore=shutil.ignore_patterns(".git"))
        return
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "--git-dir", str(checkout), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def public_project(checkout: Path) -> Path:
    """A public dbt-duckdb project (`--project PATH`, its own profiles.yml), in the work folder."""
    name = checkout.name if checkout.name != "repo" else checkout.parent.name.split("+")[-1]
    fixture = WORK / "fixtures" / name
    shutil.rmtree(fixture, ignore_errors=True)
    checked_out(checkout, fixture)
    return fixture


def utils_fixture(checkout: Path) -> Path:
    """dbt_packages plus dbt_utils from `checkout`, in the work folder (never in the repository)."""
    fixture = WORK / "fixtures" / "dbt_utils_usage"
    shutil.rmtree(fixture, ignore_errors=True)
    shutil.copytree(HERE.parent / "tests" / "fixtures" / "dbt_packages", fixture)
    installed = fixture / "local_packages" / "dbt_utils"
    checked_out(checkout, installed)
    shutil.rmtree(installed / "integration_tests", ignore_errors=True)
    (fixture / "packages.yml").write_text("packages:\n  - local: local_packages/shop_utils\n  - local: local_packages/dbt_utils\n")
    (fixture / "models" / "utils_usage.sql").write_text(UTILS_MODEL)
    (fixture / "models" / "utils_usage.yml").write_text(UTILS_TESTS)
    return fixture


def main() -> None:
    if not DBT.exists():
        raise SystemExit(f"no dbt at {DBT} (see this script's docstring)")
    version = subprocess.run([str(DBT), "--version"], capture_output=True, text=True).stdout.split("installed:")[1].split()[0]
    print(f"dbt-core {version} + dbt-duckdb against fduck")
    fixtures = list(FIXTURES)
    if "--dbt-utils" in sys.argv:
        fixtures.append(utils_fixture(Path(sys.argv[sys.argv.index("--dbt-utils") + 1])))
    fixtures += [public_project(Path(sys.argv[i + 1])) for i, arg in enumerate(sys.argv) if arg == "--project"]
    try:
        results = {fixture.name: compare(fixture) for fixture in fixtures}
    except BuildFailed as failed:
        raise SystemExit(str(failed)) from None
    print("all projects identical" if all(results.values()) else
          "projects that differ: " + ", ".join(name for name, same in results.items() if not same))
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
