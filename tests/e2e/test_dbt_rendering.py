"""What dbt decides while it renders, on every engine: Jinja in the YAML, the project's
generate_schema_name, two-phase rendering (`execute`, run_query, statement blocks,
adapter.get_columns_in_relation), `{{ this }}` inside strings, and a build's results.
tests/fixtures/dbt_features holds the project; benchmarks/compare_dbt.py shows dbt
building the same tables from it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, FIXTURES, fduck, write_engine_profile


def _project(tmp_path: Path, target: str, request: pytest.FixtureRequest) -> tuple[Path, dict[str, str], str]:
    """The fixture for `target`, its vars (a raw schema of the test's own) and its schema."""
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    if target != "dev":
        write_engine_profile(target, root, request, "features")
        text = (root / "dbt_project.yml").read_text().replace("profile: features", "profile: default")
        (root / "dbt_project.yml").write_text(text)
    schema = Project.load(root, target=target).target.schema
    return root, {"raw_schema": f"{schema}_raw"}, schema


def _rows(project: Project, sql: str) -> list[tuple[Any, ...]]:
    with project.session() as session:
        return sorted(tuple(row) for row in session.adapter.execute(sql))


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_a_project_rendered_as_dbt_renders_it(tmp_path: Path, target: str, request: pytest.FixtureRequest) -> None:
    root, project_vars, schema = _project(tmp_path, target, request)
    project = Project.load(root, target=target, vars=project_vars)
    results, tests = project.build()
    assert [r.name for r in results.results if r.status != "success"] == []
    assert sorted((t.test.name, t.status) for t in tests) == [
        ("accepted_values_relation_names_this_identifier__relation_names", "pass"), ("default_weight", "pass"),
        ("full_build_reads_all", "pass"), ("not_null_order_payments_order_id", "pass"),
        ("not_null_order_payments_total_amount", "pass"), ("payments_add_up", "pass"),
        ("the_default_var_overridden", "pass"), ("unique_order_payments_order_id", "pass"),
    ]
    raw = project_vars["raw_schema"]
    # generate_schema_name: seeds in the custom schema as written; models in the default <schema>_<custom>
    assert project.compile().models["order_payments"].relation.schema == f"{schema}_marts"
    assert _rows(project, f"SELECT count(*) FROM {raw}.raw_payments") == [(5,)]
    # the pivot: a column per payment method found by run_query at run time
    assert _rows(project, f"SELECT * FROM {schema}_marts.order_payments") == [
        (1, "ann", 0, 5, 10, 0, 15), (2, "bob", 7, 0, 0, 0, 7), (3, "cy", 0, 0, 3, 2, 5)]
    with project.session() as session:
        columns = [name for name, _ in session.adapter.columns(project.compile().models["order_payments"].relation.to_table())]
    assert columns == ["order_id", "customer", "bank_transfer_amount", "coupon_amount", "credit_card_amount",
                       "gift_card_amount", "total_amount"]
    # adapter.get_columns_in_relation and a statement's load_result
    assert _rows(project, f"SELECT * FROM {schema}.payment_columns") == [
        ("amount", 3, 5), ("order_id", 1, 5), ("payment_method", 2, 5)]
    # {{ this }} and ref() inside strings: the relations' names, as the engine's dbt adapter prints them
    [(this, identifier, read_from, default)] = _rows(project, f"SELECT * FROM {schema}.relation_names")
    assert identifier == "relation_names" and default == 7
    quote = "`" if target == "spark" else '"'
    own = f"{quote}{schema}{quote}.{quote}relation_names{quote}"
    assert this.endswith(own)
    database = this[: -len(own)]  # the database and a dot, or nothing on Spark
    assert database == ("" if target == "spark" else f'"{project.target.database}".')
    assert read_from == f"built from {database}{quote}{raw}{quote}.{quote}raw_orders{quote}"
    # the folder's rendered `+enabled` is false unless the var says otherwise
    assert "not_loaded" in project.compile().disabled
    # hooks: on-run-start made the log, the model's pre- and post-hook wrote to it, on-run-end saw every result
    assert _rows(project, f"SELECT event, n FROM {schema}.run_log") == [
        ("before orders_since", 0), ("built orders_since", 3), ("nodes run", 15), ("succeeded", 15)]


def test_yaml_jinja_config_follows_vars_and_target(tmp_path: Path) -> None:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    listed = [json.loads(line) for line in fduck("ls", "--output", "json", cwd=root).stdout.splitlines()]
    tags = {node["name"]: node.get("tags") for node in listed if node["resource_type"] == "model"}
    assert tags["relation_names"] == ["dev", "always"]
    assert "not_loaded" not in tags
    enabled = [json.loads(line) for line in fduck("ls", "--output", "json", "--vars", "{load_extra: true}", cwd=root).stdout.splitlines()]
    assert "not_loaded" in {node["name"] for node in enabled}
    # the marts' materialization is Jinja on target.name
    assert Project.load(root).compile().models["order_payments"].materialized == "table"


def test_build_results_list_tests_and_skip_those_of_failed_models(tmp_path: Path) -> None:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    (root / "models" / "relation_names.sql").write_text("select * from a_table_that_is_not_there")
    result = fduck("build", cwd=root)
    assert result.returncode == 1
    assert "SKIP accepted_values_relation_names_this_identifier__relation_names" in result.stdout.replace("\n", " ")
    recorded = json.loads((root / "target" / "run_results.json").read_text())["results"]
    outcomes = {r["unique_id"]: r["status"] for r in recorded}
    # its unit test runs first and fails to run, which holds the model back, as in dbt
    assert outcomes["unit_test.features.relation_names.the_default_var_overridden"] == "error"
    assert outcomes["model.features.relation_names"] == "skipped"
    assert outcomes["test.features.accepted_values_relation_names_this_identifier__relation_names"] == "skipped"
    assert outcomes["test.features.unique_order_payments_order_id"] == "pass"
    assert sum(1 for uid in outcomes if uid.startswith("test.")) == 5
    # a model that fails to build: its tests are skipped too
    (root / "models" / "unit_tests.yml").unlink()
    assert fduck("build", cwd=root).returncode == 1
    recorded = json.loads((root / "target" / "run_results.json").read_text())["results"]
    outcomes = {r["unique_id"]: r["status"] for r in recorded}
    assert outcomes["model.features.relation_names"] == "error"
    assert outcomes["test.features.accepted_values_relation_names_this_identifier__relation_names"] == "skipped"


def test_a_ref_seen_only_at_run_time_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    (root / "models" / "late_ref.sql").write_text(
        "select 1 as x {% if execute %} from {{ ref('relation_names') }}{% endif %}")
    result = fduck("build", cwd=root)
    assert result.returncode == 1
    assert "ref('relation_names') appears only when `execute` is true" in result.stdout
    assert "depends_on" in result.stdout


def test_a_run_time_render_is_never_served_from_the_run_cache(tmp_path: Path) -> None:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    assert fduck("build", cwd=root).returncode == 0
    (root / "seeds" / "raw_payments.csv").write_text(
        "order_id,payment_method,amount\n1,credit_card,10\n2,voucher,4\n3,credit_card,3\n")
    assert fduck("seed", cwd=root).returncode == 0
    second = fduck("run", cwd=root)
    assert second.returncode == 0, second.stdout
    project = Project.load(root)
    with project.session() as session:
        columns = [name for name, _ in session.adapter.columns(project.compile().models["order_payments"].relation.to_table())]
    assert columns == ["order_id", "customer", "credit_card_amount", "voucher_amount", "total_amount"]


def test_hooks_fail_loudly_and_are_never_cached(tmp_path: Path) -> None:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    assert fduck("build", cwd=root).returncode == 0
    again = fduck("run", cwd=root)
    assert "CACHED incremental model main.orders_since" not in again.stdout  # its hooks run every time, as in dbt
    model = root / "models" / "orders_since.sql"
    model.write_text(model.read_text().replace("pre_hook=\"insert into", "pre_hook=\"insert into no_such_schema.x select 1; insert into"))
    failed = fduck("run", "--select", "orders_since", cwd=root)
    assert failed.returncode == 1
    assert "pre-hook 1 of model 'orders_since' failed" in failed.stdout
    project_file = root / "dbt_project.yml"
    project_file.write_text(project_file.read_text().replace("select 'nodes run'", "select 'nodes run' from no_such_table"))
    ended = fduck("run", "--select", "relation_names", cwd=root)
    assert ended.returncode == 1 and "dbt_project.yml:20: on-run-end hook 1 failed" in ended.stderr
    recorded = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [(r["unique_id"], r["status"]) for r in recorded if r["unique_id"].startswith("operation.")] == [
        ("operation.features.features-on-run-start-0", "success"), ("operation.features.features-on-run-end-0", "error"),
        ("operation.features.features-on-run-end-1", "success")]
