"""The target as a run-time render sees it (templating.introspection.Database).

A query handed to `run_query` or a `statement` block is the user's own text,
sent as written, as dbt sends it; only the relation placeholders `ref()`,
`source()` and `this` rendered into it are swapped for the relations' names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledProject, Compiler
from featureduck.compiler.relations import Relation, source_expression
from featureduck.engines.base import EngineAdapter
from featureduck.errors import TemplateError
from featureduck.templating.context import REF_PREFIX, SOURCE_PREFIX, THIS_PLACEHOLDER, placeholder


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

    @functools.cached_property
    def _relations(self) -> dict[str, str]:
        """Each placeholder a render can produce, to the relation it stands for."""
        dialect = self.adapter.DIALECT
        names = {REF_PREFIX + name: model.relation.sql(dialect) for name, model in self._project().models.items()}
        names |= {REF_PREFIX + name: relation.sql(dialect) for name, relation in self.compiler.seed_relations().items()}
        definition = self.compiler.definition
        for (source, table), declared in definition.sources.items():
            expression = source_expression(declared, definition.config.root, self.adapter.traits, self.compiler.target.schema)
            names[f"{SOURCE_PREFIX}{source}__{table}"] = expression.sql(dialect=dialect)
        return names

    def _this(self) -> str:
        name = self.current_model()
        model = self._project().models.get(name)
        relation = model.relation if model else Relation(self.compiler.target.schema, name)
        return relation.sql(self.adapter.DIALECT)

    def resolve(self, sql: str) -> str:
        """`sql` with each relation placeholder (bare or quoted) replaced by its relation."""
        if REF_PREFIX not in sql and SOURCE_PREFIX not in sql and THIS_PLACEHOLDER not in sql:
            return sql
        names = {**self._relations, THIS_PLACEHOLDER: self._this()}
        spelled = {placeholder(name): text for name, text in names.items()} | names
        pattern = re.compile("|".join(re.escape(k) for k in sorted(spelled, key=len, reverse=True)))
        return pattern.sub(lambda match: spelled[match.group(0)], sql)

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
