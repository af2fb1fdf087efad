"""The habits dbt users bring: `parse`, `retry`, `--fail-fast`, `source freshness`, global
options before the command and several selectors after one `-s`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, fduck

# two independent chains; `broken` fails when the variable `fail` is set
MODELS = {
    "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
    "models/a_child.sql": "select id from {{ ref('a') }}",
    "models/broken.sql": "{{ config(materialized='table') }}\n"
                         "select {{ \"error('broken on purpose')::int\" if var('fail', false) else '1' }} as id",
    "models/broken_child.sql": "{{ config(materialized='table') }} select id from {{ ref('broken') }}",
    "models/schema.yml": """
        models:
          - name: a
            columns:
              - {name: id, tests: [not_null, {accepted_values: {values: [2]}}]}
          - name: a_child
            columns:
              - {name: id, tests: [unique]}
        """,
}


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project(MODELS)


def results_of(root: Path) -> dict[str, str]:
    payload = json.loads((root / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".", 2)[2]: r["status"] for r in payload["results"]}


def test_parse_validates_everything_and_writes_the_manifest(project: Path) -> None:
    parsed = fduck("parse", cwd=project)
    assert parsed.returncode == 0, parsed.stderr
    assert "Parsed 4 models, 3 tests in" in parsed.stdout
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert set(manifest["nodes"]) == {f"model.proj.{n}" for n in ("a", "a_child", "broken", "broken_child")}
    assert not (project / "target" / "compiled").exists()  # parse compiles in memory: the SQL files are compile's
    (project / "models" / "bad.sql").write_text("select * from {{ ref('nope') }}")
    failed = fduck("parse", cwd=project)
    assert failed.returncode == 1 and "models/bad.sql:1: unknown ref 'nope'" in failed.stderr


def test_retry_reruns_only_what_failed_or_was_skipped(project: Path) -> None:
    assert "nothing to retry" in fduck("retry", cwd=project).stderr
    first = fduck("run", "--vars", "{fail: true}", cwd=project)
    assert first.returncode == 1
    assert results_of(project) == {"a": "success", "a_child": "success", "broken": "error", "broken_child": "skipped"}
    retried = fduck("retry", cwd=project)  # the variable is gone: what failed now builds
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "Retrying 2 nodes of the last `fduck run`" in retried.stdout
    assert results_of(project) == {"broken": "success", "broken_child": "success"}
    assert "Nothing to retry" in fduck("retry", cwd=project).stdout


def test_retry_after_test_reruns_the_failing_tests(project: Path) -> None:
    assert fduck("run", cwd=project).returncode == 0
    assert fduck("test", cwd=project).returncode == 1  # accepted_values [2] fails on 1
    retried = fduck("retry", cwd=project)
    assert "Retrying 1 node of the last `fduck test`" in retried.stdout and retried.returncode == 1
    assert results_of(project) == {"accepted_values_a_id__2": "fail"}


def test_fail_fast_stops_a_run_at_the_first_failure(project: Path) -> None:
    stopped = fduck("run", "--fail-fast", "--threads", "1", "--vars", "{fail: true}", cwd=project)
    assert stopped.returncode == 1
    statuses = results_of(project)
    # the roots start first (a, then broken): broken's failure stops the run before a_child starts
    assert statuses == {"a": "success", "broken": "error", "a_child": "skipped", "broken_child": "skipped"}
    (project / "models" / "a.sql").write_text(MODELS["models/broken.sql"])
    stopped = fduck("run", "--fail-fast", "--threads", "1", "--vars", "{fail: true}", cwd=project)
    statuses = results_of(project)
    assert statuses["a"] == "error" and statuses["broken"] == "skipped" and statuses["a_child"] == "skipped"
    payload = json.loads((project / "target" / "run_results.json").read_text())
    messages = {r["unique_id"]: r["message"] for r in payload["results"]}
    assert messages["model.proj.broken"] == "skipped: --fail-fast stopped the run when 'a' failed"


def test_fail_fast_stops_tests_and_builds(project: Path) -> None:
    assert fduck("run", cwd=project).returncode == 0
    tested = fduck("test", "--fail-fast", "--threads", "1", cwd=project)
    statuses = results_of(project)
    # in declaration order: not_null passes, accepted_values fails, unique never starts
    assert tested.returncode == 1
    assert statuses == {"not_null_a_id": "pass", "accepted_values_a_id__2": "fail", "unique_a_child_id": "skipped"}
    built = fduck("build", "-x", "--threads", "1", "--no-cache", cwd=project)
    statuses = results_of(project)
    assert built.returncode == 1
    # a's failing test stops the build: nothing after it starts
    assert statuses["a"] == "success" and statuses["accepted_values_a_id__2"] == "fail"
    assert statuses["broken"] == "skipped" and statuses["broken_child"] == "skipped"


def test_source_freshness_checks_sources_as_dbt_spells_it(make_project: ProjectFactory) -> None:
    root = make_project({
        "data/events.csv": "id,loaded_at\n1,2020-01-01 00:00:00\n",
        "data/users.csv": "id,loaded_at\n1,2999-01-01 00:00:00\n",
        "sources/app.yml": """
            sources:
              - name: app
                loaded_at_field: loaded_at
                freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 1, period: day}}
                tables:
                  - {name: events, format: csv, path: data/events.csv}
                  - {name: users, format: csv, path: data/users.csv}
                  - {name: unchecked, format: csv, path: data/users.csv, freshness: null}
            """,
    })
    checked = fduck("source", "freshness", "--output", "json", cwd=root)
    assert checked.returncode == 1  # events is years old
    assert {r["name"]: r["status"] for r in json.loads(checked.stdout)} == {"app.events": "error", "app.users": "pass"}
    written = json.loads((root / "target" / "sources.json").read_text())
    assert {r["unique_id"]: r["status"] for r in written["results"]} == {"source.proj.app.events": "error",
                                                                         "source.proj.app.users": "pass"}
    assert written["results"][0]["criteria"] == {"warn_after": 43200, "error_after": 86400}
    only = fduck("source", "freshness", "-s", "source:app.users", cwd=root)
    assert only.returncode == 0 and "app.users" in only.stdout and "app.events" not in only.stdout


def test_global_options_before_the_command_and_several_selectors(project: Path, tmp_path: Path) -> None:
    listed = fduck("--project-dir", str(project), "ls", "-s", "a", "broken", "--resource-type", "model", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["model.proj.a", "model.proj.broken"]
    listed = fduck("ls", "--select", "a+", "broken", "--exclude", "a_child", "broken", "--resource-type", "model", cwd=project)
    assert listed.stdout.split() == ["model.proj.a"]
    # a command's own option wins over the one before it
    assert fduck("--vars", "{fail: true}", "run", "--vars", "{fail: false}", "-s", "broken", cwd=project).returncode == 0
    failed = fduck("--debug", "--vars", "{fail: true}", "run", "-s", "broken", cwd=project)
    assert "Traceback" not in failed.stderr and failed.returncode == 1  # a model's error is no traceback, even with --debug
    assert results_of(project) == {"broken": "error"}


def test_a_named_profile_that_no_profiles_file_holds_is_an_error(make_project: ProjectFactory) -> None:
    root = make_project({"featureduck_project.yml": "name: proj\nprofile: warehouse\n", "models/a.sql": "select 1 as id"})
    ran = fduck("run", cwd=root)
    assert ran.returncode == 2 and not (root / "target" / "dev.duckdb").exists()  # never built on a default elsewhere
    assert "profile 'warehouse' (named by the project file) was not found: there is no profiles.yml" in ran.stderr
    (root / "featureduck_project.yml").write_text("name: proj\n")  # no profile named: the built-in DuckDB target
    assert fduck("run", cwd=root).returncode == 0


def test_commands_that_read_no_profile_offer_no_profile_options() -> None:
    for command in ("clean", "deps"):
        shown = fduck(command, "--help").stdout
        assert "--project-dir" in shown and "--target" not in shown and "--profiles-dir" not in shown and "--vars" not in shown
