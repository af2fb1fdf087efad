from __future__ import annotations

import pytest

from featureduck.api import Project
from featureduck.templating.fast_path import render_simple
from tests.conftest import ProjectFactory


def _names() -> dict[str, object]:
    return {"ref": lambda name: f"<{name}>", "config": lambda **kw: "", "var": lambda n, d=None: d, "this": "<this>"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("select * from {{ ref('a') }}", "select * from <a>"),
        ("{{ config(materialized='table', tags=['x']) }}select {{ var('n', 3) }}", "select 3"),
        ("select max(ts) from {{this}}\n", "select max(ts) from <this>\n"),
        ("select 1", "select 1"),
    ],
)
def test_fast_path_renders_literal_calls(text: str, expected: str) -> None:
    assert render_simple(text, _names(), "m.sql") == expected


@pytest.mark.parametrize(
    "text",
    [
        "{% if x %}a{% endif %}",
        "{# comment #} select 1",
        "{{ ref('a') | upper }}",
        "{{ target.name }}",
        "{{- ref('a') }}",
        "{{ ref(name) }}",
        "{{ unknown_macro('a') }}",
    ],
)
def test_fast_path_declines_anything_else(text: str) -> None:
    assert render_simple(text, _names(), "m.sql") is None


def test_fast_path_and_jinja_give_the_same_sql(make_project: ProjectFactory) -> None:
    body = "select {{ cents('amount') }} as c, '{{ var('label') }}' as l\nfrom {{ ref('base') }}\n"
    root = make_project({
        "featureduck_project.yml": "name: proj\nvars: {label: x}\n",
        "macros/m.sql": "{% macro cents(c) %}cast({{ c }} * 100 as bigint){% endmacro %}",
        "models/base.sql": "select 1.5 as amount",
        "models/fast.sql": body,
        "models/slow.sql": "{# forces full Jinja #}" + body,
    })
    models = Project.load(root).compile().models
    assert models["fast"].sql == models["slow"].sql


def test_errors_from_fast_path_still_name_the_line(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1\nfrom {{ ref('nope') }}\n"})
    assert str(Project.load(root).compile().errors["a"]).startswith("models/a.sql:2: unknown ref 'nope'")


def test_target_and_this_in_full_jinja(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select '{{ target.name }}' as t, '{{ target.type }}' as k, '{{ this.identifier }}' as i"})
    sql = Project.load(root).compile().models["a"].sql
    assert "'dev' AS t" in sql and "'duckdb' AS k" in sql and "'a' AS i" in sql


def test_builtin_macros_render(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/a.sql": "select {{ surrogate_key(['x', 'y']) }} as k, {{ safe_divide('x', 'y') }} as r from (select 1 as x, 2 as y)",
    })
    sql = Project.load(root).compile().models["a"].sql
    assert "MD5(" in sql.upper() and "CASE WHEN" in sql


def test_project_macro_overrides_builtin(make_project: ProjectFactory) -> None:
    root = make_project({
        "macros/mine.sql": "{% macro safe_divide(a, b) %}({{ a }} / nullif({{ b }}, 0)){% endmacro %}",
        "models/a.sql": "select {{ safe_divide('x', 'y') }} as r from (select 1 as x, 2 as y)",
    })
    assert "NULLIF(y, 0)" in Project.load(root).compile().models["a"].sql


def test_disabled_models_are_not_built_and_not_refable(make_project: ProjectFactory) -> None:
    root = make_project({
        "featureduck_project.yml": "name: proj\nmodels:\n  legacy: {+enabled: false}\n",
        "models/legacy/old.sql": "select 1 as x",
        "models/uses_old.sql": "select * from {{ ref('old') }}",
        "models/fine.sql": "select 2 as y",
    })
    project = Project.load(root)
    compiled = project.compile()
    assert compiled.disabled == {"old"}
    assert "ref to disabled model 'old'" in str(compiled.errors["uses_old"])
    assert {r.name for r in project.run().results} == {"uses_old", "fine"}
    assert Project.load(root).compile().from_cache is False  # failures are never cached
