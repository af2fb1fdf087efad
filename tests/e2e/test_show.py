"""`fduck show`: a model's or an inline query's first rows, as dbt's show gives them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, fduck


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    root = make_project({
        "models/numbers.sql": "{{ config(materialized='table') }}\nselect i as n, 'row ' || i as label from range(1, 21) t(i)",
        "models/evens.sql": "select n from {{ ref('numbers') }} where n % 2 = 0",  # a view never built: shown from its query
    })
    assert fduck("run", "-s", "numbers", cwd=root).returncode == 0
    return root


def test_show_runs_a_models_query_with_a_limit(project: Path) -> None:
    shown = fduck("show", "evens", "--output", "json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == [{"n": 2}, {"n": 4}, {"n": 6}, {"n": 8}, {"n": 10}]  # dbt's default limit: 5
    table = fduck("show", "numbers", "--limit", "2", cwd=project).stdout
    assert "┃ n ┃ label" in table and "│ 1 │ row 1 │" in table and "row 3" not in table


def test_show_takes_an_inline_query_with_refs(project: Path) -> None:
    shown = fduck("show", "--inline", "select count(*) as total, max(n) as top from {{ ref('numbers') }}", "--output", "json",
                  cwd=project)
    assert json.loads(shown.stdout) == [{"total": 20, "top": 20}]


@pytest.mark.parametrize(("args", "code", "message"), [
    (("show", "nope"), 2, "no model 'nope' to show"),
    (("show",), 2, "show needs a model or --inline SQL"),
    (("show", "--inline", "select * from {{ ref('nope') }}"), 1, "<--inline>:1: unknown ref 'nope'"),
])
def test_show_names_what_is_wrong(project: Path, args: tuple[str, ...], code: int, message: str) -> None:
    result = fduck(*args, cwd=project)
    assert result.returncode == code and message in result.stderr, result.stderr


def test_piped_the_table_is_not_cut(project: Path) -> None:
    shown = fduck("show", "--inline", "select repeat('x', 300) as wide, 1 as narrow", cwd=project).stdout
    assert "x" * 300 in shown and "narrow" in shown
