"""Embedded DuckDB: the default engine. duckdb is imported only when connecting.

One connection per adapter; every thread works on its own cursor, since a
DuckDB connection must not be shared between threads.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.engines.base import ColumnCheck, EngineAdapter, RelationKind
from featureduck.errors import ConnectionFailure, DatabaseError, ProfileError
from featureduck.utils.terminal import on_terminal

if TYPE_CHECKING:
    import duckdb

    from featureduck.engines.plans import Plan, PlanNode

# seconds an open waits while another process holds the file: long enough for a brief holder
# (a served push appending to a landing table), short before a long one (`fduck stream`) is named
LOCK_WAIT = 2.0
# The keys a duckdb profile output may hold (besides its engine's path settings, and `type`):
# dbt-duckdb's others (plugins, secrets, filesystems, external_root...) are refused by name.
PROFILE_KEYS = frozenset({"path", "threads", "schema", "database", "extensions", "settings", "attach", "online_store",
                          "text_order", "time_zone"})


def _is_local_file(path: str) -> bool:
    """A path on this machine, not a service's database (`md:name`, `s3://...`), whose
    existence a stat cannot tell; a Windows drive letter is local."""
    scheme = path.split(":", 1)[0] if ":" in path else ""
    return len(scheme) <= 1


class DuckDBAdapter(EngineAdapter):
    TYPE = "duckdb"
    DIALECT = "duckdb"
    SUPPORTS_MATERIALIZED_VIEWS = False
    SUPPORTS_MERGE = True
    SUPPORTS_TRANSACTIONS = True

    def __init__(self, target: Any, threads: int | None = None) -> None:
        super().__init__(target, threads)
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        # a database this connection created and has run nothing in yet: its catalog is
        # known to be empty, which saves a fresh database's first run a catalog query
        self._known_empty = False

    @property
    def path(self) -> str:
        return str(self.target.settings.get("path", ":memory:"))

    def open(self) -> None:
        import duckdb

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {str(k): v for k, v in dict(self.target.settings.get("settings") or {}).items()}
        self._known_empty = self.path == ":memory:" or (_is_local_file(self.path) and not Path(self.path).exists())
        self._check_profile_keys()
        deadline, pause = time.monotonic() + LOCK_WAIT, 0.005
        while True:
            try:
                self._connection = duckdb.connect(self.path, config=config)
                break
            except duckdb.IOException as err:
                if not _is_lock(str(err)) or time.monotonic() >= deadline:
                    raise ConnectionFailure(_lock_message(self.path, str(err))) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
            except duckdb.Error as err:
                raise ConnectionFailure(f"cannot open DuckDB database {self.path}: {err}") from None
        self._load_profile_extensions()
        self._attach_profile_databases()

    def _check_profile_keys(self) -> None:
        known = PROFILE_KEYS | {setting.name for setting in self.traits.path_settings}
        unknown = sorted(str(key) for key in self.target.settings if key not in known)
        if unknown:
            shown = self.target.profiles_file or "profiles.yml"
            raise ProfileError(f"{shown}: target '{self.target.name}' sets {', '.join(unknown)}, which featureduck does not apply",
                               hint=f"the {self.TYPE} settings it reads: {', '.join(sorted(known))}")

    def _load_profile_extensions(self) -> None:
        """dbt-duckdb's `extensions:` (names, or {name: ...} mappings), loaded at connect."""
        for entry in self.target.settings.get("extensions") or []:
            self.load_extension(str(entry.get("name") if isinstance(entry, dict) else entry))

    def _attach_profile_databases(self) -> None:
        """dbt-duckdb's `attach:`: each {path, alias, type, read_only} attached at connect."""
        import duckdb

        for entry in self.target.settings.get("attach") or []:
            if not isinstance(entry, dict) or not entry.get("path"):
                raise ProfileError(f"target '{self.target.name}': each `attach:` entry is a mapping with a path")
            path = str(entry["path"])
            alias = str(entry.get("alias") or Path(path).stem)
            kind = str(entry.get("type") or "duckdb")
            if kind != "duckdb":
                self.load_extension(kind)
            options = [f"TYPE {kind}"] + (["READ_ONLY"] if entry.get("read_only") else [])
            assert self._connection is not None
            try:
                self._connection.execute(f"ATTACH IF NOT EXISTS {self.sql(exp.Literal.string(path))} AS "
                                         f"{self.sql(exp.to_identifier(alias, quoted=True))} ({', '.join(options)})")
            except duckdb.Error as err:
                raise ConnectionFailure(f"cannot attach {alias} ({kind}): {str(err).strip().splitlines()[0]}") from None

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def local(self) -> DuckDBAdapter:
        return self

    def _in_session_time_zone(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """A cursor starts in the machine's zone (TZ); it is set to the session's."""
        import duckdb

        zone = self.session_time_zone()
        try:
            cursor.execute(f"SET TimeZone = {self.sql(exp.Literal.string(zone))}")
        except duckdb.Error as err:
            raise self.time_zone_refused(zone, str(err)) from None

    def _prepare_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Session state each thread's cursor needs (a DuckLake target's USE)."""

    def version(self) -> str:
        import duckdb

        return str(duckdb.__version__)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            if self._connection is None:
                self.open()
            assert self._connection is not None
            cursor = self._connection.cursor()
            self._in_session_time_zone(cursor)
            self._prepare_cursor(cursor)
            with self._lock:
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import duckdb

        text = sql if isinstance(sql, str) else self.sql(sql)
        self._known_empty = False
        try:
            cursor = self._cursor()
            return (cursor.execute(text) if params is None else cursor.execute(text, params)).fetchall()
        except duckdb.Error as err:
            raise DatabaseError(str(err).strip()) from None

    def register(self, name: str, data: Any) -> None:
        """Expose a pandas DataFrame or an Arrow table to this thread's queries as `name`."""
        self._cursor().register(name, data)

    def fetch(self, sql: str | exp.Expr, form: str) -> Any:
        """A query's result as a pandas DataFrame (`form` "pandas") or an Arrow table ("arrow")."""
        import duckdb

        text = sql if isinstance(sql, str) else self.sql(sql)
        self._known_empty = False
        try:
            result = self._cursor().execute(text)
            return result.df() if form == "pandas" else result.to_arrow_table()
        except duckdb.Error as err:
            raise DatabaseError(str(err).strip()) from None

    def time_zone(self) -> str:
        return str(self.execute("SELECT current_setting('TimeZone')")[0][0])

    def set_time_zone(self, zone: str) -> None:
        self.execute(f"SET TimeZone = {self.sql(exp.Literal.string(zone))}")

    def text_order(self) -> str | None:
        collation = str(self.execute("SELECT current_setting('default_collation')")[0][0])
        return collation if collation.lower() not in ("", "binary") else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        cursor = self._cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            self.forget_catalog()
            raise
        cursor.execute("COMMIT")

    def list_relations(self, database: str, schema: str) -> dict[str, RelationKind]:
        return self.list_catalog(database, [schema])[schema]

    def list_catalog(self, database: str, schemas: list[str]) -> dict[str, dict[str, RelationKind]]:
        """From duckdb_tables() and duckdb_views() rather than information_schema.tables,
        a view over them that costs a run's first query about a millisecond more."""
        if self._known_empty and not database:
            return {schema: {} for schema in schemas}
        catalog = exp.Literal.string(database) if database else exp.func("current_database")

        def listing(function: str, name: str, kind: str) -> exp.Select:
            query = (
                exp.select("schema_name", exp.func("lower", exp.column(name)), exp.Literal.string(kind))
                .from_(exp.Anonymous(this=function))
                .where(exp.column("schema_name").isin(*[exp.Literal.string(s) for s in schemas]))
                .where(exp.column("database_name").eq(catalog))
            )
            return query.where(exp.not_(exp.column("internal"))) if function == "duckdb_views" else query

        found: dict[str, dict[str, RelationKind]] = {schema: {} for schema in schemas}
        tables_and_views = exp.union(listing("duckdb_tables", "table_name", "table"), listing("duckdb_views", "view_name", "view"),
                                     distinct=False)
        for schema, name, kind in self.execute(tables_and_views):
            found[schema][name] = kind
        return found

    def execute_script(self, statements: Sequence[exp.Expr]) -> None:
        if statements:
            self.execute(";\n".join(self.sql(statement) for statement in statements))

    def replace_table(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> int | None:
        """DuckDB's DDL is transactional: CREATE OR REPLACE swaps the new table in
        atomically, and a failed build leaves the previous one. It saves the
        temporary table's drop and rename per model. Replacing a view takes a
        drop first, and a check reads the new table's columns before the commit,
        so those run in one transaction."""
        existing = self.relation_kind(table)
        if existing in (None, "table") and check is None:
            return self.create_table_as(table, query_sql, replace=True)
        with self.transaction():
            if existing not in (None, "table"):
                self.drop(table, existing)
            rows = self.create_table_as(table, query_sql, replace=True)
            if check is not None:
                check(self.columns(table))
            return rows

    @contextmanager
    def progress_bar(self, enabled: bool) -> Iterator[None]:
        """DuckDB's own progress bar on the terminal, for a load long enough to want one."""
        if not enabled or not on_terminal():
            yield
            return
        cursor = self._cursor()
        cursor.execute("SET enable_progress_bar = true")
        try:
            yield
        finally:
            cursor.execute("RESET enable_progress_bar")

    def load_arrow(self, table: exp.Table, data: Any) -> int:
        """Replace `table` with an Arrow table's rows (a source read in Python: Hudi)."""
        name = f"__fd_arrow_{table.name}"
        cursor = self._cursor()
        cursor.register(name, data)
        try:
            self.replace_table(table, f"SELECT * FROM {self.sql(exp.to_identifier(name, quoted=True))}")
        finally:
            cursor.unregister(name)
        return int(data.num_rows)

    def append_arrow(self, table: exp.Table, data: Any) -> int:
        name = f"__fd_append_{table.name}"
        cursor = self._cursor()
        cursor.register(name, data)
        columns = [exp.to_identifier(c, quoted=True) for c in data.column_names]
        insert = exp.Insert(this=exp.Schema(this=table.copy(), expressions=columns),
                            expression=exp.select(*[c.copy() for c in columns]).from_(exp.to_identifier(name, quoted=True)))
        try:
            self.execute(insert)
        finally:
            cursor.unregister(name)
        return int(data.num_rows)

    def load_extension(self, name: str) -> None:
        """Load an extension into the database: every thread's cursor has it."""
        from featureduck.engines.extensions import load_extension

        self._cursor()  # opens the database
        assert self._connection is not None
        with self._lock:
            load_extension(self._connection, name)

    def attach(self, alias: str, kind: str, connection: str) -> None:
        """Attach another database (postgres, mysql) read-only under `alias`, once per
        process: every thread's cursor sees it, and its scans push filters down."""
        import duckdb

        self.load_extension(kind)
        assert self._connection is not None
        with self._lock:
            attached = self._connection.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [alias]).fetchall()
            if attached:
                return
            try:
                self._connection.execute(
                    f"ATTACH {self.sql(exp.Literal.string(connection))} AS {self.sql(exp.to_identifier(alias, quoted=True))} "
                    f"(TYPE {kind}, READ_ONLY)"
                )
            except duckdb.Error as err:  # the message may quote the connection string: keep its first line only
                raise ConnectionFailure(f"cannot attach the {kind} database: {str(err).strip().splitlines()[0]}") from None

    def register_function(self, name: str, params: list[str], returns: str, vectorized: bool, function: Callable[..., Any]) -> None:
        """On the connection every thread's cursor shares; vectorized ones through Arrow."""
        import duckdb
        from duckdb.func import PythonUDFType

        assert self._connection is not None
        with self._lock:
            try:
                self._connection.remove_function(name)
            except duckdb.InvalidInputException:
                pass  # not registered yet
            try:
                self._connection.create_function(
                    name, function, [duckdb.sqltype(p) for p in params], duckdb.sqltype(returns),
                    type=PythonUDFType.ARROW if vectorized else PythonUDFType.NATIVE, side_effects=False,
                )
            except duckdb.Error as err:
                raise DatabaseError(f"cannot register function '{name}': {str(err).strip()}") from None

    def explain_analyze(self, sql: str) -> Plan:
        """EXPLAIN ANALYZE with JSON profiling: the profile comes back as the plan's text."""
        from featureduck.engines.plans import Plan

        self.execute("SET enable_profiling = 'json'")
        try:
            profile = json.loads(self.execute(f"EXPLAIN ANALYZE {sql}")[0][1])
        finally:
            self.execute("RESET enable_profiling")
        operators = [_plan_node(child) for child in profile.get("children", [])]
        while len(operators) == 1 and operators[0].operator == "EXPLAIN_ANALYZE":
            operators = operators[0].children
        return Plan(operators[0] if len(operators) == 1 else None, float(profile.get("latency", 0.0)))

    def row_digest(self, alias: str) -> exp.Expr:
        return exp.Sum(this=exp.Anonymous(this="HASH", expressions=[exp.column(alias)]))  # the row as a struct

    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        """DESCRIBE: a tenth of the time of information_schema.columns, and it
        finds unqualified temporary tables through the search path."""
        return [(str(row[0]), str(row[1])) for row in self.execute(f"DESCRIBE {self.sql(table)}")]

    def query_columns(self, query_sql: str) -> list[tuple[str, str]]:
        """DESCRIBE of the query: bound and typed, not run."""
        return [(str(row[0]), str(row[1])) for row in self.execute(f"DESCRIBE {query_sql}")]


def _plan_node(profile: dict[str, Any]) -> PlanNode:
    from featureduck.engines.plans import PlanNode

    extra = profile.get("extra_info") or {}
    shown = [f"{key}: {extra[key]}" for key in ("Table", "Function", "Conditions", "Filters", "Join Type", "Groups") if extra.get(key)]
    return PlanNode(
        str(profile.get("operator_name") or profile.get("operator_type")), "; ".join(str(part) for part in shown),
        float(profile["operator_timing"]) if "operator_timing" in profile else None,
        int(profile["operator_cardinality"]) if "operator_cardinality" in profile else None,
        [_plan_node(child) for child in profile.get("children", [])],
    )


def _is_lock(error: str) -> bool:
    """DuckDB's 'Could not set lock on file ...': another process has the file open."""
    return "could not set lock on file" in error.lower()


def _lock_message(path: str, error: str) -> str:
    """DuckDB says 'Could not set lock on file ... (PID n)'; say it plainly."""
    if _is_lock(error):
        pid = re.search(r"PID (\d+)", error)
        holder = f" (held by process {pid.group(1)})" if pid else ""
        return f"the DuckDB database {path} is locked by another process{holder} (waited {LOCK_WAIT:g} s); close it and retry"
    return f"cannot open DuckDB database {path}: {error}"
