"""What each engine is, as one row of plain data.

Every layer that must know something of the engine it builds on asks this
table, never an engine's name: the compiler (dialect, refusals, rewrites,
formats read in place), the profile loader (default schema, path settings),
sources (watermarks, text type, databases read as its own), training sets
(the point-in-time join form). What an engine *does* lives in its adapter
(featureduck/engines/<type>.py). A new engine is that one file and one row
here, or `register_engine(row)` from the code that adds it.

This module imports nothing of featureduck beyond errors and utils, so every
layer may read it (tests/unit/test_imports.py places it at the bottom).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from featureduck.errors import ProfileError
from featureduck.utils.suggest import did_you_mean

# The forms of the training sets' point-in-time join (store.training_set):
# asof: an ASOF LEFT JOIN; newest_instant: a join back at each entity's newest
# feature instant (a LATERAL-free form Postgres plans well); stacked: the
# entity and feature rows stacked and a window carrying the last value forward.
PointInTimeJoin = Literal["asof", "newest_instant", "stacked"]

# The compiler's refusals (compiler.portability.RULES), by construct.
DUCKDB_ONLY = frozenset({"ASOF JOIN", "SELECT * with QUALIFY", "HUGEINT", "epoch_ms()"})
POSTGRES_REFUSALS = DUCKDB_ONLY | {"dayofweek()", "GROUP BY ALL", "arg_max()/arg_min()", "STRUCT", "* EXCLUDE / * REPLACE",
                                   "time_bucket()", "a negative list index"}
SPARK_REFUSALS = DUCKDB_ONLY | {"array_agg(... ORDER BY ...)", "extract(epoch from ...)", "date_diff()"}


@dataclass(frozen=True)
class PathSetting:
    """A profile setting naming a path, relative to the project unless absolute."""

    name: str
    default: str
    kind: Literal["file", "folder", "catalog"]  # folder: kept with a trailing separator; catalog: a DuckLake catalog


@dataclass(frozen=True, kw_only=True)
class EngineTraits:
    type: str  # the profile's `type:`
    adapter: str  # "module:Class", imported when a target of this type connects
    dialect: str  # sqlglot's name for its SQL
    default_schema: str  # when the profile names none
    text_type: str  # what a cast to text names
    # DuckDB in this process: reads files, pandas and Arrow itself, loads its
    # extensions, ATTACHes database sources (the adapter's local() answers)
    local_reader: bool
    reads_in_place: frozenset[str]  # file-source formats read where they lie; the rest are staged into it
    own_database_sources: frozenset[str]  # database source types whose tables it reads as its own (same server)
    point_in_time_join: PointInTimeJoin
    keeps_watermarks: bool  # incremental sources
    exports_through_scanner: bool  # files are written by DuckDB reading its tables directly (postgres_query)
    python_udfs: bool  # runs functions/*.py
    refuses: frozenset[str]  # constructs sqlglot would transpile with another meaning (compiler.portability)
    rewrites: frozenset[str]  # constructs rewritten to keep DuckDB's meaning (compiler.portability)
    path_settings: tuple[PathSetting, ...] = ()
    # a relation written as text ('{{ this }}' in a string) names its database, as the dbt
    # adapter of this engine prints it (dbt-spark prints schema.name)
    names_database: bool = True
    # dbt model configs that act on the database after a build, which its adapter applies
    # (EngineAdapter.apply_grants, persist_docs); elsewhere they are compile errors
    applies: frozenset[str] = frozenset()
    # appends rows and records where they came from in one transaction (EngineAdapter.append_arrow):
    # `fduck stream` lands messages in it exactly once
    lands_streams: bool = False
    # a process with it open keeps every other process out (a DuckDB file): one that runs long
    # and writes it now and then (serving's offline pushes) connects for each write, and closes
    locks_out_processes: bool = False

    @property
    def ranks_ties(self) -> bool:
        """Its point-in-time join takes one row per instant (the ASOF join, the join back at
        the newest instant), so tied rows are ranked first; stacked rows rank as they stack."""
        return self.point_in_time_join != "stacked"


_FILE_FORMATS = frozenset({"parquet", "csv", "json", "delta", "iceberg"})  # project.nodes.FILE_READERS

_DUCKDB = EngineTraits(
    type="duckdb", adapter="featureduck.engines.duckdb:DuckDBAdapter", dialect="duckdb", default_schema="main", text_type="VARCHAR",
    local_reader=True, reads_in_place=_FILE_FORMATS, own_database_sources=frozenset(), point_in_time_join="asof",
    keeps_watermarks=True, exports_through_scanner=False, python_udfs=True, refuses=frozenset(), rewrites=frozenset(),
    path_settings=(PathSetting("path", "target/dev.duckdb", "file"), PathSetting("external_root", ".", "folder")),
    lands_streams=True, locks_out_processes=True,
)

_ENGINES: dict[str, EngineTraits] = {
    row.type: row for row in (
        _DUCKDB,
        replace(
            _DUCKDB, type="ducklake", adapter="featureduck.engines.ducklake:DuckLakeAdapter",
            path_settings=(
                PathSetting("catalog", "target/dev.ducklake", "catalog"), PathSetting("data_path", "target/ducklake_data", "folder"),
            ),
        ),
        EngineTraits(
            type="postgres", adapter="featureduck.engines.postgres:PostgresAdapter", dialect="postgres", default_schema="public",
            text_type="TEXT", local_reader=False, reads_in_place=frozenset(), own_database_sources=frozenset({"postgres"}),
            point_in_time_join="newest_instant", keeps_watermarks=True, exports_through_scanner=True,
            python_udfs=False, refuses=POSTGRES_REFUSALS,
            rewrites=frozenset({"interval products", "split is string_to_array", "subscripted calls in parentheses"}),
            applies=frozenset({"grants", "persist_docs"}), lands_streams=True,
        ),
        EngineTraits(
            type="spark", adapter="featureduck.engines.spark:SparkAdapter", dialect="spark", default_schema="default",
            text_type="STRING", local_reader=False, reads_in_place=frozenset({"parquet"}), own_database_sources=frozenset(),
            point_in_time_join="stacked", keeps_watermarks=False, exports_through_scanner=False,
            python_udfs=True, refuses=SPARK_REFUSALS,
            rewrites=frozenset({"interval products", "date plus interval is a timestamp", "division is double",
                                "date_diff counts boundaries", "subscripts are element_at"}),
            path_settings=(PathSetting("warehouse", "target/spark-warehouse", "file"),), names_database=False,
        ),
    )
}


def engine_traits(engine_type: str) -> EngineTraits:
    try:
        return _ENGINES[engine_type]
    except KeyError:
        raise ProfileError(f"unknown engine type '{engine_type}'",
                           hint=did_you_mean(engine_type, _ENGINES) or f"known types: {', '.join(_ENGINES)}") from None


def engine_types() -> list[str]:
    return list(_ENGINES)


def register_engine(traits: EngineTraits) -> None:
    """Add (or replace) an engine: its adapter module is imported when a target uses it."""
    _ENGINES[traits.type] = traits
