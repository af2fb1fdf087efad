"""`fduck test`: generic tests from YAML (built-in and custom), singular tests, severity,
where, store_failures and selection, on real DuckDB through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ProjectFactory, fduck

CUSTOMERS = "{{ config(materialized='table') }}\nselect * from (values (1, 'a'), (2, 'b'), (3, 'c')) as t(customer_id, name)\n"
# order 2 twice; customer 9 unknown; one NULL customer; a negative amount; status 'lost'
ORDERS = """{{ config(materialized='table') }}
select * from (values (1, 1, 'placed', 10.0), (2, 2, 'shipped', -5.0), (2, 9, 'lost', 3.0), (4, null, 'placed', 1.0))
  as t(order_id, customer_id, status, amount)
"""
SCHEMA = """version: 2
models:
  - name: orders
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: customer_id
        tests:
          - not_null:
              config: {severity: warn}
          - relationships: {to: ref('customers'), field: customer_id}
      - name: status
        data_tests:
          - accepted_values:
              arguments: {values: [placed, shipped]}
              config: {store_failures: true}
          - even_length
    tests:
      - expression: "amount >= 0"
      - expression:
          expression: "amount >= 0"
          where: "status <> 'shipped'"
          name: amount_positive_unless_shipped
  - name: customers
    columns:
      - name: customer_id
        tests: [unique, not_null]
"""
EVEN_LENGTH = """{% test even_length(model, column_name) %}
select * from {{ model }} where length({{ column_name }}) % 2 = 1
{% endtest %}
"""
SINGULAR = "{{ config(severity='warn') }}\nselect * from {{ ref('orders') }} where amount > 5\n"


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    root = make_project({
        "models/customers.sql": CUSTOMERS, "models/orders.sql": ORDERS, "models/schema.yml": SCHEMA,
        "tests/generic/even_length.sql": EVEN_LENGTH, "tests/assert_no_big_orders.sql": SINGULAR,
    })
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    return root


def _statuses(output: str) -> dict[str, str]:
    """test name -> PASS, WARN 1, FAIL 1, ERROR from the result lines."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[1] == "of" and parts[3] in ("PASS", "WARN", "FAIL", "ERROR"):
            status = parts[3] if parts[3] in ("PASS", "ERROR") else f"{parts[3]} {parts[4]}"
            found[parts[5] if parts[3] in ("WARN", "FAIL") else parts[4]] = status
    return found


def test_every_kind_of_test_reports_its_failing_rows(project: Path) -> None:
    result = fduck("test", "--project-dir", str(project))
    assert result.returncode == 1, result.stdout + result.stderr
    assert _statuses(result.stdout) == {
        "unique_orders_order_id": "FAIL 1",
        "not_null_orders_order_id": "PASS",
        "not_null_orders_customer_id": "WARN 1",
        "relationships_orders_customer_id__customer_id__ref_customers_": "FAIL 1",
        "accepted_values_orders_status__placed__shipped": "FAIL 1",
        "even_length_orders_status": "FAIL 1",
        "expression_orders_amount_0": "FAIL 1",
        "amount_positive_unless_shipped": "PASS",
        "unique_customers_customer_id": "PASS",
        "not_null_customers_customer_id": "PASS",
        "assert_no_big_orders": "WARN 1",
    }
    assert "Finished running 11 tests" in result.stdout and "4 pass, 2 warn, 5 fail, 0 error" in result.stdout
    assert "Failure in test relationships_orders_customer_id__customer_id__ref_customers_ (models/schema.yml)" in result.stdout
    assert "model orders, column customer_id: 1 failing rows" in result.stdout
    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT value_field, n_records FROM main_dbt_test__audit.accepted_values_orders_status__placed__shipped")
        assert stored.fetchall() == [("lost", 1)]
    results = json.loads((project / "target" / "run_results.json").read_text())
    assert results["args"]["command"] == "test"
    by_name = {r["name"]: r for r in results["results"]}
    assert by_name["unique_orders_order_id"]["status"] == "fail" and by_name["unique_orders_order_id"]["rows_affected"] == 1


@pytest.mark.slow
def test_warnings_alone_exit_zero_and_selection_picks_a_models_tests(project: Path) -> None:
    # as dbt's eager selection: the tests of customers, and a test of orders that refs customers
    result = fduck("test", "--project-dir", str(project), "--select", "customers")
    assert set(_statuses(result.stdout)) == {
        "unique_customers_customer_id", "not_null_customers_customer_id", "relationships_orders_customer_id__customer_id__ref_customers_",
    }
    (project / "models" / "orders.sql").write_text(ORDERS.replace("-5.0", "5.0").replace("(2, 9, 'lost', 3.0)", "(3, 3, 'placed', 3.0)"))
    (project / "models" / "schema.yml").write_text(SCHEMA.replace("- even_length", "- not_null"))
    assert fduck("run", "--project-dir", str(project)).returncode == 0
    result = fduck("test", "--project-dir", str(project), "--select", "orders")
    assert result.returncode == 0, result.stdout  # what fails now is warn-severity only
    assert "0 fail, 0 error" in result.stdout and "2 warn" in result.stdout


@pytest.mark.slow
def test_test_mistakes_are_clear_errors(make_project: ProjectFactory) -> None:
    schema = "models:\n  - name: m\n    columns:\n      - name: x\n        tests:\n          - dbt_utils.not_constant\n"
    root = make_project({"models/m.sql": "select 1 as x", "models/schema.yml": schema})
    result = fduck("test", "--project-dir", str(root))
    assert result.returncode == 2
    assert "models/schema.yml" in result.stderr
    assert "generic test 'dbt_utils.not_constant' comes from package 'dbt_utils', which is not installed" in result.stderr
    (root / "models" / "schema.yml").write_text(schema.replace("dbt_utils.not_constant", "no_such_test"))
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    result = fduck("test", "--project-dir", str(root))
    assert result.returncode == 1
    assert "ERROR no_such_test_m_x" in result.stdout and "test_no_such_test" in result.stdout
    (root / "models" / "schema.yml").write_text(schema.replace("dbt_utils.not_constant", "not_null: {severity: fatal}"))
    result = fduck("test", "--project-dir", str(root))
    assert result.returncode == 2 and "severity 'fatal'; use error or warn" in result.stderr


@pytest.mark.parametrize(("config", "status"), [
    ("fail_calc='sum(amount)'", "fail"),  # 13 (10 + 3), over error_if's default != 0
    ("fail_calc='sum(amount)', error_if='>20'", "warn"),  # warn_if's default still holds
    ("fail_calc='sum(amount)', error_if='>20', warn_if='>15'", "pass"),
    ("fail_calc='count(*)', severity='warn', error_if='>0'", "warn"),  # at warn severity error_if is not asked
])
def test_fail_calc_warn_if_and_error_if_decide_as_in_dbt(make_project: ProjectFactory, config: str, status: str) -> None:
    root = make_project({
        "models/orders.sql": ORDERS,
        "tests/positive_amounts.sql": "{{ config(" + config + ") }}\nselect amount from {{ ref('orders') }} where amount > 2",
    })
    assert fduck("run", cwd=root).returncode == 0
    fduck("test", cwd=root)
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results] == [status]
