"""An engine added the way docs/ARCHITECTURE.md says: this one file and one traits row.

`duckdb_folder` keeps each target's DuckDB database in a folder of its own
(`folder:` in the profile, relative to the project), one file per target.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from featureduck.engines.duckdb import DuckDBAdapter
from featureduck.engines.traits import PathSetting, engine_traits


class FolderDuckAdapter(DuckDBAdapter):
    TYPE = "duckdb_folder"

    @property
    def path(self) -> str:
        return str(Path(self.target.settings["folder"]) / f"{self.target.name}.duckdb")


TRAITS = replace(
    engine_traits("duckdb"), type="duckdb_folder", adapter=f"{__name__}:FolderDuckAdapter",
    path_settings=(PathSetting("folder", "target/warehouse", "folder"),),
)
