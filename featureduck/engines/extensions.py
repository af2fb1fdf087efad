"""DuckDB extensions, loaded from their pip wheels when present.

The `duckdb-extension-<name>` wheels carry each extension's binary for the
pinned DuckDB release, so featureduck works offline: the binaries are linked
under the names DuckDB looks for into a private extension directory
(`<cache>/featureduck/duckdb_extensions/v<version>/<platform>/`), and LOAD
finds them there. Without the wheel, DuckDB's own INSTALL (which downloads)
is tried, for users who are online; failing both is an error naming the pip
package to install.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.errors import DatabaseError

if TYPE_CHECKING:
    import duckdb

# pip wheel suffix -> the file name DuckDB loads (its entry point is named after it)
_LOADED_AS = {"postgres": "postgres_scanner", "mysql": "mysql_scanner"}
# extensions that load another one as they start (which would try to download it)
_REQUIRES = {"iceberg": ("avro",)}


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "featureduck" / "duckdb_extensions"


def load_extension(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    import duckdb

    for required in _REQUIRES.get(name, ()):
        load_extension(connection, required)
    loaded_as = _LOADED_AS.get(name, name)
    version = "v" + duckdb.__version__
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "extensions" / version / f"{name}.duckdb_extension"
        if binary.exists():
            platform = str(connection.execute("SELECT * FROM pragma_platform()").fetchone()[0])  # type: ignore[index]
            folder = _cache_dir() / version / platform
            folder.mkdir(parents=True, exist_ok=True)
            link = folder / f"{loaded_as}.duckdb_extension"
            if not link.exists() or link.resolve() != binary.resolve():
                temporary = folder / f".{loaded_as}.{os.getpid()}"
                temporary.unlink(missing_ok=True)
                temporary.symlink_to(binary)
                temporary.replace(link)  # atomic, so concurrent processes never see a half-made link
            connection.execute(f"SET extension_directory = {exp.Literal.string(str(_cache_dir())).sql('duckdb')}")
            connection.execute("SET autoinstall_known_extensions = false")
            connection.execute(f"LOAD {loaded_as}")
            return
    try:  # built into this DuckDB (json, parquet) or installed before: loaded as it is
        connection.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass
    try:
        connection.execute(f"INSTALL {name}")
        connection.execute(f"LOAD {name}")
    except duckdb.Error as err:
        raise DatabaseError(
            f"the DuckDB extension '{name}' is not available: {str(err).splitlines()[0]}",
            hint=f"pip install duckdb-extension-{name}=={duckdb.__version__}",
        ) from None
