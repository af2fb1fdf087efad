"""DuckDB extensions load from their pip wheels, offline; a missing one names its wheel."""

from __future__ import annotations

import duckdb
import pytest

from featureduck.engines.extensions import load_extension
from featureduck.errors import DatabaseError


@pytest.mark.parametrize("name", ["postgres", "mysql", "delta", "iceberg", "ducklake"])
def test_extensions_load_from_their_wheels(name: str) -> None:
    with duckdb.connect() as con:
        load_extension(con, name)
        loaded = {row[0] for row in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"postgres": "postgres_scanner", "mysql": "mysql_scanner"}.get(name, name) in loaded


def test_an_extension_that_cannot_be_had_names_its_pip_package() -> None:
    with duckdb.connect() as con, pytest.raises(DatabaseError) as err:
        load_extension(con, "fduck_missing")  # no wheel, and DuckDB's own INSTALL cannot fetch it
    assert err.value.message.startswith("the DuckDB extension 'fduck_missing' is not available")
    assert err.value.hint == f"pip install duckdb-extension-fduck_missing=={duckdb.__version__}"
