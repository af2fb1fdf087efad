"""A DuckDB project on a Postgres database whose collation is not byte order stops
with an error naming it: DuckDB sorts 'B' before 'a', an en-US database the other
way, and no session setting changes that. Real databases: one created with ICU's
en-US collation beside the test server's C.UTF-8 one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.conftest import ProjectFactory, fduck

pytestmark = pytest.mark.postgres

FIRST_NAME = "select min(name) as first from (values ('a'), ('B')) as t(name)"


@pytest.fixture
def icu_dsn(pg_dsn: str) -> Iterator[str]:
    """A database created with ICU's en-US collation, dropped afterwards."""
    name = f"fd_icu_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    yield make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _project(make_project: ProjectFactory, dialect: str, dsn: str, extra: str = "") -> Path:
    profiles = f"default:\n  target: pg\n  outputs:\n    pg: {{type: postgres, dsn: '{dsn}', schema: fd_text{extra}}}\n"
    return make_project({"featureduck_project.yml": f"name: proj\ndialect: {dialect}\n", "profiles.yml": profiles,
                         "models/first_name.sql": FIRST_NAME})


def _first(dsn: str) -> str:
    with psycopg.connect(dsn) as con:
        return str(con.execute("select first from fd_text.first_name").fetchone()[0])  # type: ignore[index]


def test_a_duckdb_project_on_a_database_of_another_collation_is_refused(make_project: ProjectFactory, icu_dsn: str) -> None:
    root = _project(make_project, "duckdb", icu_dsn)
    built = fduck("run", cwd=root)
    assert built.returncode == 2, built.stdout  # a profile error, as an unreachable server
    output = built.stdout + built.stderr
    assert "collation en-US (ICU)" in output and "byte order" in output and "text_order: database" in output
    assert icu_dsn not in output and "password" not in output  # the DSN, its password, never shown
    with psycopg.connect(icu_dsn) as con:  # nothing was built
        assert con.execute("select to_regclass('fd_text.first_name')").fetchone() == (None,)


def test_the_databases_order_is_taken_when_the_output_says_so(make_project: ProjectFactory, icu_dsn: str) -> None:
    root = _project(make_project, "duckdb", icu_dsn, extra=", text_order: database")
    built = fduck("run", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    assert _first(icu_dsn) == "a"  # en-US's order, as accepted


def test_a_byte_order_database_and_a_postgres_project_run_as_before(make_project: ProjectFactory, pg_dsn: str, icu_dsn: str) -> None:
    on_c = _project(make_project, "duckdb", pg_dsn)
    try:
        assert fduck("run", cwd=on_c).returncode == 0
        assert _first(pg_dsn) == "B"  # C.UTF-8: byte order, DuckDB's
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute("DROP SCHEMA IF EXISTS fd_text CASCADE")
    postgres_project = _project(make_project, "postgres", icu_dsn)
    built = fduck("run", cwd=postgres_project)
    assert built.returncode == 0, built.stdout + built.stderr  # its own database's order is what it means
    assert _first(icu_dsn) == "a"


def test_an_unknown_text_order_is_a_profile_error(make_project: ProjectFactory, icu_dsn: str) -> None:
    built = fduck("run", cwd=_project(make_project, "duckdb", icu_dsn, extra=", text_order: bytes"))
    assert built.returncode == 2 and "text_order must be 'database'" in built.stdout + built.stderr
