"""Column-level lineage: which upstream columns a model's column is derived from, across
models down to seeds and sources, from the compiled SQL with sqlglot's lineage.

Stars are expanded with the columns each upstream relation gives: a model's from its
own compiled SQL (recursively), a seed's from its CSV header, a source's from its YAML
columns. A column that cannot be traced (a star over a source with no declared
columns) is an error naming it, never a guess.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featureduck.compiler.relations import source_expression
from featureduck.errors import CompilationError, SourceLocation

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope
    from sqlglot.schema import MappingSchema

    from featureduck.compiler.compile import CompiledModel, CompiledProject, Compiler


@dataclass
class ColumnLineage:
    """A column of a node, and the columns it is computed from."""

    node: str  # a node id: model.<project>.<name>, seed..., source...
    column: str
    upstream: list[ColumnLineage] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "column": self.column, "upstream": [u.to_dict() for u in self.upstream]}


class LineageTracer:
    """Traces columns over one compiled project."""

    def __init__(self, compiler: Compiler, project: CompiledProject) -> None:
        self.compiler = compiler
        self.project = project
        self.dialect = compiler.target_dialect
        definition = compiler.definition
        # (schema, identifier) of every relation a compiled query may read -> its node id
        self.relations: dict[tuple[str, str], str] = {
            self._key(m.relation.to_table()): m.unique_id for m in project.models.values()
        }
        for name, relation in compiler.seed_relations().items():
            self.relations[self._key(relation.to_table())] = definition.seeds[name].unique_id
        for table in definition.sources.values():
            expression = source_expression(table, definition.config.root, compiler.target.traits, compiler.target.schema)
            self.relations[self._key(expression)] = table.unique_id
        self._columns: dict[str, list[str] | None] = {}
        self._all: MappingSchema | None = None
        self._trees: dict[str, exp.Expr | None] = {}

    def trace(self, model: str, column: str) -> ColumnLineage:
        compiled = self.project.models.get(model)
        if compiled is None:
            raise CompilationError(f"no compiled model '{model}' to trace", hint="fduck compile shows why it did not compile")
        return self._trace(compiled.unique_id, column)

    def _trace(self, uid: str, column: str) -> ColumnLineage:
        found = ColumnLineage(uid, column)
        name = uid.split(".", 2)[2]
        model = self.project.models.get(name) if uid.startswith(("model.", "snapshot.")) else None
        if model is None:  # a seed or a source: where lineage ends
            return found
        for parent, upstream_column in self._parents(model, column, None):
            found.upstream.append(self._trace(parent, upstream_column))
        return found

    def direct(self, name: str) -> dict[str, list[tuple[str, str]]]:
        """Every output column of a model with the (node, column) pairs it is computed
        from one hop up; the query is qualified once for all its columns. A model whose
        columns cannot be known (a star over an undeclared source) gives none."""
        from sqlglot.optimizer.scope import build_scope

        model = self.project.models[name]
        columns = self.columns(model.unique_id)
        if not columns:
            return {}
        qualified = self._qualified(model.sql)
        scope = build_scope(qualified) if qualified is not None else None
        prepared = (qualified, scope) if qualified is not None and scope is not None else None
        return {column: sorted(self._parents(model, column, prepared)) for column in columns}

    def _parents(self, model: CompiledModel, column: str, prepared: tuple[exp.Expr, Scope] | None) -> list[tuple[str, str]]:
        """The upstream (node, column) pairs one column of a model reads."""
        from sqlglot.errors import SqlglotError
        from sqlglot.lineage import lineage

        try:
            if prepared is None:
                root = lineage(column, model.sql, self._schema(), dialect=self.dialect)
            else:
                root = lineage(column, prepared[0], self._schema(), dialect=self.dialect, scope=prepared[1])
        except SqlglotError as err:
            star = "*" in model.sql and self.columns(model.unique_id) is None
            hint = "it selects * from a relation whose columns are not known: declare a source's columns in its YAML" if star else None
            raise CompilationError(f"lineage of {model.name}.{column}: {str(err).splitlines()[0]}", SourceLocation(model.path),
                                   hint) from None
        parents: list[tuple[str, str]] = []
        for node in root.walk():
            table = node.expression
            if not node.downstream and _is_table(table):
                parent = self.relations.get(self._key(table))
                pair = (parent, self._column_name(node.name)) if parent else None
                if pair is not None and pair not in parents:
                    parents.append(pair)
        return parents

    def _column_name(self, written: str) -> str:
        """A lineage node's name (`"t"."id"` once qualified) as the bare column name."""
        import sqlglot
        from sqlglot.errors import SqlglotError

        try:
            return sqlglot.parse_one(written, read=self.dialect, into=sqlglot.exp.Column).name
        except SqlglotError:
            return written.rsplit(".", 1)[-1]

    def _key(self, table: exp.Expr) -> tuple[str, str]:
        """How a compiled query names a relation: (schema, name), or a file source's reader call."""
        from sqlglot import exp

        if isinstance(table, exp.Table) and isinstance(table.this, exp.Func):
            return ("", table.this.sql(dialect=self.dialect).lower())
        return (str(table.args["db"].name if table.args.get("db") else "").lower(), table.name.lower())

    def _schema(self) -> MappingSchema:
        """Every relation's columns as far as they are known, for expanding stars: built and
        normalized once (sqlglot normalizes a plain mapping again on every call)."""
        if self._all is None:  # a reader call cannot be a schema key: its star stays unexpanded
            from sqlglot.schema import MappingSchema

            tables: dict[str, dict[str, dict[str, str]]] = {}
            for (db, identifier), uid in self.relations.items():
                columns = self.columns(uid)
                if columns and db:
                    tables.setdefault(db, {})[identifier] = {c: "text" for c in columns}
            self._all = MappingSchema(dict(tables), dialect=self.dialect)
        return self._all

    def columns(self, uid: str) -> list[str] | None:
        """The columns a node gives, when they can be known without a database."""
        if uid in self._columns:
            return self._columns[uid]
        self._columns[uid] = None  # a cycle through stars stays unknown
        definition = self.compiler.definition
        kind, _, rest = uid.partition(".")
        name = rest.split(".", 1)[1]
        found: list[str] | None = None
        if kind in ("model", "snapshot") and name in self.project.models:
            found = self._query_columns(self.project.models[name].sql)
        elif kind == "seed" and name in definition.seeds:
            with Path(definition.config.root, definition.seeds[name].path).open(newline="") as handle:
                found = next(csv.reader(handle), None)
        elif kind == "source":
            table = next((t for t in definition.sources.values() if t.unique_id == uid), None)
            found = list(table.columns) if table is not None and table.columns else None
        self._columns[uid] = found
        return found

    def _query_columns(self, sql: str) -> list[str] | None:
        import sqlglot

        tree = self._qualified(sql)
        if not isinstance(tree, sqlglot.exp.Query) or any(isinstance(s, sqlglot.exp.Star) for s in tree.selects):
            return None
        return list(tree.named_selects)

    def _qualified(self, sql: str) -> exp.Expr | None:
        """The query qualified, once per query: its columns and its lineage both read it."""
        import sqlglot
        from sqlglot.errors import SqlglotError
        from sqlglot.optimizer.qualify import qualify

        if sql not in self._trees:
            try:
                self._trees[sql] = qualify(sqlglot.parse_one(sql, read=self.dialect), schema=self._schema_for(sql),
                                           dialect=self.dialect, validate_qualify_columns=False)
            except SqlglotError:
                self._trees[sql] = None
        return self._trees[sql]

    def _schema_for(self, sql: str) -> dict[str, Any]:
        """The columns of the relations one query reads (each found recursively)."""
        import sqlglot

        schema: dict[str, dict[str, dict[str, str]]] = {}
        for table in sqlglot.parse_one(sql, read=self.dialect).find_all(sqlglot.exp.Table):
            key = self._key(table)
            uid = self.relations.get(key)
            columns = self.columns(uid) if uid else None
            if columns and key[0]:
                schema.setdefault(key[0], {})[key[1]] = {c: "text" for c in columns}
        return schema


def _is_table(expression: exp.Expr) -> bool:
    from sqlglot import exp

    return isinstance(expression, exp.Table)
