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


DBT_CONTEXT_MACROS = """
{% macro pick(x) %}{% if x > 1 %}{{ return(x * 10) }}{% endif %}{{ return([x]) }}{% endmacro %}
{% macro checked(v) %}{% if v is none %}{{ exceptions.raise_compiler_error("v must be set") }}{% endif %}{{ v }}{% endmacro %}
"""


@pytest.mark.parametrize(("expression", "rendered"), [
    ("pick(2)", "20"),  # return() gives the value, not text
    ("pick(1)[0]", "1"),
    ("fromjson('{\"k\": 2}').k", "2"),
    ("fromyaml('a: [1, 2]').a | length", "2"),
    ("tojson({'a': 1})", '{"a": 1}'),
    ("set([1, 1, 2]) | length", "2"),
    ("zip([1, 2], [3, 4]) | list | length", "2"),
    ("modules.re.sub('a', 'b', 'aa')", "bb"),
    ("modules.itertools.chain([1], [2]) | list | length", "2"),
    ("config.get('materialized')", "table"),
    ("config.get('missing', 'fallback')", "fallback"),
    ("model.name ~ ':' ~ model.resource_type ~ ':' ~ model.config.tags | join(',')", "m:model:a,b"),
    ("graph.nodes['model.proj.m'].name", "m"),
    ("invocation_id | length", "36"),
    ("flags.FULL_REFRESH", "False"),
    ("target.database ~ '/' ~ target.profile_name", "dev/default"),
    ("checked(3)", "3"),
])
def test_dbt_context(make_project: ProjectFactory, expression: str, rendered: str) -> None:
    root = make_project({
        "macros/m.sql": DBT_CONTEXT_MACROS,
        "models/m.sql": "{{ config(materialized='table', tags=['a']) }}{{ config(tags=['b']) }}\nselect '{{ " + expression + " }}' as v",
    })
    sql = Project.load(root).compile().models["m"].sql
    assert f"'{rendered}' AS v" in sql


def test_raise_compiler_error_names_the_model(make_project: ProjectFactory) -> None:
    root = make_project({"macros/m.sql": DBT_CONTEXT_MACROS, "models/bad.sql": "select {{ checked(none) }} as x"})
    error = Project.load(root).compile().errors["bad"]
    assert str(error).startswith("models/bad.sql:1: v must be set")


def test_macros_call_macros_of_later_files_and_return_within_a_file(make_project: ProjectFactory) -> None:
    """Jinja snapshots the names a macro file sees when it loads; dbt resolves them when called."""
    root = make_project({
        "macros/a.sql": "{% macro a_macro() %}{{ b_macro() }}{% endmacro %}\n"
                        "{% macro one() %}{{ return(1) }}{% endmacro %}\n{% macro two() %}{{ one() + 1 }}{% endmacro %}",
        "macros/b.sql": "{% macro b_macro() %}42{% endmacro %}",
        "models/m.sql": "select {{ a_macro() }} as x, {{ two() }} as y",
    })
    assert "42 AS x,\n  2 AS y" in Project.load(root).compile().models["m"].sql


def test_a_project_macro_overrides_a_dbt_one_everywhere(make_project: ProjectFactory) -> None:
    """dbt.<name> is dbt's own; the bare name, and dbt's own macros calling it, find the project's."""
    root = make_project({
        "macros/types.sql": "{% macro default__type_string() %}{{ return('blob') }}{% endmacro %}",
        "models/m.sql": "select cast(1 as {{ type_string() }}) as a, {{ hash('x') }} as h",
    })
    sql = Project.load(root).compile().models["m"].sql
    assert "CAST(1 AS BLOB) AS a" in sql and "MD5(CAST(x AS BLOB))" in sql
