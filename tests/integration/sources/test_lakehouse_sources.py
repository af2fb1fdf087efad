"""Delta Lake, Iceberg and Hudi sources, their tables written by the real writers
(deltalake, pyiceberg) or taken from Hudi's own test data; read in place by DuckDB,
staged into Postgres; versions chosen by `version:` and `as_of:`."""

from __future__ import annotations

import datetime
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pytest

from tests.conftest import DEFAULT_PG_DSN, ProjectFactory, fduck

HUDI_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hudi"
COUNT = "{{{{ config(materialized='table') }}}}\nselect count(*) as n, sum(v) as total from {{{{ source('lake', '{table}') }}}}\n"


def _rows(ids: list[int]) -> pa.Table:
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "v": pa.array([float(i) for i in ids]),
        "ts": pa.array([datetime.datetime(2024, 1, 1) + datetime.timedelta(hours=i) for i in ids], pa.timestamp("us")),
    })


def _sources(tables: list[dict[str, Any]]) -> str:
    lines = ["sources:", "  - name: lake", "    tables:"]
    for table in tables:
        lines.append(f"      - name: {table['name']}")
        lines += [f"        {key}: {value}" for key, value in table.items() if key != "name"]
    return "\n".join(lines) + "\n"


def _profile(pg_schema: str | None) -> dict[str, str]:
    if pg_schema is None:
        return {}
    return {"profiles.yml": (
        "default:\n  target: pg\n  outputs:\n"
        f"    pg: {{type: postgres, dsn: \"{{{{ env_var('FDUCK_TEST_PG_DSN', '{DEFAULT_PG_DSN}') }}}}\", schema: {pg_schema}}}\n"
    )}


def _results(root: Path, pg_schema: str | None, models: list[str]) -> dict[str, tuple[Any, ...]]:
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    found = {}
    if pg_schema is None:
        with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
            for model in models:
                found[model] = con.execute(f"SELECT * FROM main.{model}").fetchone()
    else:
        with psycopg.connect(os.environ.get("FDUCK_TEST_PG_DSN", DEFAULT_PG_DSN)) as con:
            for model in models:
                row = con.execute(f"SELECT * FROM {pg_schema}.{model}").fetchone()
                found[model] = (int(row[0]), float(row[1])) if row else ()
    return found


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def pg_schema_or_none(request: pytest.FixtureRequest) -> str | None:
    """None: a DuckDB target, reading the tables in place; else a Postgres target's schema (staged)."""
    return request.getfixturevalue("pg_schema") if request.param == "postgres" else None


@pytest.mark.slow
def test_delta_tables_latest_by_version_and_as_of(make_project: ProjectFactory, tmp_path: Path, pg_schema_or_none: str | None) -> None:
    from deltalake import write_deltalake

    path = tmp_path / "delta" / "events"
    write_deltalake(str(path), _rows([1, 2]))
    time.sleep(1.1)
    between = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    time.sleep(1.1)
    write_deltalake(str(path), _rows([3]), mode="append")
    tables = [
        {"name": "latest", "format": "delta", "path": str(path)},
        {"name": "first", "format": "delta", "path": str(path), "version": 0},
        {"name": "then", "format": "delta", "path": str(path), "as_of": f"'{between.isoformat()}'"},
    ]
    models = {f"models/{t['name']}_count.sql": COUNT.format(table=t["name"]) for t in tables}
    root = make_project({"sources/lake.yml": _sources(tables), **models, **_profile(pg_schema_or_none)})
    found = _results(root, pg_schema_or_none, ["latest_count", "first_count", "then_count"])
    assert found == {"latest_count": (3, 6.0), "first_count": (2, 3.0), "then_count": (2, 3.0)}
    write_deltalake(str(path), _rows([4]), mode="append")  # a new version: read (restaged on Postgres) by the next run
    assert _results(root, pg_schema_or_none, ["latest_count", "first_count"]) == {"latest_count": (4, 10.0), "first_count": (2, 3.0)}


def test_delta_as_of_before_the_table_existed_is_an_error(make_project: ProjectFactory, tmp_path: Path) -> None:
    """deltalake answers a time before the first commit with version 0; featureduck refuses it."""
    from deltalake import write_deltalake

    path = tmp_path / "delta" / "events"
    write_deltalake(str(path), _rows([1, 2]))
    tables = [{"name": "early", "format": "delta", "path": str(path), "as_of": "'2001-01-01 00:00:00'"}]
    root = make_project({"sources/lake.yml": _sources(tables), "models/early_count.sql": COUNT.format(table="early")})
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1
    assert f"{path} did not exist as of 2001-01-01 00:00:00: its first version was written" in result.stderr, result.stderr


@pytest.mark.slow
def test_iceberg_tables_latest_and_by_snapshot(make_project: ProjectFactory, tmp_path: Path, pg_schema_or_none: str | None) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    catalog = SqlCatalog("local", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    catalog.create_namespace("shop")
    table = catalog.create_table("shop.events", schema=_rows([1]).schema)
    table.append(_rows([1, 2]))
    table.append(_rows([3]))
    table = catalog.load_table("shop.events")
    first = table.snapshots()[0]
    metadata = table.metadata_location.removeprefix("file://")
    # a table folder is read through its version hint, as Hadoop-style writers leave one
    folder = Path(metadata).parent.parent
    (folder / "metadata" / "version-hint.text").write_text(Path(metadata).name.removesuffix(".metadata.json"))
    tables = [
        {"name": "latest", "format": "iceberg", "path": metadata},
        {"name": "folder", "format": "iceberg", "path": str(folder)},
        {"name": "first", "format": "iceberg", "path": metadata, "version": first.snapshot_id},
        {"name": "then", "format": "iceberg", "path": metadata,
         "as_of": f"'{datetime.datetime.fromtimestamp(first.timestamp_ms / 1000, datetime.UTC).replace(tzinfo=None).isoformat()}'"},
    ]
    models = {f"models/{t['name']}_count.sql": COUNT.format(table=t["name"]) for t in tables}
    root = make_project({"sources/lake.yml": _sources(tables), **models, **_profile(pg_schema_or_none)})
    found = _results(root, pg_schema_or_none, ["latest_count", "folder_count", "first_count", "then_count"])
    assert found == {"latest_count": (3, 6.0), "folder_count": (3, 6.0), "first_count": (2, 3.0), "then_count": (2, 3.0)}


@pytest.fixture(scope="session")
def hudi_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Hudi's own small test tables (tests/fixtures/hudi), unzipped: nothing here can write Hudi."""
    folder = tmp_path_factory.mktemp("hudi")
    tables = {}
    for archive in sorted(HUDI_FIXTURES.glob("*.zip")):
        with zipfile.ZipFile(archive) as zipped:
            names = [n for n in zipped.namelist() if not n.startswith("__MACOSX")]
            zipped.extractall(folder / archive.stem, members=names)
        tables[archive.stem] = next(p for p in (folder / archive.stem).iterdir() if p.is_dir())
    return tables


HUDI_COUNT = (
    "{{{{ config(materialized='table') }}}}\n"
    "select count(*) as n, count(distinct {key}) as keys from {{{{ source('lake', '{table}') }}}}\n"
)


@pytest.mark.slow
def test_hudi_tables_read_their_latest_snapshot_not_their_files(
    make_project: ProjectFactory, hudi_tables: dict[str, Path], pg_schema_or_none: str | None
) -> None:
    tables = [
        {"name": "cow_v8", "format": "hudi", "path": str(hudi_tables["cow_v8_nonpartitioned"])},
        {"name": "cow_v9", "format": "hudi", "path": str(hudi_tables["cow_v9_txns_simple_meta"])},
        {"name": "mor_v9", "format": "hudi", "path": str(hudi_tables["mor_avro_v9_txns_simple_meta"])},
        # between its two commits, 2025-07-13 01:05:35.797 and 01:05:36.861 (UTC)
        {"name": "cow_v8_then", "format": "hudi", "path": str(hudi_tables["cow_v8_nonpartitioned"]), "as_of": "'2025-07-13T01:05:36'"},
    ]
    models = {f"models/{t['name']}_count.sql": HUDI_COUNT.format(table=t["name"], key="_hoodie_record_key") for t in tables}
    root = make_project({"sources/lake.yml": _sources(tables), **models, **_profile(pg_schema_or_none)})
    found = _results(root, pg_schema_or_none, ["cow_v8_count", "cow_v9_count", "mor_v9_count", "cow_v8_then_count"])
    # the v8 table's parquet files hold 7 rows; its latest snapshot 4, its first 3
    assert found == {"cow_v8_count": (4, 4), "cow_v9_count": (12, 12), "mor_v9_count": (12, 12), "cow_v8_then_count": (3, 3)}
    glob = duckdb.sql(f"SELECT count(*) FROM read_parquet('{hudi_tables['cow_v8_nonpartitioned']}/*.parquet')").fetchone()
    assert glob == (7,)


@pytest.mark.slow
def test_test_export_profile_and_explain_read_a_view_over_a_delta_table(make_project: ProjectFactory, tmp_path: Path) -> None:
    """export, export --query, profile, explain and test -s load the delta extension
    from its wheel for a view over a Delta table, as run does (never an INSTALL offline)."""
    from deltalake import write_deltalake

    path = tmp_path / "delta_events"
    write_deltalake(str(path), _rows([1, 2, 3]))
    root = make_project({
        "sources/lake.yml": _sources([{"name": "events", "format": "delta", "path": str(path)}]),
        "models/events_view.sql": "{{ config(materialized='view') }}\nselect * from {{ source('lake', 'events') }}\n",
        "models/schema.yml": "models:\n  - name: events_view\n    columns:\n      - name: id\n        tests: [unique]\n",
    })
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    for command in (["test", "-s", "events_view"], ["export", "events_view", "--out", str(tmp_path / "e.csv")],
                    ["export", "--query", "select count(*) as n from {{ ref('events_view') }}", "--out", str(tmp_path / "n.csv")],
                    ["profile", "events_view"], ["explain", "events_view"]):
        result = fduck(*command, "--project-dir", str(root))
        assert result.returncode == 0, (command, result.stdout + result.stderr)
    assert (tmp_path / "n.csv").read_text().splitlines() == ["n", "3"]
