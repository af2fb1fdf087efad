"""What Jinja may ask the database while it renders: dbt's `execute`, `run_query`,
`statement`/`load_result` and the `adapter` methods that look at relations.

dbt renders a model twice. At parse time `execute` is false and nothing is
queried (refs are found); at run time `execute` is true and the queries run.
featureduck does the same: a compile renders with no database, and a model
whose render asked for one (it read `execute`, or called one of these) is
marked so the run renders it again on the target, just before building it.
The database itself is behind the small `Database` protocol the compiler
implements, so this layer never imports an engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from featureduck.errors import TemplateError
from featureduck.templating.relation_like import RelationLike


class Database(Protocol):
    """The target, as a render at run time reaches it (compiler.run_database)."""

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run `sql` (its relation placeholders resolved): column names and rows."""

    def columns(self, relation: Any) -> list[tuple[str, str]]:
        """(name, type) of a relation's columns; empty when it does not exist."""

    def exists(self, database: str | None, schema: str | None, identifier: str) -> bool: ...


class QueryColumn:
    """One column of a query result, as agate shows it: a name and `values()`."""

    def __init__(self, name: str, values: list[Any]) -> None:
        self.name = name
        self._values = values

    def values(self) -> list[Any]:
        return list(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class QueryRow(tuple):  # type: ignore[type-arg]
    """A row: by position, or by column name (`row['id']`, `row.id`)."""

    names: tuple[str, ...] = ()

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> QueryRow:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def __getattr__(self, name: str) -> Any:
        if name in self.names:
            return self[name]
        raise AttributeError(name)

    def keys(self) -> tuple[str, ...]:
        return self.names

    def values(self) -> tuple[Any, ...]:
        return tuple(self)

    def items(self) -> list[tuple[str, Any]]:
        return list(zip(self.names, self, strict=True))

    def dict(self) -> dict[str, Any]:
        return dict(self.items())


class ColumnsByName(list):  # type: ignore[type-arg]
    """agate's columns: by position or by name."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for column in self:
                if column.name == key:
                    return column
            raise KeyError(key)
        return super().__getitem__(key)


class QueryTable:
    """A query's result shaped as dbt's agate table: `rows`, `columns`, `column_names`."""

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.column_names = tuple(names)
        self.rows = [QueryRow(row, self.column_names) for row in rows]
        self.columns = ColumnsByName(QueryColumn(name, [row[i] for row in rows]) for i, name in enumerate(names))

    def __iter__(self) -> Iterator[QueryRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return True

    def print_table(self, *args: Any, **kwargs: Any) -> str:
        return ""


@dataclass
class Column:
    """`api.Column` and what `adapter.get_columns_in_relation` gives."""

    column: str
    dtype: str
    char_size: int | None = None
    numeric_precision: int | None = None
    numeric_scale: int | None = None

    @property
    def name(self) -> str:
        return self.column

    @classmethod
    def translate_type(cls, dtype: str) -> str:
        """dbt's base Column: `string` is TEXT, every other name as given."""
        return "TEXT" if dtype.upper() == "STRING" else dtype

    @classmethod
    def numeric_type(cls, dtype: str, precision: Any, scale: Any) -> str:
        return dtype if precision is None or scale is None else f"{dtype}({precision},{scale})"

    @property
    def data_type(self) -> str:
        return self.dtype

    @property
    def quoted(self) -> str:
        return '"' + self.column.replace('"', '""') + '"'

    def is_string(self) -> bool:
        return self.dtype.lower().startswith(("varchar", "text", "string", "char", "character"))

    def is_number(self) -> bool:
        return self.is_integer() or self.is_float() or self.is_numeric()

    def is_integer(self) -> bool:
        return self.dtype.lower() in ("integer", "int", "bigint", "smallint", "tinyint", "hugeint", "int4", "int8", "int2", "long")

    def is_float(self) -> bool:
        return self.dtype.lower() in ("double", "float", "real", "float4", "float8", "double precision")

    def is_numeric(self) -> bool:
        return self.dtype.lower().startswith(("decimal", "numeric"))

    def __str__(self) -> str:
        return self.column


class PhysicalRelation(RelationLike):
    """A relation named by its parts (`api.Relation.create`, `adapter.get_relation`)."""

    def __init__(self, database: str | None, schema: str | None, identifier: str) -> None:
        self.database = database
        self.schema = schema
        self.identifier = identifier

    def __str__(self) -> str:
        parts = [p for p in (self.database, self.schema, self.identifier) if p]
        return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


class RelationApi:
    """`api.Relation` and `api.Column`."""

    Column = Column

    class Relation:
        @staticmethod
        def create(database: str | None = None, schema: str | None = None, identifier: str | None = None,
                   **_: Any) -> PhysicalRelation:
            if identifier is None:
                raise TemplateError("api.Relation.create needs an identifier")
            return PhysicalRelation(database, schema, identifier)


class ExecuteFlag:
    """`execute`: true only in a run-time render; reading it marks the model as one
    that renders again at run time (its SQL may depend on the answer)."""

    def __init__(self, current: Any) -> None:
        self._current = current

    def __bool__(self) -> bool:
        state: Introspection = self._current()
        state.asked = True
        return state.execute

    def __str__(self) -> str:
        return str(bool(self))

    def __eq__(self, other: object) -> bool:
        return bool(self) == other

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Introspection:
    """Per render: whether `execute` is true, the database if so, and what the render
    asked for (so a compile knows to render the model again at run time)."""

    execute: bool = False
    database: Database | None = None
    asked: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def live(self) -> Database | None:
        self.asked = True
        return self.database if self.execute else None


class IntrospectionFunctions:
    """The Jinja names; each reads the introspection of the render in progress."""

    def __init__(self, current: Any) -> None:
        self._current = current  # () -> Introspection

    def run_query(self, sql: Any) -> QueryTable | None:
        database = self._current().live()
        if database is None:
            return None
        names, rows = database.query(str(sql))
        return QueryTable(names, rows)

    def statement(self, name: str | None = None, fetch_result: bool = False, auto_begin: bool = True,
                  language: str = "sql", caller: Any = None) -> str:
        state = self._current()
        database = state.live()
        if database is None or caller is None:
            return ""
        sql = str(caller())
        names, rows = database.query(sql)
        if name is not None:
            table = QueryTable(names, rows) if fetch_result else QueryTable([], [])
            state.results[name] = {"data": [list(r) for r in rows] if fetch_result else [], "table": table,
                                   "response": {"rows_affected": len(rows), "code": "OK"}}
        return ""

    def load_result(self, name: str) -> dict[str, Any] | None:
        return self._current().results.get(name)


class AdapterProxy:
    """`{{ adapter }}`: relation lookups against the target at run time; at parse time
    they answer empty, as dbt's do, and mark the model for a run-time render."""

    def __init__(self, current: Any, dispatch: Any, quote_char: str = '"') -> None:
        self._current = current
        self.dispatch = dispatch  # the macro registry's: MacroRegistry.dispatch
        self._quote = quote_char

    def get_columns_in_relation(self, relation: Any) -> list[Column]:
        database = self._current().live()
        if database is None:
            return []
        return [Column(name, kind) for name, kind in database.columns(relation)]

    def get_relation(self, database: str | None = None, schema: str | None = None, identifier: str | None = None) -> Any:
        live = self._current().live()
        if live is None or identifier is None:
            return None
        if not live.exists(database, schema, identifier):
            return None
        return PhysicalRelation(database, schema, identifier)

    def quote(self, identifier: str) -> str:
        return self._quote + str(identifier).replace(self._quote, self._quote * 2) + self._quote

    def __getattr__(self, name: str) -> Any:
        raise TemplateError(f"adapter.{name} is not supported by featureduck",
                            hint="supported: dispatch, get_columns_in_relation, get_relation, quote")
