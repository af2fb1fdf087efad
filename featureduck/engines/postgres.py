"""PostgreSQL through psycopg 3 and a psycopg_pool pool; imported only when connecting.

Each thread of a run checks one connection out of the pool and keeps it for
the run, so a model's statements (and its temporary tables) share a session.
Connections are in autocommit mode; `transaction()` groups statements.

Postgres binds views to the relations they read: dropping a table that a
view reads fails, and CASCADE would silently drop the view. So a rebuild
captures the dependent views and materialized views (recursively), drops
with CASCADE, swaps the new relation in and recreates the dependents from
their captured definitions, all inside one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featureduck.engines.base import ColumnCheck, EngineAdapter, RelationKind, temp_name
from featureduck.errors import ConnectionFailure, DatabaseError, ProfileError

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

    from featureduck.engines.plans import Plan, PlanNode

_KINDS: dict[str, RelationKind] = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "materialized_view"}
_CONNECT_KEYS = ("host", "port", "user", "password", "dbname", "sslmode", "connect_timeout")

# Views and materialized views that depend, directly or through other views,
# on a relation: with their definitions, parents first.
_DEPENDENTS_SQL = """
WITH RECURSIVE dependents(oid, depth) AS (
    SELECT DISTINCT r.ev_class, 1
    FROM pg_depend d
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid = %s::regclass AND r.ev_class <> d.refobjid
    UNION
    SELECT r.ev_class, dependents.depth + 1
    FROM dependents
    JOIN pg_depend d ON d.refobjid = dependents.oid
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> dependents.oid
)
SELECT n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid), max(dependents.depth)
FROM dependents
JOIN pg_class c ON c.oid = dependents.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
GROUP BY n.nspname, c.relname, c.relkind, c.oid
ORDER BY max(dependents.depth), n.nspname, c.relname
"""

_INDEXES_SQL = """
SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass
"""


@dataclass(frozen=True)
class Dependent:
    """A view or materialized view to recreate after its source is rebuilt."""

    schema: str
    name: str
    kind: RelationKind
    definition: str
    indexes: tuple[str, ...]


def conninfo(settings: dict[str, Any]) -> str:
    """The DSN from `dsn`, else built from host/port/user/password/dbname (or database).
    A malformed one is a ProfileError that quotes none of it (a fragment may be a password)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    parts = {key: settings[key] for key in _CONNECT_KEYS if settings.get(key) is not None}
    if settings.get("database") is not None and "dbname" not in parts:
        parts["dbname"] = settings["database"]
    try:
        return str(make_conninfo(str(settings.get("dsn") or ""), **{k: str(v) for k, v in parts.items()}))
    except psycopg.ProgrammingError as err:
        reason = str(err).splitlines()[0]
        # psycopg quotes the piece it could not parse, which may be the password
        reason = 'a word without "="' if reason.startswith('missing "="') else reason.split('"', 1)[0].rstrip(" :")
        raise ProfileError(
            f"a Postgres connection string (dsn) is malformed: {reason}",
            hint="write a postgresql:// URI, or key=value pairs (host, port, user, password, dbname) separated by spaces",
        ) from None


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def database_address(connection: str) -> tuple[str, str, str]:
    """(host, port, database) a connection string reaches; every local spelling of the
    host is `localhost`. A malformed string raises psycopg.ProgrammingError."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(connection)
    host = str(parts.get("host") or "localhost")
    if host in _LOCAL_HOSTS or host.startswith("/"):  # one server, however it is reached locally
        host = "localhost"
    return host, str(parts.get("port") or "5432"), str(parts.get("dbname") or parts.get("user") or "")


_BYTE_ORDER_LOCALES = {"c", "posix", "c.utf8"}  # locales whose collation is byte order (spelled without dashes)


class PostgresAdapter(EngineAdapter):
    TYPE = "postgres"
    DIALECT = "postgres"
    SUPPORTS_MATERIALIZED_VIEWS = True
    SUPPORTS_MERGE = True  # MERGE arrived in PostgreSQL 15
    SUPPORTS_TRANSACTIONS = True
    SUPPORTS_NESTED_TYPES = False  # composite types must be declared first: nested values are staged as json

    def __init__(self, target: Any, threads: int | None = None) -> None:
        super().__init__(target, threads)
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._checked_out: list[psycopg.Connection[Any]] = []
        self._own: psycopg.Connection[Any] | None = None

    def conninfo(self) -> str:
        return conninfo(self.target.settings)

    def open(self) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ConnectionFailure(
                "the postgres target needs psycopg and psycopg_pool", hint="pip install 'featureduck[postgres]'"
            ) from None

        conninfo = self.conninfo()
        try:  # a direct connection first: the pool would only report a timeout
            first = psycopg.connect(conninfo, connect_timeout=10, autocommit=True)
        except psycopg.Error as err:
            raise ConnectionFailure(f"cannot connect to PostgreSQL ({self._where()}): {_first_line(err)}") from None
        # The checking connection stays the opening thread's (staging, state), so
        # a run opens one connection per worker thread and no more; the pool
        # opens those on first use, not in advance.
        self._own = first
        self._local.connection = first
        zone = self.session_time_zone()
        try:
            self._in_time_zone(first, zone)
        except psycopg.Error as err:
            first.close()
            raise self.time_zone_refused(zone, _first_line(err)) from None
        self._pool = ConnectionPool(
            conninfo, min_size=0, max_size=max(1, self.threads), kwargs={"autocommit": True}, open=True,
            configure=lambda connection: self._in_time_zone(connection, zone),
        )

    def _in_time_zone(self, connection: psycopg.Connection[Any], zone: str) -> None:
        """A connection starts in the database's zone (its TimeZone, PGTZ); it is set to the session's.
        And a double's text is its shortest exact digits, whatever the server's setting, as the
        compile's rewrite of a double cast to text reads it (compiler.double_texts)."""
        connection.execute(f"SET TIME ZONE {self.sql(exp.Literal.string(zone))}")
        connection.execute("SET extra_float_digits = 1")

    def _where(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.conninfo())
        return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"

    def close(self) -> None:
        if self._pool is not None:
            for connection in self._checked_out:
                self._pool.putconn(connection)
            self._checked_out.clear()
            self._pool.close()
            self._pool = None
        if self._own is not None:
            self._own.close()
            self._own = None
        self._local = threading.local()

    def version(self) -> str:
        rows = self.execute("SHOW server_version")
        return str(rows[0][0])

    def connection(self) -> psycopg.Connection[Any]:
        """The calling thread's connection, for what speaks psycopg itself (the online store's reads)."""
        return self._connection()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._pool is None:
            self.open()
        connection = getattr(self._local, "connection", None)
        if connection is None:
            assert self._pool is not None
            connection = self._pool.getconn()
            with self._lock:
                self._checked_out.append(connection)
            self._local.connection = connection
        return connection

    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import psycopg

        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            with self._connection().cursor() as cursor:
                cursor.execute(text, params)  # without params, % in the SQL is not a placeholder
                if cursor.description is not None:
                    return list(cursor.fetchall())
                return [(cursor.rowcount,)] if cursor.rowcount >= 0 else []
        except psycopg.Error as err:
            raise DatabaseError(str(err).strip()) from None

    def time_zone(self) -> str:
        return str(self.execute("SHOW TimeZone")[0][0])

    def text_order(self) -> str | None:
        """The database's default collation; None for C, POSIX and C.UTF-8, which compare
        text by its bytes (ICU's locales, even `und`, compare by language rules). Read as
        JSON: the columns moved between versions (PostgreSQL 17's `datlocale`)."""
        row = self.execute("SELECT to_jsonb(d) FROM pg_database AS d WHERE datname = current_database()")[0][0]
        provider = row.get("datlocprovider", "c")  # none before PostgreSQL 15: libc
        if provider == "i":
            return f"{row.get('datlocale') or row.get('daticulocale')} (ICU)"
        locale = str(row.get("datlocale") if provider == "b" else row.get("datcollate"))  # b: PostgreSQL 17's builtin
        return None if locale.replace("-", "").lower() in _BYTE_ORDER_LOCALES else locale

    def set_time_zone(self, zone: str) -> None:
        self.execute(f"SET TIME ZONE {self.sql(exp.Literal.string(zone))}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        import psycopg

        try:
            with self._connection().transaction():
                yield
        except psycopg.Error as err:  # the commit's own failure
            self.forget_catalog()
            raise DatabaseError(str(err).strip()) from None
        except BaseException:
            self.forget_catalog()
            raise

    def list_relations(self, database: str, schema: str) -> dict[str, RelationKind]:
        return self.list_catalog(database, [schema])[schema]

    def list_catalog(self, database: str, schemas: list[str]) -> dict[str, dict[str, RelationKind]]:
        rows = self.execute(
            "SELECT n.nspname, lower(c.relname), c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'f', 'v', 'm')",
            [schemas],
        )
        found: dict[str, dict[str, RelationKind]] = {schema: {} for schema in schemas}
        for schema, name, kind in rows:
            found[schema][name] = _KINDS[kind]
        return found

    def execute_script(self, statements: Sequence[exp.Expr]) -> None:
        """One simple-query round trip (psycopg sends several statements when there are no parameters)."""
        if statements:
            self.execute(";\n".join(self.sql(statement) for statement in statements))

    def quantile(self, number: exp.Expr, fraction: float) -> exp.Expr:
        ordered = exp.Order(expressions=[exp.Ordered(this=number.copy())])
        return exp.WithinGroup(this=exp.PercentileCont(this=exp.Literal.number(fraction)), expression=ordered)

    def row_digest(self, alias: str) -> exp.Expr:
        row_text = exp.cast(exp.column(alias), exp.DataType.build("TEXT"))  # the whole row, as Postgres prints it
        return exp.Sum(this=exp.Anonymous(this="HASHTEXT", expressions=[row_text]))

    def existing_columns(self, table: exp.Table) -> dict[str, str]:
        """Column -> type (as format_type spells it) of `table`; empty when there is no such table."""
        rows = self.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [self.sql(table)],
        )
        return {str(n): str(t) for n, t in rows}

    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        rows = self.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [self.sql(table)],
        )
        return [(str(n), str(t)) for n, t in rows]

    def apply_grants(self, table: exp.Table, grants: dict[str, list[str]]) -> None:
        """GRANT what the config lists; REVOKE what others hold on the relation (an incremental
        table keeps its grants between runs), never the owner's."""
        wanted = {(privilege.upper(), grantee) for privilege, grantees in grants.items()
                  for grantee in ([grantees] if isinstance(grantees, str) else grantees)}
        held = self.execute(
            "SELECT privilege_type, grantee FROM information_schema.role_table_grants "
            "WHERE table_schema = %s AND table_name = %s AND grantee <> current_user",
            [table.db or self.target.schema, table.name],
        )
        statements: list[exp.Expr] = []
        for privilege, grantee in sorted({(str(p), str(g)) for p, g in held} - wanted):
            statements.append(exp.Revoke(privileges=[exp.GrantPrivilege(this=exp.var(privilege))], kind="TABLE", securable=table.copy(),
                                         principals=[exp.GrantPrincipal(this=exp.to_identifier(grantee, quoted=True))]))
        for privilege, grantee in sorted(wanted):
            statements.append(exp.Grant(privileges=[exp.GrantPrivilege(this=exp.var(privilege))], kind="TABLE", securable=table.copy(),
                                        principals=[exp.GrantPrincipal(this=exp.to_identifier(grantee, quoted=True))]))
        self.execute_script(statements)

    def persist_docs(self, table: exp.Table, relation: str | None, columns: dict[str, str]) -> None:
        kind = "VIEW" if self.relation_kind(table) == "view" else "TABLE"
        statements: list[exp.Expr] = []
        if relation is not None:
            statements.append(exp.Comment(this=table.copy(), kind=kind, expression=exp.Literal.string(relation)))
        existing = {name for name, _ in self.columns(table)}
        for name, text in columns.items():
            if name in existing:
                column = exp.Column(this=exp.to_identifier(name, quoted=True), table=table.this.copy(),
                                    db=table.args["db"].copy() if table.args.get("db") else None)
                statements.append(exp.Comment(this=column, kind="COLUMN", expression=exp.Literal.string(text)))
        self.execute_script(statements)

    def query_columns(self, query_sql: str) -> list[tuple[str, str]]:
        """The result's description with no rows read (LIMIT 0): psycopg names each type as
        Postgres formats it, with its modifiers (`numeric(10,2)`)."""
        import psycopg

        try:
            with self._connection().cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({query_sql}) AS __fd_columns LIMIT 0")
                return [(column.name, column.type_display) for column in cursor.description or []]
        except psycopg.Error as err:
            raise DatabaseError(str(err).strip()) from None

    # --- rebuilding without losing dependents -------------------------------------------

    def dependents(self, table: exp.Table) -> list[Dependent]:
        found = []
        for schema, name, kind, definition, _ in self.execute(_DEPENDENTS_SQL, [self.sql(table)]):
            relation = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema))
            indexes = tuple(row[0] for row in self.execute(_INDEXES_SQL, [self.sql(relation)])) if kind == "m" else ()
            found.append(Dependent(schema, name, _KINDS[kind], definition, indexes))
        return found

    def _recreate(self, dependents: list[Dependent]) -> None:
        for dependent in dependents:
            relation = exp.Table(this=exp.to_identifier(dependent.name), db=exp.to_identifier(dependent.schema))
            kind = "MATERIALIZED VIEW" if dependent.kind == "materialized_view" else "VIEW"
            self.execute(f"CREATE {kind} {self.sql(relation)} AS\n{dependent.definition}")
            for index in dependent.indexes:
                self.execute(index)
            self.remember(relation, dependent.kind)

    def swap_in(self, temp: exp.Table, table: exp.Table, kind: RelationKind) -> None:
        """Replace `table` by `temp` (already built), keeping what depends on it.

        Call inside a transaction.
        """
        existing = self.relation_kind(table)
        dependents = self.dependents(table) if existing is not None else []
        if existing is not None:
            self.execute(_drop(table, existing, cascade=bool(dependents)))
            self.remember(table, None)
        action = exp.AlterRename(this=exp.Table(this=exp.to_identifier(table.name)))
        alter_kind = "MATERIALIZED VIEW" if kind == "materialized_view" else kind.upper()
        self.execute(exp.Alter(this=temp, kind=alter_kind, actions=[action]))
        self.remember(temp, None)
        self.remember(table, kind)
        self._recreate(dependents)

    @contextmanager
    def _new_table(self, table: exp.Table) -> Iterator[exp.Table]:
        """A transaction to build a new version of `table` in, under the name it yields:
        a temporary one, swapped in at the end, so the old table serves readers until the
        commit; or, for a table built for the first time, its own (there is nothing to
        keep, and that saves a drop, a rename and the dependents' lookup)."""
        first = self.relation_kind(table) is None
        building = table if first else temp_name(table)
        with self.transaction():
            if not first:
                self.drop(building, "table")
            yield building
            if first:
                self.remember(table, "table")
            else:
                self.swap_in(building, table, "table")

    def replace_table(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> int | None:
        with self._new_table(table) as building:
            rows = self.create_table_as(building, query_sql)
            if check is not None:
                check(self.columns(building))
        return rows

    def replace_view(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> None:
        """CREATE OR REPLACE VIEW when Postgres allows it (same leading columns),
        else build the view under a temporary name and swap it in, keeping dependents.
        A check reads the new view's columns inside the transaction."""
        existing = self.relation_kind(table)
        if existing in (None, "view"):
            try:
                with self.transaction():
                    self.create_view(table, query_sql)
                    if check is not None:
                        check(self.columns(table))
                return
            except DatabaseError:  # columns removed or retyped: not replaceable in place
                if existing is None:
                    raise
        temp = temp_name(table)
        with self.transaction():
            self.drop(temp, "view")
            self.create_view(temp, query_sql)
            if check is not None:
                check(self.columns(temp))
            self.swap_in(temp, table, "view")

    def create_materialized_view(
        self, table: exp.Table, query_sql: str, unique_key: list[str], check: ColumnCheck | None = None
    ) -> int | None:
        """Build a new materialized view (populated) and swap it in."""
        temp = temp_name(table)
        with self.transaction():
            self.drop(temp, "materialized_view")
            head = exp.Create(this=temp, kind="MATERIALIZED VIEW")
            rows = self.execute(f"{self.sql(head)} AS\n{query_sql}")
            if check is not None:
                check(self.columns(temp))
            self.swap_in(temp, table, "materialized_view")
            if unique_key:  # REFRESH ... CONCURRENTLY needs a unique index
                index = exp.to_identifier(f"{table.name}__fduck_key")
                columns = ", ".join(self.sql(exp.to_identifier(k)) for k in unique_key)
                self.execute(f"CREATE UNIQUE INDEX {self.sql(index)} ON {self.sql(table)} ({columns})")
        return rows[0][0] if rows else None

    def load_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """COPY into a new version of the table (swapped in, dependents kept; see _new_table)."""
        with self._new_table(table) as building:
            self.execute(exp.Create(this=exp.Schema(this=building, expressions=_column_definitions(columns)), kind="TABLE"))
            total = self._copy_in(building, [name for name, _ in columns], batches)
        return total

    def load_temp_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """A session's temporary table, COPYed from rows typed as DuckDB types them."""
        self.drop(table, "table")
        create = exp.Create(this=exp.Schema(this=table, expressions=_column_definitions(columns)), kind="TABLE",
                            properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        self.execute(create)
        return self._copy_in(table, [name for name, _ in columns], batches)

    def append_arrow(self, table: exp.Table, data: Any) -> int:
        """COPY on the thread's connection, so it commits with the caller's transaction."""
        names = list(data.column_names)
        batches = (list(zip(*(_copy_values(batch.column(n)) for n in names), strict=True)) for batch in data.to_batches(50_000))
        return self._copy_in(table, names, batches)

    def _copy_in(self, table: exp.Table, names: list[str], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        import psycopg

        columns = ", ".join(self.sql(exp.to_identifier(name)) for name in names)
        total = 0
        try:
            with self._connection().cursor() as cursor, cursor.copy(f"COPY {self.sql(table)} ({columns}) FROM STDIN") as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)
                    total += len(batch)
        except psycopg.Error as err:
            raise DatabaseError(f"loading {self.sql(table)}: {str(err).strip()}") from None
        return total

    def explain_analyze(self, sql: str) -> Plan:
        """EXPLAIN (ANALYZE, FORMAT JSON), run in a transaction that is rolled back."""
        import psycopg

        from featureduck.engines.plans import Plan

        try:
            with self._connection().transaction(force_rollback=True), self._connection().cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                row = cursor.fetchone()
        except psycopg.Error as err:
            raise DatabaseError(str(err).strip()) from None
        document = row[0][0] if row else {}
        return Plan(_plan_node(document["Plan"]), float(document.get("Execution Time", 0.0)) / 1000)

    def fetch(self, sql: str | exp.Expr, form: str) -> Any:
        """A query's result as a pandas DataFrame (`form` "pandas") or an Arrow table ("arrow")."""
        import psycopg

        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            with self._connection().cursor() as cursor:
                cursor.execute(text)
                names = [column.name for column in cursor.description or []]
                rows = cursor.fetchall()
        except psycopg.Error as err:
            raise DatabaseError(str(err).strip()) from None
        if form == "pandas":
            import pandas

            return pandas.DataFrame.from_records(rows, columns=names)
        import pyarrow

        # by column, so a result of no rows still has its columns
        return pyarrow.table({name: [row[i] for row in rows] for i, name in enumerate(names)})

    def refresh_materialized_view(self, table: exp.Table, concurrently: bool) -> None:
        keyword = " CONCURRENTLY" if concurrently else ""
        self.execute(f"REFRESH MATERIALIZED VIEW{keyword} {self.sql(table)}")


def _column_definitions(columns: list[tuple[str, str]]) -> list[exp.ColumnDef]:
    """(name, DuckDB type) pairs as Postgres column definitions."""
    return [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(t, dialect="duckdb")) for n, t in columns]


def _drop(table: exp.Table, kind: RelationKind, cascade: bool) -> exp.Drop:
    materialized = kind == "materialized_view"
    return exp.Drop(
        tables=[table], kind="VIEW" if materialized else kind.upper(), materialized=materialized, exists=True, cascade=cascade
    )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _plan_node(node: dict[str, Any]) -> PlanNode:
    """A plan node with its own time: Postgres reports a node's time per loop with its
    children's included, so theirs (times their loops) is taken off."""
    from featureduck.engines.plans import PlanNode

    children = [_plan_node(child) for child in node.get("Plans", [])]
    loops = int(node.get("Actual Loops", 1) or 1)
    total = float(node.get("Actual Total Time", 0.0)) * loops / 1000
    inner = sum(float(c.get("Actual Total Time", 0.0)) * int(c.get("Actual Loops", 1) or 1) / 1000 for c in node.get("Plans", []))
    shown = [f"{key}: {node[key]}" for key in ("Relation Name", "Filter", "Hash Cond", "Merge Cond", "Join Filter", "Index Cond",
                                               "Group Key", "Sort Key") if node.get(key)]
    return PlanNode(str(node.get("Node Type")), "; ".join(str(part) for part in shown), max(total - inner, 0.0),
                    int(node.get("Actual Rows", 0)) * loops, children)


def _copy_values(column: Any) -> list[Any]:
    """A column's values as COPY writes them: an interval (Arrow's months, days and
    nanoseconds, which psycopg would write as a tuple's text) as Postgres's interval text."""
    import pyarrow

    kind = column.type
    if pyarrow.types.is_interval(kind):
        return [None if v is None else _interval_text(v) for v in column.to_pylist()]
    if pyarrow.types.is_list(kind) and pyarrow.types.is_interval(kind.value_type):
        return [None if vs is None else [None if v is None else _interval_text(v) for v in vs] for vs in column.to_pylist()]
    return list(column.to_pylist())


def _interval_text(value: Any) -> str:
    return f"{value.months} mons {value.days} days {value.nanoseconds // 1000} microseconds"

