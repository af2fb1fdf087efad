"""dbt's unit tests (`unit_tests:` in YAML) through `fduck test` and `fduck build`: a failing
one fails the command and, in a build, holds its model back; bad ones are errors naming
the file. tests/e2e/test_dbt_rendering.py runs passing ones on every engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES, fduck

FAILING = """
  - name: deliberately_wrong
    model: orders_since
    overrides:
      macros: {is_incremental: false}
    given:
      - input: ref('raw_orders')
        rows:
          - {id: 1, customer: ann, status: completed}
    expect:
      rows:
        - {id: 1, score: 11}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "features"
    shutil.copytree(FIXTURES / "dbt_features", root)
    return root


def _append_unit_test(root: Path, text: str) -> None:
    path = root / "models" / "unit_tests.yml"
    path.write_text(path.read_text() + text)


def _rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "target" / "features.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_failing_unit_test_fails_test_and_holds_its_model_back_in_build(project: Path) -> None:
    assert fduck("build", cwd=project).returncode == 0
    before = _rows(project, "SELECT * FROM main.orders_since ORDER BY id")
    (project / "seeds" / "raw_orders.csv").write_text("id,customer,status\n1,ann,completed\n4,dan,completed\n")
    _append_unit_test(project, FAILING)
    tested = fduck("test", cwd=project)
    assert tested.returncode == 1
    assert "FAIL 2 deliberately_wrong" in tested.stdout
    assert "+ actual: {'id': 1, 'score': 10}" in tested.stdout and "- expected: {'id': 1, 'score': 11}" in tested.stdout
    built = fduck("build", cwd=project)
    assert built.returncode == 1
    outcomes = {r["unique_id"]: r for r in json.loads((project / "target" / "run_results.json").read_text())["results"]}
    assert outcomes["unit_test.features.orders_since.deliberately_wrong"]["status"] == "fail"
    assert outcomes["unit_test.features.orders_since.full_build_reads_all"]["status"] == "pass"
    model = outcomes["model.features.orders_since"]
    assert model["status"] == "skipped" and "deliberately_wrong" in model["message"]
    # held back: the table is the one built before, not one from the new seed rows
    assert _rows(project, "SELECT * FROM main.orders_since ORDER BY id") == before


def test_an_incremental_unit_test_reads_given_this(project: Path) -> None:
    assert fduck("build", cwd=project).returncode == 0  # `this` is typed as the built table, as in dbt
    _append_unit_test(project, """
  - name: new_orders_only
    model: orders_since
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('raw_orders')
        format: csv
        rows: |
          id,customer,status
          1,ann,completed
          2,bob,returned
          3,cy,completed
      - input: this
        rows:
          - {id: 2}
    expect:
      rows:
        - {id: 3, customer: cy}
""")
    result = fduck("test", "--select", "orders_since", cwd=project)
    assert result.returncode == 0, result.stdout
    assert "PASS new_orders_only" in result.stdout


@pytest.mark.parametrize(("entry", "message"), [
    ("  - name: bad_column\n    model: orders_since\n    overrides: {macros: {is_incremental: false}}\n"
     "    given:\n      - input: ref('raw_orders')\n        rows: [{idd: 1}]\n    expect: {rows: []}\n",
     "unit test 'bad_column' input ref('raw_orders'): no column 'idd'"),
    ("  - name: no_input\n    model: orders_since\n    overrides: {macros: {is_incremental: false}}\n"
     "    given: []\n    expect: {rows: []}\n",
     "model 'orders_since' reads ref('raw_orders') with no `given` input"),
])
def test_a_unit_test_that_cannot_run_is_an_error_naming_it(project: Path, entry: str, message: str) -> None:
    assert fduck("build", cwd=project).returncode == 0
    _append_unit_test(project, entry)
    result = fduck("test", cwd=project)
    assert result.returncode == 1
    assert message in result.stdout.replace("\n", " ")


@pytest.mark.parametrize(("entry", "message"), [
    ("  - name: t\n    model: order_paymentz\n    given: []\n    expect: {rows: []}\n",
     "unit test 't' names unknown model 'order_paymentz'"),
    ("  - name: t\n    model: orders_since\n    given:\n      - input: ref('nope')\n        rows: []\n    expect: {rows: []}\n",
     "unit test 't' input ref('nope'): no model or seed 'nope'"),
])
def test_a_unit_test_naming_what_is_not_there_fails_the_load(project: Path, entry: str, message: str) -> None:
    _append_unit_test(project, entry)
    result = fduck("compile", cwd=project)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "models/unit_tests.yml" in result.stdout + result.stderr
