"""The fixture suites of dbt-tests-adapter built by dbt and by fduck, side by side.

dbt's adapter test suites (the PyPI package dbt-tests-adapter) hold their
projects as Python strings: seeds, models, macros, tests, snapshots and the
project config each suite class's pytest fixtures return. This script
downloads the wheel, has dbt's own Python read each suite's fixtures (the
classes import pytest and dbt), writes each suite as a project under
benchmarks/work/suites/, then runs compare_dbt.compare on it: `seed` then
`build` with each tool (the suites seed before they run: their models read
the seeds as sources), every relation and every node outcome. It reports each suite
identical, different, or which tool could not build it.

    benchmarks/work/dbt-venv/bin/pip install pytest   # the suites import it
    python benchmarks/compare_adapter_suites.py [SUITE-PREFIX ...]
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_dbt  # noqa: E402 - the side-by-side builder, beside this script

HERE = Path(__file__).resolve().parent
WHEELS = HERE / "work" / "dbt-tests-adapter"
SUITES = HERE / "work" / "suites"
VERSION = "1.20.0"

# module, class: the suites run here (basic, ephemeral, incremental, snapshots, generic and
# singular tests, adapter methods, and every cross-database macro suite of utils)
BASIC = [
    ("basic.test_base", "BaseSimpleMaterializations"), ("basic.test_ephemeral", "BaseEphemeral"),
    ("basic.test_incremental", "BaseIncremental"), ("basic.test_generic_tests", "BaseGenericTests"),
    ("basic.test_singular_tests", "BaseSingularTests"), ("basic.test_singular_tests_ephemeral", "BaseSingularTestsEphemeral"),
    ("basic.test_snapshot_check_cols", "BaseSnapshotCheckCols"), ("basic.test_snapshot_timestamp", "BaseSnapshotTimestamp"),
    ("basic.test_adapter_methods", "BaseAdapterMethod"), ("basic.test_table_materialization", "BaseTableMaterialization"),
]
UTILS = ["any_value", "array_append", "array_concat", "array_construct", "bool_or", "cast", "cast_bool_to_text", "concat",
         "current_timestamp", "date", "date_spine", "date_trunc", "dateadd", "datediff", "equals", "escape_single_quotes",
         "except", "generate_series", "get_intervals_between", "get_powers_of_two", "hash", "intersect", "last_day", "length",
         "listagg", "null_compare", "position", "replace", "right", "safe_cast", "split_part", "string_literal"]

# Run by dbt's Python: each suite class's fixtures, as JSON ({suite: {kind: {file: text}}}).
EXPORT = r"""
import importlib, inspect, json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for spec in json.loads(sys.argv[2]):
    module_name, class_name = spec
    try:
        module = importlib.import_module("dbt.tests.adapter." + module_name)
    except Exception as err:
        out[class_name] = {"error": f"import: {err}"}
        continue
    wanted = lambda n: n == class_name or (class_name == "*" and n.startswith("Test"))
    classes = [c for n, c in vars(module).items() if inspect.isclass(c) and wanted(n)]
    for cls in classes:
        instance, found = cls(), {}
        for kind in ("seeds", "models", "macros", "tests", "snapshots", "project_config_update", "properties"):
            fixture = getattr(cls, kind, None)
            function = getattr(fixture, "__pytest_wrapped__", None)
            function = function.obj if function is not None else getattr(fixture, "_get_wrapped_function", lambda: None)()
            if function is None:
                continue
            try:
                found[kind] = function(instance)
            except TypeError:
                continue
        out[f"{module_name.split('.')[-1]}.{cls.__name__}"] = found
print(json.dumps(out, default=str))
"""


def wheel_folder() -> Path:
    unpacked = WHEELS / VERSION
    if not unpacked.is_dir():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(WHEELS), f"dbt-tests-adapter=={VERSION}"],
                       check=True)
        wheel = next(WHEELS.glob(f"dbt_tests_adapter-{VERSION}-*.whl"))
        shutil.unpack_archive(str(wheel), str(unpacked), "zip")
    return unpacked


def exported() -> dict[str, dict[str, object]]:
    specs = [list(spec) for spec in BASIC] + [[f"utils.test_{name}", "*"] for name in UTILS]
    python = str(compare_dbt.DBT.parent / "python")
    result = subprocess.run([python, "-c", EXPORT, str(wheel_folder()), json.dumps(specs)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"reading the suites failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def write_suite(name: str, fixtures: dict[str, object]) -> Path:
    """One suite as a dbt-duckdb project, named as its class."""
    root = SUITES / name
    shutil.rmtree(root, ignore_errors=True)
    folders = {"seeds": "seeds", "models": "models", "macros": "macros", "tests": "tests", "snapshots": "snapshots"}
    for kind, folder in folders.items():
        _write_tree(root / folder, fixtures.get(kind) or {})
    config = {"name": "suite", "config-version": 2, "profile": "suite"}
    update = fixtures.get("project_config_update") or {}
    if isinstance(update, dict):
        config.update({k: v for k, v in update.items() if k != "name"})
    (root / "dbt_project.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    profile = {"suite": {"target": "dev", "outputs": {"dev": {"type": "duckdb", "path": "target/suite.duckdb", "threads": 1}}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    return root


def _write_tree(folder: Path, files: object) -> None:
    if not isinstance(files, dict):
        return
    for name, content in files.items():
        if isinstance(content, dict):
            _write_tree(folder / name, content)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(str(content))


def main() -> None:
    wanted = sys.argv[1:]
    outcomes: dict[str, str] = {}
    for name, fixtures in sorted(exported().items()):
        if wanted and not any(name.startswith(prefix) for prefix in wanted):
            continue
        if "error" in fixtures:
            outcomes[name] = f"not read: {fixtures['error']}"
            continue
        root = write_suite(name, fixtures)
        shown = io.StringIO()
        try:
            with contextlib.redirect_stdout(shown):
                same = compare_dbt.compare(root, allow_failures=True, seed_first=True)
            outcomes[name] = "identical" if same else "DIFFERENT"
        except compare_dbt.BuildFailed as failed:
            outcomes[name] = "FAILED: " + " / ".join(line.strip() for line in str(failed).splitlines()[:1] + str(failed).splitlines()[-2:])
        if outcomes[name] != "identical":
            print(shown.getvalue(), end="")
        print(f"{name:<48} {outcomes[name]}", flush=True)
    same = sum(1 for o in outcomes.values() if o == "identical")
    print(f"{same} of {len(outcomes)} suites identical")


if __name__ == "__main__":
    main()
