"""DuckLake as a target: DuckDB's engine over a DuckLake catalog.

The models live in a DuckLake (its catalog in a DuckDB or SQLite file, or in
Postgres; its data as Parquet files under `data_path`): every commit is an
ACID snapshot, so each run's builds can be read as of an earlier version
(`SELECT ... FROM t AT (VERSION => n)`). Everything else is DuckDB's: the
same SQL, transactions and swaps, through an in-memory DuckDB with the lake
attached and in use on every thread's cursor.

    dev:
      type: ducklake
      catalog: target/dev.ducklake        # or postgres:dbname=lake host=...
      data_path: target/ducklake_data/
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.engines.duckdb import DuckDBAdapter
from featureduck.errors import ConnectionFailure

if TYPE_CHECKING:
    import duckdb

LAKE = "lake"  # the attached catalog's name: what current_database() answers


class DuckLakeAdapter(DuckDBAdapter):
    TYPE = "ducklake"

    @property
    def path(self) -> str:
        return ":memory:"

    @property
    def catalog(self) -> str:
        return str(self.target.settings["catalog"])

    def open(self) -> None:
        import duckdb

        from featureduck.engines.extensions import load_extension

        catalog, data_path = self.catalog, str(self.target.settings["data_path"])
        if not catalog.startswith(("postgres:", "mysql:", "sqlite:")):
            Path(catalog).parent.mkdir(parents=True, exist_ok=True)
        Path(data_path).mkdir(parents=True, exist_ok=True)
        config = {str(k): v for k, v in dict(self.target.settings.get("settings") or {}).items()}
        self._connection = duckdb.connect(config=config)
        load_extension(self._connection, "ducklake")
        if catalog.startswith("postgres:"):
            load_extension(self._connection, "postgres")
        source = exp.Literal.string("ducklake:" + catalog).sql("duckdb")
        try:
            self._connection.execute(f"ATTACH {source} AS {LAKE} (DATA_PATH {exp.Literal.string(data_path).sql('duckdb')})")
        except duckdb.Error as err:
            self._connection.close()
            self._connection = None
            raise ConnectionFailure(f"cannot attach the DuckLake catalog {catalog}: {str(err).strip().splitlines()[0]}") from None
        self._prepare_cursor(self._connection)

    def _prepare_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        cursor.execute(f"USE {LAKE}")
