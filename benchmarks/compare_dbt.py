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
        [--package NAME=PATH ...] [--skip-fixtures]   # dbt_date, dbt_expectations, audit_helper, dbt_utils
        [--jaffle-shop CHECKOUT JAFGEN-DATA-DIR]      # dbt-labs/jaffle-shop, with its packages given by --package
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
        result = subprocess.run(tool_command(tool, command, folder), capture_output=True, text=True, cwd=folder)
        written = (folder / "target" / "run_results.json").is_file() and command == "build"
        if result.returncode != 0 and not (allow_failures and written):
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
            raise BuildFailed(f"{tool} {command} of {fixture.name} failed:\n{tail}")
    results = json.loads((folder / "target" / "run_results.json").read_text())["results"]
    return {_node_key(r["unique_id"]): OUTCOME.get(r["status"], r["status"]) for r in results}


def tool_command(tool: str, command: str, folder: Path) -> list[str]:
    """`dbt COMMAND` (in its venv) or `fduck COMMAND` on the project in `folder`."""
    if tool == "dbt":
        return [str(DBT), command, "--project-dir", str(folder), "--profiles-dir", str(folder)]
    return [sys.executable, "-m", "featureduck.cli", command, "--project-dir", str(folder)]


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


def checked_out(checkout: Path, into: Path, leave_out: str | None = None) -> None:
    """A checkout's files at `into`; a bare repository (what `fetch` leaves) gives its HEAD's,
    but for the folder `leave_out` (whose files a snapshot may lack)."""
    if (checkout / "dbt_project.yml").is_file():
        shutil.copytree(checkout, into, ignore=shutil.ignore_patterns(".git"))
        return
    into.mkdir(parents=True)
    git = ["git", "--git-dir", str(checkout)]
    files = subprocess.run([*git, "ls-tree", "-r", "--name-only", "HEAD"], check=True, capture_output=True, text=True).stdout.split()
    kept = [f for f in files if leave_out is None or not f.startswith(leave_out + "/")]
    archive = subprocess.run([*git, "archive", "HEAD", "--", *kept], check=True, capture_output=True).stdout
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


# With `--package NAME=PATH` (repeatable: dbt_date, dbt_expectations, audit_helper, each a
# checkout or bare clone): the packages fixture with them installed as local packages (their
# own packages.yml dropped: each dependency is given the same way), a model or tests using each.
PACKAGE_USES = {
    "dbt_date": {"models/date_usage.sql": """
select
    id,
    {{ dbt_date.day_of_week('ordered_at') }} as day_of_week,
    {{ dbt_date.day_name('ordered_at', short=false) }} as day_name,
    {{ dbt_date.day_of_month('ordered_at') }} as day_of_month,
    {{ dbt_date.day_of_year('ordered_at') }} as day_of_year,
    {{ dbt_date.iso_week_of_year('ordered_at') }} as iso_week,
    {{ dbt_date.week_start('ordered_at') }} as week_start,
    {{ dbt_date.month_name('ordered_at', short=true) }} as month_short,
    {{ dbt_date.to_unixtimestamp('ordered_at') }} as unix_seconds,
    {{ dbt_date.periods_since('ordered_at', period_name='day', tz='UTC') }} >= 0 as in_the_past
from {{ ref('orders') }}
""", "models/date_dimension.sql": "{{ dbt_date.get_date_dimension('2024-01-01', '2024-01-15') }}\n"},
    "dbt_expectations": {"models/expected_facts.sql": "select * from {{ ref('order_facts') }}\n", "models/expectations.yml": """
version: 2
models:
  - name: expected_facts
    data_tests:
      - dbt_expectations.expect_table_row_count_to_equal: {arguments: {value: 3}}
      - dbt_expectations.expect_compound_columns_to_be_unique: {arguments: {column_list: [id, customer]}}
    columns:
      - name: amount
        data_tests:
          - dbt_expectations.expect_column_values_to_be_between: {arguments: {min_value: 0, max_value: 10}}
          - dbt_expectations.expect_column_mean_to_be_between: {arguments: {min_value: 1, max_value: 100}}
      - name: customer
        data_tests:
          - dbt_expectations.expect_column_values_to_match_regex: {arguments: {regex: "^[a-z]+$"}}
          - dbt_expectations.expect_column_distinct_count_to_equal: {arguments: {value: 3}}
          - dbt_expectations.expect_column_values_to_be_in_set: {arguments: {value_set: [ann, bob]}}
          - dbt_expectations.expect_column_value_lengths_to_be_between: {arguments: {min_value: 2, max_value: 3}}
"""},
    "audit_helper": {"models/audit_facts.sql": """
{{ config(materialized='table') }}
{{ audit_helper.compare_relations(a_relation=ref('order_facts'), b_relation=ref('order_facts_copy'), primary_key='id') }}
""", "models/order_facts_copy.sql": "select * from {{ ref('order_facts') }} where id < 3\n",
        "models/audit_columns.sql": """
{{ config(materialized='table') }}
{{ audit_helper.compare_column_values(a_query="select * from " ~ ref('order_facts'),
                                      b_query="select * from " ~ ref('order_facts_copy'),
                                      primary_key='id', column_to_compare='amount') }}
"""},
}


def packages_fixture(checkouts: dict[str, Path]) -> Path:
    """dbt_packages plus the named packages from their checkouts, in the work folder."""
    fixture = WORK / "fixtures" / "packages_usage"
    shutil.rmtree(fixture, ignore_errors=True)
    shutil.copytree(HERE.parent / "tests" / "fixtures" / "dbt_packages", fixture)
    install_locally(fixture, checkouts, ["shop_utils"])
    for name in checkouts:
        for file, text in PACKAGE_USES.get(name, {}).items():
            (fixture / file).write_text(text)
    return fixture


def install_locally(fixture: Path, checkouts: dict[str, Path], present: list[str]) -> None:
    """Each package's checkout in local_packages/, its own dependencies dropped (each is
    given the same way, offline), and packages.yml naming them all (with those `present`)."""
    for name, checkout in checkouts.items():
        installed = fixture / "local_packages" / name
        checked_out(checkout, installed)
        for extra in ("integration_tests", "packages.yml", "dependencies.yml", "docs"):
            target = installed / extra
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    entries = [f"  - local: local_packages/{name}" for name in [*present, *checkouts]]
    (fixture / "packages.yml").write_text("packages:\n" + "\n".join(entries) + "\n")


JAFFLE_PROFILE = "default:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: jaffle.duckdb, threads: 4}\n"


def jaffle_shop_fixture(checkout: Path, data: Path, packages: dict[str, Path]) -> Path:
    """dbt-labs/jaffle-shop as published, given what it expects from elsewhere: its data (the
    CSVs `jafgen` writes, in seeds/jaffle-data, as the repository keeps them; loaded as its
    `load_source_data` var intends),
    a DuckDB profile, and its packages installed locally (`--package`, offline)."""
    fixture = WORK / "fixtures" / "jaffle-shop"
    shutil.rmtree(fixture, ignore_errors=True)
    checked_out(checkout, fixture, leave_out="seeds/jaffle-data")
    shutil.copytree(data, fixture / "seeds" / "jaffle-data")
    project = fixture / "dbt_project.yml"
    project.write_text(project.read_text().replace("var('load_source_data', false)", "var('load_source_data', true)"))
    (fixture / "profiles.yml").write_text(JAFFLE_PROFILE)
    install_locally(fixture, packages, [])
    (fixture / "package-lock.yml").unlink(missing_ok=True)
    return fixture


def main() -> None:
    if not DBT.exists():
        raise SystemExit(f"no dbt at {DBT} (see this script's docstring)")
    version = subprocess.run([str(DBT), "--version"], capture_output=True, text=True).stdout.split("installed:")[1].split()[0]
    print(f"dbt-core {version} + dbt-duckdb against fduck")
    fixtures = [] if "--skip-fixtures" in sys.argv else list(FIXTURES)  # only the projects asked for
    if "--dbt-utils" in sys.argv:
        fixtures.append(utils_fixture(Path(sys.argv[sys.argv.index("--dbt-utils") + 1])))
    fixtures += [public_project(Path(sys.argv[i + 1])) for i, arg in enumerate(sys.argv) if arg == "--project"]
    packages = dict(sys.argv[i + 1].split("=", 1) for i, arg in enumerate(sys.argv) if arg == "--package")
    if "--jaffle-shop" in sys.argv:  # CHECKOUT DATA-DIR, with --package dbt_utils, dbt_date and audit_helper
        at = sys.argv.index("--jaffle-shop")
        wanted = {name: Path(path) for name, path in packages.items() if name in ("dbt_utils", "dbt_date", "audit_helper")}
        fixtures.append(jaffle_shop_fixture(Path(sys.argv[at + 1]), Path(sys.argv[at + 2]), wanted))
    elif packages:
        fixtures.append(packages_fixture({name: Path(path) for name, path in packages.items()}))
    try:
        # packages_usage holds a test failing on purpose: both tools must fail it alike
        # jaffle-shop's models read its seeds as sources: seeded first, as its README says
        results = {fixture.name: compare(fixture, allow_failures=fixture.name == "packages_usage",
                                         seed_first=fixture.name == "jaffle-shop") for fixture in fixtures}
    except BuildFailed as failed:
        raise SystemExit(str(failed)) from None
    print("all projects identical" if all(results.values()) else
          "projects that differ: " + ", ".join(name for name, same in results.items() if not same))
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
