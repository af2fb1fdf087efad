"""Apache Spark through pyspark, in local mode by default; imported only when connecting.

Relations persist between runs in a Hive catalog (an embedded Derby
metastore) under the profile's `warehouse` folder, tables stored as Parquet.
A JVM holds one SparkSession, so the adapter reuses the process's session
when its warehouse matches.

Spark has no transactions and Parquet tables take no DELETE or MERGE, so
the capability flags say so and the strategies degrade: a table is built
under a temporary name and swapped in (a failed build leaves the previous
table; the swap itself is a drop and a rename), incremental merges rebuild
the table from the kept rows plus the new ones, and materialized views are
tables refreshed each run.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from featureduck.engines.base import ColumnCheck, EngineAdapter, RelationKind, temp_name
from featureduck.errors import ConnectionFailure, DatabaseError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from featureduck.engines.plans import Plan

# Settings that start a small local session quickly (measured: seconds saved per start).
_FAST_LOCAL = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
}
_PARQUET = exp.Properties(expressions=[exp.FileFormatProperty(this=exp.var("PARQUET"))])


class SparkAdapter(EngineAdapter):
    TYPE = "spark"
    DIALECT = "spark"
    SUPPORTS_MATERIALIZED_VIEWS = False
    SUPPORTS_MERGE = False  # MERGE needs Delta or Iceberg tables, not Parquet
    SUPPORTS_TRANSACTIONS = False

    _session_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, target: Any, threads: int | None = None) -> None:
        super().__init__(target, threads)
        self._spark: SparkSession | None = None

    @property
    def warehouse(self) -> Path:
        return Path(str(self.target.settings["warehouse"]))

    def open(self) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConnectionFailure("the spark target needs pyspark", hint="pip install 'featureduck[spark]'") from None
        with self._session_lock:
            active = SparkSession.getActiveSession()
            if active is not None:
                if Path(str(active.conf.get("spark.sql.warehouse.dir", "")).removeprefix("file:")) != self.warehouse:
                    raise ConnectionFailure(
                        "this process already runs a Spark session for another warehouse "
                        f"({active.conf.get('spark.sql.warehouse.dir')})"
                    )
                self._spark = active
                self._in_session_time_zone()
                return
            self.warehouse.mkdir(parents=True, exist_ok=True)
            # Python workers (Arrow streams, UDFs) run this interpreter, which has pyarrow and the
            # project's functions' imports; pyspark reads the variable when the session starts
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = SparkSession.builder.master(str(self.target.settings.get("master", "local[2]"))).appName("featureduck")
            metastore = self.warehouse / "metastore_db"
            settings = {
                **_FAST_LOCAL,
                "spark.sql.warehouse.dir": str(self.warehouse),
                # C1 only starts fast; its default 48 MB code cache fills in long sessions
                "spark.driver.extraJavaOptions": (
                    f"-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -Dderby.system.home={self.warehouse}"
                ),
                "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
                **{str(k): str(v) for k, v in dict(self.target.settings.get("conf") or {}).items()},
            }
            for key, value in settings.items():
                builder = builder.config(key, value)
            log = self.warehouse.parent / "spark.log"
            try:
                with _jvm_output_to(log):
                    self._spark = builder.enableHiveSupport().getOrCreate()
                self._spark.sparkContext.setLogLevel("ERROR")
                # pyspark logs every failed query; featureduck reports it once, as the model's error
                logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
            except Exception as err:  # noqa: BLE001 - the JVM's failures arrive as many types
                raise ConnectionFailure(f"cannot start Spark ({settings['spark.sql.warehouse.dir']}): {err}",
                                        hint=f"the JVM's output is in {log}") from None
            self._in_session_time_zone()  # after `conf`: the output's time_zone (UTC) is the session's

    def _in_session_time_zone(self) -> None:
        zone = self.session_time_zone()
        try:
            self.set_time_zone(zone)
        except Exception as err:  # noqa: BLE001 - the JVM's refusal arrives as py4j's or pyspark's
            raise self.time_zone_refused(zone, str(err)) from None

    def close(self) -> None:
        """The session stays up for the process (starting one costs seconds)."""
        self._spark = None

    def version(self) -> str:
        return str(self._session().version)

    def _session(self) -> SparkSession:
        if self._spark is None:
            self.open()
        assert self._spark is not None
        return self._spark

    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        if params:
            raise DatabaseError("the spark adapter takes no bound parameters")
        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            return [tuple(row) for row in self._session().sql(text).collect()]
        except Exception as err:  # noqa: BLE001 - pyspark raises Py4J and Spark exception types
            raise DatabaseError(_first_line(err)) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Spark has none (SUPPORTS_TRANSACTIONS is False): statements apply one by one."""
        try:
            yield
        except BaseException:
            self.forget_catalog()
            raise

    def time_zone(self) -> str:
        return str(self._session().conf.get("spark.sql.session.timeZone"))

    def set_time_zone(self, zone: str) -> None:
        self._session().conf.set("spark.sql.session.timeZone", zone)

    def text_order(self) -> str | None:
        collation = str(self._session().conf.get("spark.sql.session.collation.default", "UTF8_BINARY"))
        return collation if collation.upper() != "UTF8_BINARY" else None

    def list_relations(self, database: str, schema: str) -> dict[str, RelationKind]:
        session = self._session()
        if not session.catalog.databaseExists(schema):
            return {}
        views = {str(row[1]).lower() for row in self.execute(f"SHOW VIEWS IN {self.sql(exp.to_identifier(schema))}")}
        tables = [str(row[1]).lower() for row in self.execute(f"SHOW TABLES IN {self.sql(exp.to_identifier(schema))}")]
        return {name: "view" if name in views else "table" for name in tables}

    def quantile(self, number: exp.Expr, fraction: float) -> exp.Expr:
        """percentile(x, q), exact and interpolated: sqlglot's percentile_cont comes out with
        two arguments, which Spark refuses."""
        return exp.Quantile(this=number.copy(), quantile=exp.Literal.number(fraction))

    def row_digest(self, alias: str) -> exp.Expr:
        return exp.Sum(this=exp.Anonymous(this="HASH", expressions=[exp.Star()]))  # of every column of the row

    def columns(self, table: exp.Table) -> list[tuple[str, str]]:
        try:
            fields = self._session().table(self.sql(table)).schema.fields
        except Exception as err:  # noqa: BLE001
            raise DatabaseError(_first_line(err)) from None
        return [(field.name, field.dataType.simpleString()) for field in fields]

    def query_columns(self, query_sql: str) -> list[tuple[str, str]]:
        """Analysed, not run: Spark plans lazily."""
        try:
            fields = self._session().sql(query_sql).schema.fields
        except Exception as err:  # noqa: BLE001
            raise DatabaseError(_first_line(err)) from None
        return [(field.name, field.dataType.simpleString()) for field in fields]

    # --- DDL: Parquet tables, cached views for temporary tables -------------------------

    def create_table_as(self, table: exp.Table, query_sql: str, temporary: bool = False, replace: bool = False) -> int | None:
        if temporary:  # no temporary tables: an eagerly cached temporary view holds the rows
            self.execute(f"CACHE TABLE {self.sql(table)} AS\n{query_sql}")
            return None
        head = exp.Create(this=table, kind="TABLE", properties=_PARQUET.copy(), replace=replace)
        self.execute(f"{self.sql(head)} AS\n{query_sql}")
        self.remember(table, "table")
        return None

    def drop(self, table: exp.Table, kind: RelationKind) -> None:
        if not table.db:  # a temporary (cached) view
            self.execute(f"UNCACHE TABLE IF EXISTS {self.sql(table)}")
            self.execute(f"DROP VIEW IF EXISTS {self.sql(table)}")
            return
        super().drop(table, "view" if kind == "view" else "table")

    def rename(self, table: exp.Table, new_identifier: str) -> None:
        renamed = table.copy()  # Spark needs the new name qualified, or it moves the table
        renamed.set("this", exp.to_identifier(new_identifier))
        self.execute(exp.Alter(this=table, kind="TABLE", actions=[exp.AlterRename(this=renamed)]))
        self.remember(table, None)
        self.remember(renamed, "table")

    def replace_table(self, table: exp.Table, query_sql: str, check: ColumnCheck | None = None) -> int | None:
        """Built under a temporary name, checked, then swapped in (no transactions)."""
        temp = temp_name(table)
        self.drop(temp, "table")
        self.create_table_as(temp, query_sql)
        if check is not None:
            try:
                check(self.columns(temp))
            except BaseException:
                self.drop(temp, "table")
                raise
        existing = self.relation_kind(table)
        if existing is not None:
            self.drop(table, existing)
        self.rename(temp, table.name)
        return None

    def upsert(self, target: exp.Table, source: exp.Table, keys: list[str], columns: list[str], use_merge: bool) -> int | None:
        """Rebuild the table: its rows without a key in `source`, plus `source`'s rows."""
        kept = (
            exp.select(*[exp.column(c, quoted=True) for c in columns])
            .from_(target.copy().as_("existing"))
            .where(
                exp.Not(this=exp.Exists(this=exp.select("1").from_(source.copy().as_("incoming")).where(
                    exp.and_(*[exp.column(k, "incoming", quoted=True).eq(exp.column(k, "existing", quoted=True)) for k in keys])
                )))
            )
        )
        incoming = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(source.copy())
        self.replace_table(target, self.sql(exp.union(kept, incoming, distinct=False)))
        return None

    def load_temp_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """A temporary view of rows typed as DuckDB types them (the session's, like a temp table)."""
        rows = [row for batch in batches for row in batch]
        self._session().createDataFrame(rows, schema=_spark_schema(self, columns)).createOrReplaceTempView(table.name)
        return len(rows)

    def register_function(self, name: str, params: list[str], returns: str, vectorized: bool, function: Callable[..., Any]) -> None:
        """An Arrow UDF when vectorized, else a row UDF whose rows travel as Arrow; a row
        with a NULL argument gives NULL without a call, as on DuckDB. The function's
        module (a project file, not importable on the workers) is pickled by value."""
        from pyspark import cloudpickle
        from pyspark.sql import functions

        module = sys.modules.get(function.__module__)
        if module is not None:
            cloudpickle.register_pickle_by_value(module)
        if vectorized:
            registered = functions.arrow_udf(function, returns)  # type: ignore[call-overload]  # stubs spell only the iterator forms
        else:
            def null_safe(*values: Any) -> Any:
                return None if any(value is None for value in values) else function(*values)

            registered = functions.udf(null_safe, returns, useArrow=True)
        self._session().udf.register(name, registered)

    def explain_analyze(self, sql: str) -> Plan:
        """Spark's formatted plan, and the query's wall time running it into the no-op
        sink (every row computed, none collected); per-operator times are in the Spark UI."""
        import time

        from featureduck.engines.plans import Plan

        try:
            frame = self._session().sql(sql)
            text = str(self._session().sql(f"EXPLAIN FORMATTED {sql}").collect()[0][0])
            started = time.perf_counter()
            frame.write.format("noop").mode("overwrite").save()
        except Exception as err:  # noqa: BLE001 - pyspark raises Py4J and Spark exception types
            raise DatabaseError(_first_line(err)) from None
        return Plan(None, time.perf_counter() - started, text)

    def fetch(self, sql: str | exp.Expr, form: str) -> Any:
        """A query's result as a pandas DataFrame (`form` "pandas") or an Arrow table ("arrow")."""
        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            frame = self._session().sql(text)
            return frame.toPandas() if form == "pandas" else frame.toArrow()
        except Exception as err:  # noqa: BLE001 - pyspark raises Py4J and Spark exception types
            raise DatabaseError(_first_line(err)) from None

    def stream(self, sql: str | exp.Expr) -> pa.RecordBatchReader:
        """Partitions as they are computed: each is turned into Arrow IPC bytes on the
        executors (mapInArrow) and fetched one at a time (toLocalIterator), so the
        driver holds one partition's batches, never the whole result. (pyspark's own
        DataFrame Arrow stream does this too, but fails on timestamp columns.)"""
        import pyarrow

        text = sql if isinstance(sql, str) else self.sql(sql)
        try:
            frame = self._session().sql(text)
            batches = _partition_batches(frame)
            first = next(batches, None)
        except Exception as err:  # noqa: BLE001 - pyspark raises Py4J and Spark exception types
            raise DatabaseError(_first_line(err)) from None
        if first is None:
            return self.fetch(text, "arrow").to_reader()  # no rows: the typed empty result
        return pyarrow.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))

    def load_rows(self, table: exp.Table, columns: list[tuple[str, str]], batches: Iterator[list[tuple[Any, ...]]]) -> int:
        """Rows (read by DuckDB, so typed as DuckDB types them) into a Parquet table."""
        rows = [row for batch in batches for row in batch]
        frame = self._session().createDataFrame(rows, schema=_spark_schema(self, columns))
        view = f"fduck_load_{table.name}"
        frame.createOrReplaceTempView(view)
        try:
            self.replace_table(table, f"SELECT * FROM {view}")
        finally:
            self._session().catalog.dropTempView(view)
        return len(rows)


def _partition_batches(frame: DataFrame) -> Iterator[pa.RecordBatch]:
    import pyarrow
    from pyspark.sql.types import BinaryType, StructField, StructType

    def serialized(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow

        for batch in batches:
            sink = pyarrow.BufferOutputStream()
            with pyarrow.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_batch(batch)
            yield pyarrow.RecordBatch.from_pydict({"ipc": [sink.getvalue().to_pybytes()]})

    schema = StructType([StructField("ipc", BinaryType(), nullable=False)])
    for row in frame.mapInArrow(serialized, schema).toLocalIterator():
        with pyarrow.ipc.open_stream(row.ipc) as reader:
            yield from reader


def _spark_schema(adapter: SparkAdapter, columns: list[tuple[str, str]]) -> str:
    """A DDL schema string for (name, DuckDB type) columns."""
    return ", ".join(
        f"{adapter.sql(exp.to_identifier(n))} {exp.DataType.build(t, dialect='duckdb').sql(dialect='spark')}" for n, t in columns
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _jvm_output_to(log: Path) -> Iterator[None]:
    """The JVM keeps the stdout and stderr it starts with: pointed at a log file, its start-up
    banner, log4j's notices and warnings (hostname, native libraries) stay off the terminal
    for the life of the session. FDUCK_DEBUG=1 (set by --debug) leaves them on it."""
    if os.environ.get("FDUCK_DEBUG"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            for fd, original in zip((1, 2), saved, strict=True):
                os.dup2(original, fd)
                os.close(original)
