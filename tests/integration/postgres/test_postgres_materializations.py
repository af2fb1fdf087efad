"""Every materialization on a real PostgreSQL server, checked by reading rows back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from featureduck.api import Project
from tests.conftest import INCREMENTAL_MODEL, ProjectFactory, pg_profile

RAW = "sources:\n  - name: raw\n    schema: {schema}_raw\n    tables:\n      - name: events\n"


def _sql(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as con:
        cursor = con.execute(sql)
        return cursor.fetchall() if cursor.description else []


def _project(make_project: ProjectFactory, schema: str, dsn: str, models: dict[str, str]) -> Path:
    _sql(dsn, f"CREATE SCHEMA {schema}_raw")
    _sql(dsn, f"CREATE TABLE {schema}_raw.events (id int, val text, ts timestamp)")
    _sql(dsn, f"INSERT INTO {schema}_raw.events VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02')")
    return make_project({"profiles.yml": pg_profile(schema), "sources/raw.yml": RAW.format(schema=schema), **models})


def _run(root: Path, **kwargs: Any) -> dict[str, str]:
    results = Project.load(root, target="pg").run(**kwargs)
    return {r.name: r.status + (f": {r.message}" if r.status == "error" else "") for r in results.results}


def _kind(dsn: str, schema: str, name: str) -> str | None:
    rows = _sql(dsn, f"SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     f"WHERE n.nspname = '{schema}' AND c.relname = '{name}'")
    return rows[0][0] if rows else None


def test_view_table_ephemeral_and_failed_rebuild(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/base.sql": "select id, val from {{ source('raw', 'events') }}",
        "models/eph.sql": "{{ config(materialized='ephemeral') }} select id * 10 as id10 from {{ ref('base') }}",
        "models/wide.sql": "{{ config(materialized='table') }} select id10, id10::text || 'x' as label from {{ ref('eph') }}",
    })
    assert _run(root) == {"base": "success", "wide": "success"}
    assert _kind(pg_dsn, pg_schema, "base") == "v" and _kind(pg_dsn, pg_schema, "wide") == "r"
    assert _sql(pg_dsn, f"SELECT id10, label FROM {pg_schema}.wide ORDER BY 1") == [(10, "10x"), (20, "20x")]
    (root / "models" / "wide.sql").write_text("{{ config(materialized='table') }} select 1 / (id10 - id10) as boom from {{ ref('eph') }}")
    statuses = _run(root)
    assert statuses["wide"].startswith("error") and "division by zero" in statuses["wide"]
    assert _sql(pg_dsn, f"SELECT count(*) FROM {pg_schema}.wide") == [(2,)]  # previous table intact


def test_incremental_strategies(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/app.sql": INCREMENTAL_MODEL.format(config="incremental_strategy='append'"),
        "models/mrg.sql": INCREMENTAL_MODEL.format(config="unique_key='id'"),
        "models/dli.sql": INCREMENTAL_MODEL.format(config="unique_key='id', incremental_strategy='delete+insert'"),
    })
    assert set(_run(root).values()) == {"success"}
    _sql(pg_dsn, f"INSERT INTO {pg_schema}_raw.events VALUES (3, 'c', '2024-01-03'), (1, 'z', '2024-01-04')")
    assert set(_run(root).values()) == {"success"}
    rows = {name: _sql(pg_dsn, f"SELECT id, val FROM {pg_schema}.{name} ORDER BY id, val") for name in ("app", "mrg", "dli")}
    assert rows["app"] == [(1, "a"), (1, "z"), (2, "b"), (3, "c")]
    assert rows["mrg"] == rows["dli"] == [(1, "z"), (2, "b"), (3, "c")]


def test_rebuilding_a_table_keeps_dependent_views(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/t.sql": "{{ config(materialized='table') }} select id, val from {{ source('raw', 'events') }}",
        "models/v.sql": "select id, upper(val) as up from {{ ref('t') }}",
        "models/vv.sql": "select count(*) as n from {{ ref('v') }}",
    })
    assert set(_run(root).values()) == {"success"}
    # a view the user made outside featureduck depends on it too
    _sql(pg_dsn, f"CREATE VIEW {pg_schema}.outside AS SELECT id FROM {pg_schema}.t")
    _sql(pg_dsn, f"INSERT INTO {pg_schema}_raw.events VALUES (3, 'c', '2024-01-03')")
    assert _run(root, select="t") == {"t": "success"}
    assert _sql(pg_dsn, f"SELECT n FROM {pg_schema}.vv") == [(3,)]
    assert _sql(pg_dsn, f"SELECT count(*) FROM {pg_schema}.outside") == [(3,)]
    # a view whose columns change cannot be CREATE OR REPLACEd: it is swapped, keeping vv
    (root / "models" / "v.sql").write_text("select id from {{ ref('t') }}")
    assert _run(root, select="v") == {"v": "success"}
    assert _sql(pg_dsn, f"SELECT n FROM {pg_schema}.vv") == [(3,)]


MV_CONFIG = "{{ config(materialized='materialized_view', unique_key='id') }}"


def test_materialized_view_native_refresh_and_recreate(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/mv.sql": MV_CONFIG + " select id, val from {{ source('raw', 'events') }}",
        "models/reader.sql": "select count(*) as n from {{ ref('mv') }}",
    })
    assert set(_run(root).values()) == {"success"}
    assert _kind(pg_dsn, pg_schema, "mv") == "m"
    assert _sql(pg_dsn, f"SELECT indexdef FROM pg_indexes WHERE schemaname = '{pg_schema}' AND tablename = 'mv'")
    _sql(pg_dsn, f"INSERT INTO {pg_schema}_raw.events VALUES (3, 'c', '2024-01-03')")
    results = Project.load(root, target="pg").run(select="mv")
    assert results.results[0].message == "refreshed materialized view"
    assert _sql(pg_dsn, f"SELECT n FROM {pg_schema}.reader") == [(3,)]
    # a changed definition recreates it; the view reading it survives
    (root / "models" / "mv.sql").write_text(MV_CONFIG + " select id, val, 1 as extra from {{ source('raw', 'events') }}")
    results = Project.load(root, target="pg").run(select="mv")
    assert results.results[0].message == "created materialized view"
    assert _sql(pg_dsn, f"SELECT sum(extra) FROM {pg_schema}.mv") == [(3,)]
    assert _sql(pg_dsn, f"SELECT n FROM {pg_schema}.reader") == [(3,)]


def test_unreachable_server_is_a_clear_error(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/a.sql": "select 1 as x",
        "profiles.yml": (
            "default:\n  target: pg\n  outputs:\n"
            "    pg: {type: postgres, dsn: 'postgresql://u:secret@127.0.0.1:1/db', schema: s}\n"
        ),
    })
    from tests.conftest import fduck

    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 2
    assert "cannot connect to PostgreSQL (127.0.0.1:1/db)" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_one_thread_builds_on_the_opening_connection(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """With one thread, models build on the connection that checked the server
    and writes the state: the whole run holds one connection."""
    from psycopg.conninfo import make_conninfo

    name = f"fd_{pg_schema}"
    count = f"select count(*) as connections from pg_stat_activity where application_name = '{name}'"
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/a.sql": f"{{{{ config(materialized='table') }}}} {count}",
        "models/b.sql": f"{{{{ config(materialized='table') }}}} select * from {{{{ ref('a') }}}} union all {count}",
    })
    dsn = make_conninfo(pg_dsn, application_name=name)
    (root / "profiles.yml").write_text(
        f"default:\n  target: pg\n  outputs:\n    pg: {{type: postgres, dsn: '{dsn}', schema: {pg_schema}, threads: 1}}\n"
    )
    assert [r.status for r in Project.load(root, target="pg").run().results] == ["success"] * 2
    assert _sql(pg_dsn, f"select connections from {pg_schema}.b") == [(1,), (1,)]


def test_every_thread_gets_a_connection(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """The pool holds one connection per worker thread; the main thread keeps its own (staging, state)."""
    models = {f"models/m{i}.sql": f"{{{{ config(materialized='table') }}}} select {i} as i from pg_sleep(0.05)" for i in range(6)}
    root = _project(make_project, pg_schema, pg_dsn, models)
    results = Project.load(root, target="pg").run(threads=5)  # more than the profile's 4
    assert [r.status for r in results.results] == ["success"] * 6
    assert max(r.execution_time for r in results.results) < 5


def test_file_sources_are_staged_again_only_when_they_change(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    root = make_project({
        "profiles.yml": pg_profile(pg_schema),
        "sources/files.yml": "sources:\n  - name: files\n    tables:\n      - name: people\n        path: data/people.csv\n",
        "data/people.csv": "id,name\n1,ada\n",
        "models/names.sql": "{{ config(materialized='table') }} select name from {{ source('files', 'people') }}",
    })
    messages = []

    class Recorder:
        def source_staged(self, source: str, relation: str, rows: int | None) -> None:
            messages.append(rows)

        def node_started(self, *args: Any) -> None:
            pass

        def node_finished(self, *args: Any) -> None:
            pass

    Project.load(root, target="pg").run(reporter=Recorder())
    Project.load(root, target="pg").run(reporter=Recorder())
    (root / "data" / "people.csv").write_text("id,name\n1,ada\n2,grace\n")
    Project.load(root, target="pg").run(reporter=Recorder())
    Project.load(root, target="pg").run(reporter=Recorder(), full_refresh=True)
    assert messages == [1, None, 2, 2]  # loaded, unchanged, reloaded, forced
    assert _sql(pg_dsn, f"SELECT name FROM {pg_schema}.names ORDER BY name") == [("ada",), ("grace",)]


def test_each_target_keeps_its_own_state(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """A dev and a prod schema in one database never read each other's builds."""
    prod = pg_profile(pg_schema + "_prod").splitlines()[-1].replace("    pg:", "    prod:")
    profile = pg_profile(pg_schema) + prod + "\n"
    root = make_project({"profiles.yml": profile, "models/m.sql": "{{ config(materialized='materialized_view') }} select 1 as x"})
    assert not Project.load(root, target="pg").run().failed
    assert list(Project.load(root, target="pg").last_builds()) == ["model.proj.m"]
    assert Project.load(root, target="prod").last_builds() == {}
    results = Project.load(root, target="prod").run()
    assert results.results[0].message == "created materialized view"  # not a refresh of the other target's view


def test_seed_build_and_tests_on_postgres(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """Seeds COPYed into Postgres, a model over one, tests compiled for Postgres; a bad row keeps the old table."""
    from tests.conftest import fduck

    root = make_project({
        "profiles.yml": pg_profile(pg_schema),
        "seeds/statuses.csv": "code,rank\nplaced,1\nshipped,2\n",
        "seeds/seeds.yml": "seeds:\n  - name: statuses\n    columns:\n      - name: code\n        tests: [unique, not_null]\n",
        "models/ranked.sql": "{{ config(materialized='table') }}\nselect code, rank * 10 as score from {{ ref('statuses') }}\n",
        "models/ranked.yml": (
            "models:\n  - name: ranked\n    columns:\n      - name: score\n        tests:\n          - expression: 'score > 0'\n"
        ),
    })
    result = fduck("build", "--project-dir", str(root), "--target", "pg")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 pass, 0 warn, 0 fail, 0 error" in result.stdout
    assert _sql(pg_dsn, f"SELECT code, score FROM {pg_schema}.ranked ORDER BY code") == [("placed", 10), ("shipped", 20)]
    (root / "seeds" / "statuses.csv").write_text("code,rank\nplaced,1\nshipped,2\nlost,\"three\"\n")
    (root / "seeds" / "seeds.yml").write_text("seeds:\n  - name: statuses\n    config: {column_types: {rank: integer}}\n")
    failed = fduck("seed", "--project-dir", str(root), "--target", "pg")
    assert failed.returncode == 1 and "seeds/statuses.csv:4: seed 'statuses'" in failed.stdout
    assert _sql(pg_dsn, f"SELECT count(*) FROM {pg_schema}.statuses") == [(2,)]


def test_a_first_build_is_built_in_place_and_leaves_nothing_when_it_fails(
    make_project: ProjectFactory, pg_dsn: str, pg_schema: str
) -> None:
    contract = ("models:\n  - name: first\n    config:\n      contract: {enforced: true}\n"
                "    columns:\n      - {name: id, data_type: integer}\n")
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/first.sql": "{{ config(materialized='table') }} select id, val as extra from {{ source('raw', 'events') }}",
        "models/first.yml": contract,
    })
    statuses = _run(root)
    assert statuses["first"].startswith("error") and "contract" in statuses["first"]
    assert _sql(pg_dsn, f"SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        f"WHERE n.nspname = '{pg_schema}'") == []  # neither the table nor a temporary one
    (root / "models" / "first.sql").write_text("{{ config(materialized='table') }} select id from {{ source('raw', 'events') }}")
    assert _run(root) == {"first": "success"}
    assert _sql(pg_dsn, f"SELECT id FROM {pg_schema}.first ORDER BY id") == [(1,), (2,)]


def test_a_scheduled_materialize_with_no_new_rows(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    """The normal scheduled case on a Postgres offline store: nothing new since the last
    materialize is 0 rows, and the integer keys keep their type."""
    from tests.conftest import fduck

    root = make_project({
        "profiles.yml": pg_profile(pg_schema).replace("target: dev", "target: pg"),
        "models/stats.sql": "{{ config(materialized='table') }}\n"
                            "select u as user_id, timestamp '2024-01-01' as ts, u * 10 as clicks from generate_series(1, 3) as g(u)\n",
        "features/f.yml": "entities:\n  - {name: user, join_keys: [user_id]}\nfeature_views:\n"
                          "  - {name: stats, entity: user, model: stats, timestamp_field: ts, online: true,"
                          " features: [{name: clicks, dtype: bigint}]}\n",
    })
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    assert "3 rows (full)" in fduck("materialize", "--project-dir", str(root)).stdout
    again = fduck("materialize", "--project-dir", str(root))
    assert again.returncode == 0, again.stderr
    assert "stats@1: 0 rows (since" in again.stdout
    assert Project.load(root).get_online_features("stats", [{"user_id": "2"}])[0]["features"] == {"clicks": 20}


def test_grants_and_persisted_docs(make_project: ProjectFactory, pg_dsn: str, pg_schema: str) -> None:
    for role in ("fd_reader", "fd_other"):
        _sql(pg_dsn, f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    model = ("{{ config(materialized='incremental', unique_key='id', grants={'select': [var('reader')]}, "
             "persist_docs={'relation': true, 'columns': true}) }}\nselect id, val from {{ source('raw', 'events') }}")
    root = _project(make_project, pg_schema, pg_dsn, {
        "models/shared.sql": model,
        "models/shared.yml": "models:\n  - name: shared\n    description: \"Events, shared\"\n    columns:\n"
                             "      - name: val\n        description: \"the value's text\"\n",
    })
    relation = f"{pg_schema}.shared"
    assert Project.load(root, target="pg", vars={"reader": "fd_reader"}).run().failed is False
    granted = f"SELECT has_table_privilege('fd_reader', '{relation}', 'select'), has_table_privilege('fd_other', '{relation}', 'select')"
    assert _sql(pg_dsn, granted) == [(True, False)]
    assert _sql(pg_dsn, f"SELECT obj_description('{relation}'::regclass), col_description('{relation}'::regclass, 2)") == [
        ("Events, shared", "the value's text")]
    # the incremental table is kept: the grant the config no longer lists is revoked
    assert Project.load(root, target="pg", vars={"reader": "fd_other"}).run().failed is False
    assert _sql(pg_dsn, granted) == [(False, True)]


def test_grants_on_an_engine_that_has_none_are_named(make_project: ProjectFactory) -> None:
    root = make_project({"models/m.sql": "{{ config(grants={'select': ['r']}) }} select 1 as x"})
    error = Project.load(root).compile().errors["m"]
    assert "dbt's `grants` config (grants) is not supported by featureduck on duckdb targets (it is on postgres)" in str(error)
