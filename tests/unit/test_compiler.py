from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot

from featureduck.api import Project
from featureduck.errors import CycleError, FeatureDuckError, SqlSyntaxError, TemplateError
from tests.conftest import OFFLINE_PROFILES, ProjectFactory, fduck

BASIC = {
    "featureduck_project.yml": """
        name: shop
        vars: {min_amount: 10}
        models:
          +materialized: view
          marts: {+materialized: table, +tags: [daily]}
    """,
    "sources/raw.yml": """
        sources:
          - name: raw
            tables:
              - name: orders
                path: data/orders.parquet
              - name: users
                path: data/users/*.csv
                options: {header: true}
          - name: app
            schema: app_db
            tables:
              - name: events
    """,
    "macros/cents.sql": "{% macro cents(c) %}cast({{ c }} * 100 as bigint){% endmacro %}",
    "models/staging/stg_orders.sql": """
        select id, {{ cents('amount') }} as amount_cents, created_at
        from {{ source('raw', 'orders') }}
        where amount > {{ var('min_amount') }}
    """,
    "models/staging/stg_events.sql": "select * from {{ source('app', 'events') }}",
    "models/intermediate/int_big.sql": """
        {{ config(materialized='ephemeral') }}
        select * from {{ ref('stg_orders') }} where amount_cents > 1000
    """,
    "models/marts/orders_daily.sql": """
        select date_trunc('day', created_at) as day, count(*) as n,
               count(*) filter (where amount_cents > 0) as paid
        from {{ ref('int_big') }}
        group by 1
        qualify row_number() over (order by day) < 100
    """,
}


def _compile(root: Path, target: str | None = None) -> dict[str, str]:
    project = Project.load(root, target=target)
    compiled = project.compile()
    assert compiled.errors == {}
    # whitespace-flattened, so assertions do not depend on pretty-printing
    return {name: " ".join(model.sql.split()) for name, model in compiled.models.items()}


def test_refs_sources_macros_vars_resolve(make_project: ProjectFactory) -> None:
    root = make_project(BASIC)
    sql = _compile(root)
    orders = sql["stg_orders"]
    assert f"FROM READ_PARQUET( '{root}/data/orders.parquet' ) AS orders" in orders
    assert "CAST(amount * 100 AS BIGINT)" in orders and "amount > 10" in orders
    assert "FROM app_db.events" in sql["stg_events"]
    assert "__fduck" not in orders


def test_ephemeral_model_is_inlined_as_cte(make_project: ProjectFactory) -> None:
    sql = _compile(make_project(BASIC))["orders_daily"]
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = [cte.alias for cte in tree.args["with_"].expressions]
    assert ctes == ["__fduck__cte__int_big"]
    assert "FROM main.stg_orders" in sql  # the ephemeral's own ref resolved inside the CTE


def test_folder_config_and_tags(make_project: ProjectFactory) -> None:
    project = Project.load(make_project(BASIC))
    compiled = project.compile()
    assert compiled.models["orders_daily"].config["materialized"] == "table"
    assert compiled.models["orders_daily"].config["tags"] == ["daily"]
    assert compiled.models["stg_orders"].materialized == "view"
    assert compiled.models["int_big"].materialized == "ephemeral"


def test_compile_for_postgres_and_spark_needs_no_server(make_project: ProjectFactory) -> None:
    files = {k: v for k, v in BASIC.items() if k != "models/staging/stg_orders.sql"}
    files["models/staging/stg_orders.sql"] = (
        "select id, amount * 100 as amount_cents, created_at, amount::int as a from {{ source('app', 'events') }}"
    )
    root = make_project({**files, "profiles.yml": OFFLINE_PROFILES})
    pg = _compile(root, "pg")
    assert "FROM analytics.stg_orders" in pg["orders_daily"]
    assert "QUALIFY" not in pg["orders_daily"].upper()  # rewritten as a subquery for Postgres
    assert "CAST(amount AS INT)" in pg["stg_orders"]
    spark = _compile(root, "spark")
    assert "FROM default.stg_orders" in spark["orders_daily"]
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    compiled = manifest["nodes"]["model.shop.orders_daily"]["compiled"]
    assert set(compiled) == {"pg", "spark"}  # per target, kept side by side
    assert (root / "target" / "compiled" / "pg" / "models" / "marts" / "orders_daily.sql").is_file()


def test_file_sources_a_target_cannot_read_compile_to_staged_tables(make_project: ProjectFactory) -> None:
    root = make_project({**BASIC, "profiles.yml": OFFLINE_PROFILES})
    pg = _compile(root, "pg")
    assert "FROM analytics_raw.orders WHERE" in pg["stg_orders"]  # loaded there by `fduck run`
    spark = _compile(root, "spark")
    assert f"FROM PARQUET.`{root}/data/orders.parquet` AS orders" in spark["stg_orders"].replace("parquet.", "PARQUET.")


def test_unknown_ref_names_file_line_and_suggests(make_project: ProjectFactory) -> None:
    root = make_project({**BASIC, "models/bad.sql": "select 1 as x\nunion all\nselect * from {{ ref('stg_ordrs') }}\n"})
    compiled = Project.load(root).compile()
    error = compiled.errors["bad"]
    assert isinstance(error, TemplateError)
    assert str(error).startswith("models/bad.sql:3: unknown ref 'stg_ordrs'")
    assert "did you mean 'stg_orders'?" in str(error)
    assert "orders_daily" in compiled.models  # other models still compile


def test_unknown_source_table_suggests(make_project: ProjectFactory) -> None:
    root = make_project({**BASIC, "models/bad.sql": "select * from {{ source('raw', 'order') }}"})
    error = Project.load(root).compile().errors["bad"]
    assert "source 'raw' has no table 'order'" in str(error) and "'orders'" in str(error)


def test_sql_syntax_error_names_line(make_project: ProjectFactory) -> None:
    root = make_project({**BASIC, "models/bad.sql": "select a,\n  b\nfrom t where (\n"})
    error = Project.load(root).compile().errors["bad"]
    assert isinstance(error, SqlSyntaxError)
    assert str(error).startswith("models/bad.sql:3:")


def test_jinja_errors_name_line(make_project: ProjectFactory) -> None:
    root = make_project({
        **BASIC,
        "models/bad1.sql": "select 1\n{% if %}\n",
        "models/bad2.sql": "select 1 as a\n, {{ nope }} as b\n",
        "models/bad3.sql": "select {{ var('missing_var') }}\n",
    })
    errors = Project.load(root).compile().errors
    assert str(errors["bad1"]).startswith("models/bad1.sql:2: Jinja syntax error")
    assert str(errors["bad2"]).startswith("models/bad2.sql:2:") and "'nope' is undefined" in str(errors["bad2"])
    assert str(errors["bad3"]).startswith("models/bad3.sql:1: required var 'missing_var'")


def test_cycle_is_reported_with_path(make_project: ProjectFactory) -> None:
    """The loop, each model with its file, reported at the first one's file."""
    root = make_project({
        "models/a.sql": "select * from {{ ref('c') }}",
        "models/b.sql": "select * from {{ ref('a') }}",
        "models/c.sql": "select * from {{ ref('b') }}",
    })
    with pytest.raises(CycleError) as raised:
        Project.load(root).compile()
    assert str(raised.value).splitlines()[0] == (
        "models/a.sql: dependency cycle: model.proj.a (models/a.sql) -> model.proj.b (models/b.sql) "
        "-> model.proj.c (models/c.sql) -> model.proj.a"
    )


def test_yaml_patch_for_missing_model_is_a_warning_as_in_dbt(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1", "models/schema.yml": "models:\n  - name: a\n  - name: bb\n"})
    [(message, location)] = Project.load(root).definition.warnings
    assert message == "YAML describes model 'bb' but there is no bb.sql: ignored"
    assert str(location) == "models/schema.yml:3"
    result = fduck("compile", cwd=root)
    assert result.returncode == 0
    assert "warning: models/schema.yml:3: YAML describes model 'bb'" in result.stderr


def test_dbt_semantic_layer_and_exposures_are_kept_in_the_manifest(make_project: ProjectFactory) -> None:
    root = make_project({
        "dbt_project.yml": "name: proj\ndbt-cloud:\n  project-id: 7\n",
        "models/a.sql": "select 1 as id",
        "models/semantic.yml": (
            "semantic_models:\n  - name: orders\n    model: ref('a')\n"
            "metrics:\n  - name: order_count\n    type: simple\n"
            "    filter: |\n      {{ Dimension('order_id__number') }} = 1\n"  # MetricFlow's Jinja: not dbt's to render
            "saved_queries:\n  - name: q\ngroups:\n  - name: finance\n    owner: {name: fin}\n"
            "exposures:\n  - name: dashboard\n    type: dashboard\n    owner: {name: x}\n    depends_on: [ref('a')]\n"
        ),
    })
    result = fduck("compile", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["semantic_models"]["semantic_model.proj.orders"]["model"] == "ref('a')"
    assert set(manifest["metrics"]) == {"metric.proj.order_count"}
    assert set(manifest["saved_queries"]) == {"saved_query.proj.q"}
    assert manifest["exposures"]["exposure.proj.dashboard"]["depends_on"] == ["ref('a')"]
    assert set(manifest["groups"]) == {"group.proj.finance"}
    assert manifest["metrics"]["metric.proj.order_count"]["filter"] == "{{ Dimension('order_id__number') }} = 1\n"
    assert fduck("build", cwd=root).returncode == 0  # dbt's build lists a saved query, with nothing to do
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results if r["unique_id"] == "saved_query.proj.q"] == ["no-op"]


def test_yaml_columns_and_tests_reach_the_manifest(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/a.sql": "select 1 as id",
        "models/schema.yml": """
            version: 2
            models:
              - name: a
                description: The a model.
                config: {materialized: table, tags: [t1]}
                columns:
                  - name: id
                    description: key
                    data_tests: [unique, not_null]
        """,
    })
    project = Project.load(root)
    assert project.compile().models["a"].config["materialized"] == "table"
    node = json.loads((root / "target" / "manifest.json").read_text())["nodes"]["model.proj.a"]
    assert node["description"] == "The a model."
    assert node["columns"]["id"]["tests"] == ["unique", "not_null"]
    assert node["tags"] == ["t1"]
    assert node["checksum"]["checksum"]


def test_cli_vars_override_project_vars(make_project: ProjectFactory) -> None:
    root = make_project(BASIC)
    project = Project.load(root, vars="{min_amount: 99}")
    assert "amount > 99" in project.compile().models["stg_orders"].sql


def test_compile_cache_reused_until_a_file_changes(make_project: ProjectFactory) -> None:
    root = make_project(BASIC)
    assert not Project.load(root).compile().from_cache
    assert Project.load(root).compile().from_cache
    (root / "macros" / "cents.sql").write_text("{% macro cents(c) %}cast({{ c }} * 1000 as bigint){% endmacro %}")
    recompiled = Project.load(root).compile()
    assert not recompiled.from_cache
    assert "* 1000" in recompiled.models["stg_orders"].sql


def test_compile_cache_checks_env_vars(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"models/a.sql": "select '{{ env_var('FD_TEST_X', 'none') }}' as x"})
    monkeypatch.setenv("FD_TEST_X", "one")
    assert "'one'" in Project.load(root).compile().models["a"].sql
    monkeypatch.setenv("FD_TEST_X", "two")
    again = Project.load(root).compile()
    assert not again.from_cache and "'two'" in again.models["a"].sql


def test_unknown_materialization_is_a_compile_error(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "{{ config(materialized='tabel') }}select 1"})
    error = Project.load(root).compile().errors["a"]
    assert "unknown materialization 'tabel'" in str(error) and "did you mean 'table'" in str(error)


DATABASE_SOURCES = """
sources:
  - name: app
    type: postgres
    connection: "{{ env_var('APP_DSN') }}"
    schema: public
    tables: [{name: events}]
  - name: shop
    type: mysql
    connection: "host=127.0.0.1 user=root database=shop"
    tables: [{name: orders}]
"""


def test_database_sources_compile_per_target_without_their_connection(make_project: ProjectFactory) -> None:
    root = make_project({
        "sources/db.yml": DATABASE_SOURCES, "profiles.yml": OFFLINE_PROFILES,
        "models/events.sql": "select * from {{ source('app', 'events') }}",
        "models/orders.sql": "select * from {{ source('shop', 'orders') }}",
    })
    duck = _compile(root, "dev")  # APP_DSN is unset: compiling never reads the connection
    assert "FROM app.public.events" in duck["events"] and "FROM shop.shop.orders" in duck["orders"]
    on_pg = Project.load(root, target="pg").compile()
    assert "FROM public.events" in " ".join(on_pg.models["events"].sql.split())
    errors = on_pg.errors
    assert str(errors["orders"]).startswith("models/orders.sql: source 'shop.orders' is in a mysql database, which a postgres target")
    spark_errors = Project.load(root, target="spark").compile().errors
    assert "source 'app.events' is in a postgres database, which a spark target cannot read" in str(spark_errors["events"])


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("sources:\n  - name: app\n    type: postgres\n    tables: [{name: events}]\n",
     "sources/db.yml:2: source 'app' of type postgres has no connection"),
    ("sources:\n  - name: app\n    type: postgres\n    connection: x\n    tables:\n      - name: events\n        path: data/e.parquet\n",
     "sources/db.yml:6: source table 'app.events' is in a postgres database: it takes no path or format"),
    ("sources:\n  - name: raw\n    tables:\n      - name: events\n        path: data/e.parquet\n        incremental: true\n",
     "sources/db.yml:4: source table 'raw.events' is incremental but has no timestamp_field"),
])
def test_database_and_incremental_source_mistakes_name_the_line(make_project: ProjectFactory, yaml_text: str, message: str) -> None:
    root = make_project({"sources/db.yml": yaml_text, "models/m.sql": "select 1 as x"})
    with pytest.raises(FeatureDuckError) as err:
        Project.load(root)
    assert str(err.value).startswith(message)


def test_reserved_words_are_quoted_for_postgres(make_project: ProjectFactory) -> None:
    """sqlglot leaves Postgres identifiers bare; `user`, `order` and `then` must be quoted."""
    root = make_project({
        "profiles.yml": OFFLINE_PROFILES,
        "sources/raw.yml": "sources:\n  - name: raw\n    tables: [{name: order}]\n",
        "models/user.sql": "select 1 as then, * from {{ source('raw', 'order') }}",
        "models/totals.sql": "select count(*) as n from {{ ref('user') }}",
    })
    pg = _compile(root, "pg")
    assert 'SELECT 1 AS "then", * FROM raw."order"' in pg["user"]
    assert 'FROM analytics."user"' in pg["totals"]
