"""The target as a run-time render sees it (templating.introspection.Database).

A query handed to `run_query` or a `statement` block is the user's own text,
sent as written, as dbt sends it; only the relation placeholders `ref()`,
`source()` and `this` rendered into it are swapped for the relations' names
(Compiler.resolve_text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject, Compiler
from featureduck.compiler.relations import Relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import TemplateError


class RunDatabase:
    """Introspective queries of one run, on its adapter; `current_model()` names the
    model rendering on this thread (what `this` is)."""

    def __init__(self, adapter: EngineAdapter, compiler: Compiler, project: Callable[[], CompiledProject],
                 current_model: Callable[[], str]) -> None:
        """`project()`: the compiled project, asked on first use (a session opens before it compiles)."""
        self.adapter = adapter
        self.compiler = compiler
        self._project = project
        self.current_model = current_model

    def resolve(self, sql: str) -> str:
        """`sql` with each relation placeholder replaced by its relation; `this` is the
        model rendering on this thread."""
        name = self.current_model()
        model = self._project().models.get(name)
        this = model.relation if model else Relation(self.compiler.target.schema, name)
        return self.compiler.resolve_text(sql, self._project(), this)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        table = self.adapter.fetch(self.resolve(sql), "arrow")
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return list(table.column_names), list(zip(*columns, strict=True)) if columns else []

    def columns(self, relation: Any) -> list[tuple[str, str]]:
        table = self._table(relation)
        if self.adapter.relation_kind(table) is None:
            self.adapter.forget_catalog()  # built earlier in this run, after the catalog was read
            if self.adapter.relation_kind(table) is None:
                return []
        return self.adapter.columns(table)

    def exists(self, database: str | None, schema: str | None, identifier: str) -> bool:
        self.adapter.forget_catalog()
        return self.adapter.relation_kind(Relation(schema or self.compiler.target.schema, identifier, database).to_table()) is not None

    def _table(self, relation: Any) -> exp.Table:
        text = self.resolve(str(relation))
        try:
            parsed = exp.maybe_parse(text, into=exp.Table, dialect=self.adapter.DIALECT)
        except Exception:  # noqa: BLE001 - sqlglot's parse errors: not a relation name
            raise TemplateError(f"'{relation}' does not name a relation") from None
        return parsed
