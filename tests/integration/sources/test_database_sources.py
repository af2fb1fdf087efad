"""Postgres and MySQL sources on real servers: read in place by DuckDB (ATTACH), a
postgres source as a table of a Postgres target's own database; incremental sources
read past their watermark."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from featureduck.engines.extensions import load_extension
from tests.conftest import DEFAULT_PG_DSN, ProjectFactory, fduck

SOURCES = """
sources:
  - name: app
    type: {kind}
    connection: "{{{{ env_var('{env}', '{dsn}') }}}}"
    schema: {schema}
    tables:
      - name: events
        timestamp_field: updated_at
        incremental: true
      - name: users
"""
# every row read lands once: duplicates or losses show in the count and the ids
COPY = "{{ config(materialized='incremental') }}\nselect id, user_id, amount, updated_at from {{ source('app', 'events') }}\n"
PER_USER = """{{ config(materialized='incremental', unique_key='user_id') }}
select e.user_id, u.name, count(*) as events, max(e.updated_at) as last_at
from {{ source('app', 'events') }} as e join {{ source('app', 'users') }} as u using (user_id)
group by e.user_id, u.name
"""
# fails while a row with amount -1 is among the rows read
GUARDED = """{{ config(materialized='incremental') }}
select id, case when amount < 0 then error('negative amount in event ' || id) else amount end as amount
from {{ source('app', 'events') }}
"""


def _pg(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(sql.encode())


def _duck(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass
class SourceServer:
    """A database holding the source tables, written to as an application would."""

    kind: str  # postgres | mysql
    dsn: str
    schema: str

    def execute(self, sql: str) -> None:
        if self.kind == "postgres":
            _pg(self.dsn, sql)
            return
        with duckdb.connect() as con:  # MySQL through DuckDB's own mysql extension: no client library to add
            load_extension(con, "mysql")
            con.execute(f"ATTACH '{self.dsn}' AS server (TYPE mysql)")
            con.execute("CALL mysql_execute('server', ?)", [sql])

    def insert(self, rows: list[tuple[int, int, float, str]]) -> None:
        values = ", ".join(f"({i}, {u}, {a}, '{ts}')" for i, u, a, ts in rows)
        self.execute(f"INSERT INTO {self.schema}.events VALUES {values}")

    def sources_yml(self) -> str:
        env = "FDUCK_TEST_PG_DSN" if self.kind == "postgres" else "FDUCK_TEST_MYSQL_DSN"
        return SOURCES.format(kind=self.kind, env=env, dsn=self.dsn, schema=self.schema)


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)])
def server(request: pytest.FixtureRequest) -> Iterator[SourceServer]:
    """events (ids 1-100, two stamps per minute) and users in a fresh schema (a database, on MySQL)."""
    if request.param == "postgres":
        source = SourceServer("postgres", request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema") + "_src")
        source.execute(f"CREATE SCHEMA {source.schema}")
    else:
        source = SourceServer("mysql", request.getfixturevalue("mysql_dsn"), f"fd_{uuid.uuid4().hex[:10]}")
        source.execute(f"CREATE DATABASE {source.schema}")
    stamp = "timestamp" if source.kind == "postgres" else "datetime(6)"
    source.execute(f"CREATE TABLE {source.schema}.events (id int, user_id int, amount double precision, updated_at {stamp})")
    source.execute(f"CREATE TABLE {source.schema}.users (user_id int, name varchar(20))")
    source.execute(f"INSERT INTO {source.schema}.users VALUES " + ", ".join(f"({u}, 'user {u}')" for u in range(10)))
    source.insert([(i, i % 10, float(i), f"2024-01-01 00:{i // 2:02d}:00") for i in range(1, 101)])
    yield source
    if source.kind == "mysql":
        source.execute(f"DROP DATABASE {source.schema}")


@pytest.fixture
def project(make_project: ProjectFactory, server: SourceServer) -> Path:
    return make_project({"sources/app.yml": server.sources_yml(), "models/copy.sql": COPY, "models/per_user.sql": PER_USER})


def _run(root: Path, *args: str) -> str:
    result = fduck("run", "--project-dir", str(root), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _ids(root: Path) -> list[int]:
    return [row[0] for row in _duck(root, "SELECT id FROM main.copy ORDER BY id")]


def test_duckdb_reads_the_source_in_place_without_secrets_in_compiled_sql(project: Path, server: SourceServer) -> None:
    _run(project)
    assert _ids(project) == list(range(1, 101))
    assert _duck(project, "SELECT name, events FROM main.per_user WHERE user_id = 3") == [("user 3", 10)]
    compiled = (project / "target" / "compiled" / "dev" / "models" / "per_user.sql").read_text()
    assert f"app.{server.schema}.users" in compiled
    manifest = (project / "target" / "manifest.json").read_text()
    assert "fduck" not in compiled and "password" not in manifest and ":fduck@" not in manifest


def test_incremental_runs_read_exactly_the_new_rows(project: Path, server: SourceServer) -> None:
    _run(project)
    # a late row stamped exactly at the watermark, rows past it, and one stamped before it
    server.insert([(101, 1, 1.0, "2024-01-01 00:50:00"), (102, 2, 2.0, "2024-01-01 01:00:00"),
                                    (103, 3, 3.0, "2024-01-01 01:00:00"), (104, 4, 4.0, "2023-12-31 00:00:00")])
    out = _run(project)
    assert "append into incremental table" in out and "[OK 3 rows" in out, out
    assert _ids(project) == list(range(1, 104))  # 104 is older than the watermark: left for a full refresh
    # what the merge model saw: only the new rows of users 1, 2 and 3
    assert _duck(project, "SELECT user_id, events FROM main.per_user WHERE user_id IN (1, 2, 3, 4) ORDER BY 1") == [
        (1, 1), (2, 1), (3, 1), (4, 10)]
    unchanged = _run(project)  # nothing new: nothing read, the watermark stays
    assert _ids(project) == list(range(1, 104))
    # the source's version (row count and newest stamp, computed by its server) has not moved
    assert "CACHED incremental model main.copy" in unchanged, unchanged
    server.insert([(105, 5, 5.0, "2024-01-01 01:00:00")])  # again at the watermark
    _run(project)
    assert _ids(project) == [*range(1, 104), 105]

    listed = fduck("ls", "--project-dir", str(project), "--resource-type", "source", "--output", "json")
    records = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert records["app.events"]["watermarks"]["copy"]["watermark"] == "2024-01-01 01:00:00"
    assert records["app.events"]["watermarks"]["per_user"]["watermark"] == "2024-01-01 01:00:00"
    assert records["app.users"]["incremental"] is False and records["app.users"]["watermarks"] == {}
    text = fduck("ls", "--project-dir", str(project), "--resource-type", "source").stdout
    assert "incremental on updated_at: copy 2024-01-01 01:00:00, per_user 2024-01-01 01:00:00" in text

    _run(project, "--full-refresh")  # reads everything again, the older row included
    assert _ids(project) == [*range(1, 106)]
    _run(project)
    assert _ids(project) == [*range(1, 106)]


def test_a_failed_run_leaves_the_watermark_and_the_rows_are_read_again(make_project: ProjectFactory, server: SourceServer) -> None:
    root = make_project({"sources/app.yml": server.sources_yml(), "models/guarded.sql": GUARDED})
    _run(root)
    server.insert([(101, 1, 1.0, "2024-01-01 02:00:00"), (102, 1, -1.0, "2024-01-01 02:00:00")])
    failed = fduck("run", "--project-dir", str(root))
    assert failed.returncode == 1 and "negative amount in event 102" in failed.stdout + failed.stderr
    marks = _duck(root, "SELECT watermark FROM main_featureduck.source_watermarks ORDER BY recorded_at")
    assert marks == [("2024-01-01 00:50:00",)]
    server.execute(f"UPDATE {server.schema}.events SET amount = 2 WHERE id = 102")
    _run(root)
    assert [r[0] for r in _duck(root, "SELECT id FROM main.guarded ORDER BY id")] == list(range(1, 103))


@pytest.mark.parametrize("server", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_target_reads_a_source_of_its_own_database(project: Path, server: SourceServer, pg_schema: str) -> None:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    # whatever server and database the suite is given: another database on the same server
    parts = conninfo_to_dict(server.dsn)
    database = str(parts.get("dbname") or parts.get("user"))
    other_database = "template1" if database != "template1" else "postgres"
    elsewhere = make_conninfo(server.dsn, dbname=other_database)
    (project / "profiles.yml").write_text(
        "default:\n  target: pg\n  outputs:\n"
        f"    pg: {{type: postgres, dsn: \"{{{{ env_var('FDUCK_TEST_PG_DSN', '{DEFAULT_PG_DSN}') }}}}\", schema: {pg_schema}}}\n"
        f"    elsewhere: {{type: postgres, dsn: \"{elsewhere}\", schema: {pg_schema}}}\n"
    )
    assert fduck("compile", "--project-dir", str(project)).returncode == 0
    compiled = (project / "target" / "compiled" / "pg" / "models" / "copy.sql").read_text()
    assert f"FROM {server.schema}.events" in compiled
    _run(project, "--select", "copy")
    # the run read a snapshot of the source's rows, which the watermark moved by
    executed = (project / "target" / "compiled" / "pg" / "models" / "copy.sql").read_text()
    assert f"FROM {pg_schema}_featureduck.increment__copy__app__events" in executed
    server.insert([(101, 1, 1.0, "2024-01-01 00:50:00"), (102, 2, 2.0, "2024-01-01 03:00:00")])
    _run(project, "--select", "copy")
    with psycopg.connect(server.dsn) as con:
        ids = [r[0] for r in con.execute(f"SELECT id FROM {pg_schema}.copy ORDER BY id").fetchall()]
    assert ids == list(range(1, 103))
    other = fduck("run", "--project-dir", str(project), "--target", "elsewhere", "--select", "copy")
    assert other.returncode == 2
    assert f"sources/app.yml:4: source 'app' is in database {database} at " in other.stderr
    assert f"not in the target's ({other_database} at " in other.stderr


@pytest.mark.slow
def test_a_source_server_that_is_down_is_a_clear_error(make_project: ProjectFactory) -> None:
    sources = SOURCES.format(kind="postgres", env="FDUCK_NO_SUCH_DSN", dsn="postgresql://nobody@127.0.0.1:1/none", schema="public")
    root = make_project({"sources/app.yml": sources, "models/copy.sql": COPY})
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode != 0
    assert "sources/app.yml:4: source 'app': cannot attach the postgres database" in result.stderr
    assert fduck("compile", "--project-dir", str(root)).returncode == 0  # compiling needs no server


def test_test_export_profile_and_explain_read_a_view_over_the_source(
    make_project: ProjectFactory, server: SourceServer, tmp_path: Path,
) -> None:
    """test -s, export, export --query, profile and explain attach the source a view
    reads, as run does: no `Catalog "app" does not exist`."""
    root = make_project({
        "sources/app.yml": server.sources_yml(),
        "models/users_view.sql": "{{ config(materialized='view') }}\nselect user_id, name from {{ source('app', 'users') }}\n",
        "models/schema.yml": "models:\n  - name: users_view\n    columns:\n      - name: user_id\n        tests: [not_null, unique]\n",
    })
    _run(root)
    commands = {
        "test": ["test", "-s", "users_view"],
        "export": ["export", "users_view", "--out", str(tmp_path / "users.csv")],
        # not an aggregate: DuckDB 1.5's mysql scanner fails one over a view internally (duckdb/duckdb-mysql#266)
        "export --query": ["export", "--query", "select user_id from {{ ref('users_view') }} where user_id < 2",
                           "--out", str(tmp_path / "n.csv")],
        "profile": ["profile", "users_view"],
        "explain": ["explain", "users_view"],
    }
    for what, command in commands.items():
        result = fduck(*command, "--project-dir", str(root))
        assert result.returncode == 0, (what, result.stdout + result.stderr)
    assert len((tmp_path / "users.csv").read_text().splitlines()) == 11
    assert (tmp_path / "n.csv").read_text().splitlines() == ["user_id", "0", "1"]
