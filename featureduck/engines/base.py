"""The interface every engine adapter implements, and the DDL they share.

Statements around a model's query (CREATE, MERGE, ALTER ... RENAME) are
sqlglot expressions generated in the engine's dialect. The model's own query
is already target SQL produced by the compiler; it is attached to a generated
statement head rather than parsed a second time on the run's hot path.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlglot import exp

import featureduck.compiler.dialects  # noqa: F401 - sqlglot's Postgres generator quotes reserved words
from featureduck.config.profiles import TargetConfig
from featureduck.engines.traits import EngineTraits, engine_traits
from featureduck.errors import ProfileError

if TYPE_CHECKING:
    import pyarrow as pa

    from featureduck.engines.plans import Plan

# Called with a freshly built relation's (name, type) columns before it replaces the
# previous one; raises (a FeatureDuckError) to keep the previous relation.
ColumnCheck = Callable[[list[tuple[str, str]]], None]

RelationKind = str  # "table" | "view" | "materialized_view"
TEMP_SUFFIX = "__fduck_tmp"
DEFAULT_TIME_ZONE = "UTC"  # a session's zone where the output names none (EngineAdapter.session_time_zone)


def temp_name(table: exp.Table) -> exp.Table:
    """Where a relation is built before it is swapped in: `<name>__fduck_tmp`, same schema."""
    temp = table.copy()
    temp.set("this", exp.to_identifier(table.name + TEMP_SUFFIX))
    return temp


class LocalEngine(Protocol):
    """DuckDB in this process (the `local_reader` trait): what only it does with local data."""

    def register(self, name: str, data: Any) -> None:
        """A pandas frame or Arrow table readable as `name`."""

    def load_arrow(self, table: exp.Table, data: Any) -> int:
        """Replace `table` with an Arrow table's rows; the count."""

    def load_extension(self, name: str) -> None: ...

    def attach(self, alias: str, kind: str, connection: str) -> None:
        """A database (postgres, mysql, ducklake) readable as `alias`."""

    def progress_bar(self, enabled: bool) -> AbstractContextManager[None]: ...


class EngineAdapter(ABC):
    """Primitives a materialization strategy composes; flags say what degrades."""

    TYPE: ClassVar[str]
    DIALECT: ClassVar[str]
    SUPPORTS_MATERIALIZED_VIEWS: ClassVar[bool] = False
    SUPPORTS_MERGE: ClassVar[bool] = False
    SUPPORTS_TRANSACTIONS: ClassVar[bool] = False
    SUPPORTS_NESTED_TYPES: ClassVar[bool] = True  # structs, lists, maps as column types; else staged as JSON

    def __init__(self, target: TargetConfig, threads: int | None = None) -> None:
        self.target = target
        self.threads = threads or target.threads  # threads that will use this adapter at once
        # What exists, per (database, schema), loaded with one query per schema
        # and kept current by the DDL below: a catalog query per model would
        # cost more than building a small view. Cleared when a transaction
        # rolls back, since the DDL inside it did not happen.
        self._relations: dict[tuple[str, str], dict[str, RelationKind]] = {}
        self._schemas: set[tuple[str, str]] = set()
        self._schema_lock = threading.Lock()

    @property
    def traits(self) -> EngineTraits:
        return engine_traits(self.TYPE)

    def local(self) -> LocalEngine | None:
        """Itself, when it is DuckDB in this process (reads local files, frames and Arrow); else None."""
        return None

    def quantile(self, number: exp.Expr, fraction: float) -> exp.Expr:
        """The interpolated quantile, as this engine spells it."""
        return exp.PercentileCont(this=number.copy(), expression=exp.Literal.number(fraction))

    # --- connection --------------------------------------------------------------------

    @abstractmethod
    def open(self) -> None:
        """Connect; raises ConnectionFailure with a clear reason."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's cursor and fetch its rows."""

    def execute_script(self, statements: Sequence[exp.Expr]) -> None:
        """Run statements in order; engines that take several at once do it in one round trip."""
        for statement in statements:
            self.execute(statement)

    @abstractmethod
    def time_zone(self) -> str:
        """The session's time zone: how the engine turns naive timestamps into instants."""

    @abstractmethod
    def set_time_zone(self, zone: str) -> None: ...

    def session_time_zone(self) -> str:
        """The zone every connection's local times are in (a zoned time cast to a date or a
        naive time, extract(), date_trunc(), current_date): the output's `time_zone`, UTC
        unless it names one, so that neither the machine's zone nor the database's
        changes a model's rows, and a project gives one answer on every engine."""
        zone = self.target.settings.get("time_zone", DEFAULT_TIME_ZONE)
        if not isinstance(zone, str) or not zone.strip():
            raise ProfileError(f"output '{self.target.name}': time_zone must be a zone name such as UTC or Europe/Berlin, "
                               f"not {zone!r}")
        return zone

    def time_zone_refused(self, zone: str, reason: str) -> ProfileError:
        """The error for a zone the engine does not know, naming the output."""
        return ProfileError(f"output '{self.target.name}': time_zone {zone!r}: {reason.splitlines()[0]}")

    def text_order(self) -> str | None:
        """The collation text is compared and sorted by where a query names none; None:
        byte order (code point order of UTF-8), DuckDB's and Spark's own."""
        return None

    @contextmanager
    def in_time_zone(self, zone: str) -> Iterator[None]:
        previous = self.time_zone()
        self.set_time_zone(zone)
        try:
            yield
        finally:
            self.set_time_zone(previous)

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""

    # --- catalog -----------------------------------------------------------------------

    @abstractmethod
    def list_relations(self, database: str, schema: str) -> dict[str, RelationKind]:
        """Lower-cased name -> kind of every relation in one schema."""

    def list_catalog(self, database: str, schemas: list[str]) -> dict[str, dict[str, RelationKind]]:
        """`list_relations` of several schemas; engines that can answer in one query."""
        return {schema: self.list_relations(database, schema) for schema in schemas}

    def preload_catalog(self, tables: Iterable[exp.Table]) -> None:
        """Learn the schemas of `tables` together: a run knows up front which
        schemas it touches, and one catalog query is cheaper than one per schema."""
        wanted: dict[str, set[str]] = {}
        for table in tables:
            if (table.catalog, table.db) not in self._relations:
                wanted.setdefault(table.catalog, set()).add(table.db)
        for database, schemas in wanted.items():
            for schema, kinds in self.list_catalog(database, sorted(schemas)).items():
                self._relations[(database, schema)] = kinds

    def relation_kind(self, table: exp.Table) -> RelationKind | None:
        """'table', 'view' or None when the relation does not exist."""
        key = (table.catalog, table.db)
        known = self._relations.get(key)
        if known is None:
            known = self.list_relations(*key)
            self._relations[key] = known
        return known.get(table.name.lower())

    def remember(self, table: exp.Table, kind: RelationKind | None) -> None:
        """Note a relation made (or dropped) outside the adapter's own DDL methods."""
        known = self._relations.get((table.catalog, table.db))
        if known is not None:
            if kind is None:
                known.pop(table.name.lower(), None)
            else:
                known[table.name.lower()] = kind

    def forget_catalog(self) -> None:
        """Drop what is known of the catalog; the next lookup asks the engine."""
        self._relations.clear()
        self._schemas.clear()

    @abstractmethod
    def row_digest(self, alias: str) -> exp.Expr:
        """An aggregate over the rows of the relation aliased `alias` that changes
        when any row does (the sum of the rows' hashes): a data version."""

    @abstractmethod
    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        """(name, type) of a relation's columns, in order."""

    @abstractmethod
    def query_columns(self, query_sql: str) -> list[tuple[str, str]]:
        """(name, type) of a query's output, in order, in the engine's own type names,
        without reading its rows (engines without transactions check a view's query
        with it before creating the view; unit tests type their rows with it)."""

    # --- DDL and DML built from sqlglot expressions ------------------------------------

    def sql(self, expression: exp.Expr) -> str:
        return expression.sql(dialect=self.DIALECT)

    def create_schema(self, schema: str, database: str | None = None) -> None:
        """Once per schema and run. Threads take turns: two concurrent CREATE SCHEMA
        IF NOT EXISTS of one name can fail on Postgres (a unique-index race)."""
        key = (database or "", schema)
        if key in self._schemas:
            return
        with self._schema_lock:
            if key in self._schemas:
                return
            target = exp.Table(db=exp.to_identifier(schema), catalog=exp.to_identifier(database) if database else None)
            self.execute(exp.Create(this=target, kind="SCHEMA", exists=True))
            self._schemas.add(key)

    def create_view(self, table: exp.Table, query_sql: str) -> None:
        head = exp.Create(this=table, kind="VIEW", replace=True)
        self.execute(f"{self.sql(head)} AS\n{query_sql}")
        self.remember(table, "view")

    def create_table_as(self, table: exp.Table, query_sql: str, temporary: bool = False, replace: bool = False) -> int | None:
        properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
        head = exp.Create(this=table, kind="TABLE", properties=properties, replace=replace)
        rows = self.execute(f"{self.sql(head)} AS\n{query_sql}")
        if not temporary:
            self.remember(table, "table")
        return _count(rows)

    @abstractmethod
    def replace_table(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> int | None:
        """Rebuild a table atomically: a failure, or a `check` of the new table's
        columns that raises, leaves the previous relation in place."""

    def replace_view(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> None:
        """Make `table` a view of `query_sql`, whatever it was before. Without
        transactions the query's columns are checked before, else the view's after."""
        existing = self.relation_kind(table)
        if existing in (None, "view") and check is None:
            self.create_view(table, query_sql)
            return
        if check is not None and not self.SUPPORTS_TRANSACTIONS:
            check(self.query_columns(query_sql))
        with self.transaction():
            if existing not in (None, "view"):
                self.drop(table, existing)
            self.create_view(table, query_sql)
            if check is not None and self.SUPPORTS_TRANSACTIONS:
                check(self.columns(table))

    def load_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """Replace `table` with these rows; columns are (name, DuckDB type). Engines
        that cannot read files in place implement it, so file sources can be staged."""
        raise NotImplementedError(f"{self.TYPE} cannot load rows; it reads files in place")

    def append_arrow(self, table: exp.Table, data: pa.Table) -> int:
        """Append an Arrow table's rows to an existing table, by column name, inside the
        caller's transaction (a stream's batch lands with its offsets). Engines whose
        traits say `lands_streams` implement it."""
        raise NotImplementedError(f"{self.TYPE} cannot append rows in a transaction")

    def load_temp_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """Rows into a temporary relation of this session (training-set entity rows);
        engines whose SQL cannot read DuckDB's input directly implement it."""
        raise NotImplementedError(f"{self.TYPE} reads the entity rows itself")

    def apply_grants(self, table: exp.Table, grants: dict[str, list[str]]) -> None:
        """dbt's `grants`: each privilege to its grantees, and no other grantee keeps one.
        Engines whose traits say they apply grants implement it."""
        raise NotImplementedError(f"{self.TYPE} does not apply grants")

    def persist_docs(self, table: exp.Table, relation: str | None, columns: dict[str, str]) -> None:
        """dbt's `persist_docs`: the model's description (None: not asked) and its columns'
        as the database's comments. Engines whose traits say they persist docs implement it."""
        raise NotImplementedError(f"{self.TYPE} does not persist docs")

    @abstractmethod
    def fetch(self, sql: str | exp.Expr, form: str) -> Any:
        """A query's result as a pandas DataFrame (`form` "pandas") or an Arrow table ("arrow")."""

    def register_function(self, name: str, params: list[str], returns: str, vectorized: bool, function: Callable[..., Any]) -> None:
        """Make a Python function callable from SQL as `name` (types in the engine's
        dialect); `vectorized` functions take and return pyarrow Arrays. Engines whose
        traits say `python_udfs` implement it."""
        raise NotImplementedError(f"{self.TYPE} cannot run Python functions")

    @abstractmethod
    def explain_analyze(self, sql: str) -> Plan:
        """Run a query for its plan with each operator's time (its rows are discarded)."""

    def stream(self, sql: str | exp.Expr) -> pa.RecordBatchReader:
        """A query's rows as Arrow batches for a consumer that writes them as they come.
        Here the whole result, fetched first; engines that can hand rows over in
        pieces (Spark, a partition at a time) override it."""
        table: pa.Table = self.fetch(sql, "arrow")
        return table.to_reader()

    def create_materialized_view(
        self, table: exp.Table, query_sql: str, unique_key: list[str], check: ColumnCheck | None = None
    ) -> int | None:
        """Build (or rebuild) a native materialized view; see SUPPORTS_MATERIALIZED_VIEWS."""
        raise NotImplementedError(f"{self.TYPE} has no materialized views")

    def refresh_materialized_view(self, table: exp.Table, concurrently: bool) -> None:
        raise NotImplementedError(f"{self.TYPE} has no materialized views")

    def drop(self, table: exp.Table, kind: RelationKind) -> None:
        materialized = kind == "materialized_view"
        self.execute(exp.Drop(tables=[table], kind="VIEW" if materialized else kind.upper(), materialized=materialized, exists=True))
        self.remember(table, None)

    def rename(self, table: exp.Table, new_identifier: str) -> None:
        action = exp.AlterRename(this=exp.Table(this=exp.to_identifier(new_identifier)))
        self.execute(exp.Alter(this=table, kind="TABLE", actions=[action]))
        kind = self.relation_kind(table) or "table"
        self.remember(table, None)
        renamed = table.copy()
        renamed.set("this", exp.to_identifier(new_identifier))
        self.remember(renamed, kind)

    def add_column(self, table: exp.Table, name: str, kind: str) -> None:
        """A new column of `kind` (the engine's own type text, as `columns` gives it)."""
        column = exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=exp.DataType.build(kind, dialect=self.DIALECT))
        self.execute(exp.Alter(this=table, kind="TABLE", actions=[column]))

    def drop_column(self, table: exp.Table, name: str) -> None:
        drop = exp.Drop(tables=[exp.column(name, quoted=True)], kind="COLUMN")
        self.execute(exp.Alter(this=table, kind="TABLE", actions=[drop]))

    def insert_by_name(self, target: exp.Table, source: exp.Table, columns: list[str]) -> int | None:
        select = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(source)
        schema = exp.Schema(this=target, expressions=[exp.to_identifier(c, quoted=True) for c in columns])
        insert = exp.Insert(this=schema, expression=select)
        return _count(self.execute(insert))

    def delete_matching(self, target: exp.Table, source: exp.Table, keys: list[str]) -> int | None:
        """Delete target rows whose key appears in source (delete+insert, merge emulation)."""
        key_tuple = exp.Tuple(expressions=[exp.column(k, quoted=True) for k in keys])
        subquery = exp.select(*[exp.column(k, quoted=True) for k in keys]).from_(source)
        condition = exp.In(this=key_tuple if len(keys) > 1 else exp.column(keys[0], quoted=True), query=exp.Subquery(this=subquery))
        return _count(self.execute(exp.Delete(this=target, where=exp.Where(this=condition))))

    def upsert(self, target: exp.Table, source: exp.Table, keys: list[str], columns: list[str], use_merge: bool) -> int | None:
        """Rows of `source` replace those of `target` with the same keys; call in a
        transaction. MERGE where asked for and supported, else delete+insert."""
        if use_merge and self.SUPPORTS_MERGE:
            return self.merge(target, source, keys, columns)
        self.delete_matching(target, source, keys)
        return self.insert_by_name(target, source, columns)

    def merge(self, target: exp.Table, source: exp.Table, keys: list[str], columns: list[str]) -> int | None:
        """MERGE on `keys`: update matched rows, insert new ones."""
        t, s = "__fduck_t", "__fduck_s"
        on = exp.and_(*[exp.column(k, t, quoted=True).eq(exp.column(k, s, quoted=True)) for k in keys])
        updates = [
            exp.EQ(this=exp.column(c, quoted=True), expression=exp.column(c, s, quoted=True)) for c in columns if c not in keys
        ]
        insert = exp.Insert(
            this=exp.Tuple(expressions=[exp.column(c, quoted=True) for c in columns]),
            expression=exp.Tuple(expressions=[exp.column(c, s, quoted=True) for c in columns]),
        )
        whens = []
        if updates:
            whens.append(exp.When(matched=True, then=exp.Update(expressions=updates)))
        whens.append(exp.When(matched=False, then=insert))
        merge = exp.Merge(
            this=_aliased(target, t),
            using=_aliased(source, s),
            on=on,
            whens=exp.Whens(expressions=whens),
        )
        return _count(self.execute(merge))


def _aliased(table: exp.Table, alias: str) -> exp.Table:
    copy = table.copy()
    copy.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return copy


def _count(rows: list[tuple[Any, ...]]) -> int | None:
    if rows and len(rows[0]) == 1 and isinstance(rows[0][0], int):
        return int(rows[0][0])
    return None
