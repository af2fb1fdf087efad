"""One command's connection to its target, shared by every task the command runs.

A session holds one adapter, the compiled project and what has been made
readable on the connection (database sources attached, DuckDB's reader
extensions loaded); attaching twice is a no-op, and the adapter is closed
once when the command ends. `fduck build` seeds, runs and tests on one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from featureduck.compiler.compile import CompiledProject
from featureduck.compiler.relations import is_staged, staged_relation
from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.project.nodes import SourceTable
from featureduck.runner.fingerprints import Beneath, read_beneath

if TYPE_CHECKING:
    from featureduck.tasks.workspace import Workspace


class Session:
    def __init__(self, workspace: Workspace, adapter: EngineAdapter, threads: int) -> None:
        self.workspace = workspace
        self.adapter = adapter
        self.threads = threads
        self._prepared: set[str] = set()  # source ids made readable on this connection

    @property
    def compiled(self) -> CompiledProject:
        return self.workspace.compile()

    def prepare(self, tables: Iterable[SourceTable]) -> None:
        """Make `tables` readable: attached, or their reader extensions loaded (once each)."""
        from featureduck.sources.databases import prepare_sources

        fresh = [t for t in tables if t.unique_id not in self._prepared]
        if fresh:
            prepare_sources(self.adapter, fresh, self.workspace.config.root)
            self._prepared |= {t.unique_id for t in fresh}

    def read(self, refs: Iterable[str], sources: Iterable[tuple[str, str]] = (), check_built: bool = True) -> None:
        """Make what `refs` (models and seeds) and `sources` read readable, as `run` reads
        it: the relations checked built (unless not `check_built`), and the sources
        beneath them, through views and ephemerals, attached."""
        workspace, compiled = self.workspace, self.compiled
        refs = list(refs)
        beneath = read_beneath(compiled, [compiled.models[r] for r in refs if r in compiled.models])
        unbuilt = self.unbuilt(refs, beneath) if check_built else None
        if unbuilt:
            raise UsageError(unbuilt[0], hint=unbuilt[1])
        read = [workspace.definition.sources[key] for key in sorted({*sources, *beneath.sources})]
        staged = [t for t in read if is_staged(t, self.adapter.traits)]
        for table in staged:
            if self.adapter.relation_kind(staged_relation(table, workspace.target.schema).to_table()) is None:
                raise UsageError(f"source '{table.source_name}.{table.name}' is not staged into the {workspace.target.name} target",
                                 table.location, "run `fduck run` first")
        self.prepare(t for t in read if t not in staged)

    def unbuilt(self, refs: list[str], beneath: Beneath | None = None) -> tuple[str, str] | None:
        """The first relation that `refs` read (through views and ephemerals: `beneath`,
        found here unless given) and that does not exist, as a message and a hint; None
        when all do."""
        from featureduck.materializations.registry import builds_relation

        compiled = self.compiled
        seeds = self.workspace.compiler.seed_relations()
        if beneath is None:
            beneath = read_beneath(compiled, [compiled.models[r] for r in refs if r in compiled.models])
        needed = [*refs, *sorted(beneath.refs - set(refs))]  # what was asked for first
        for name in needed:
            if name in seeds:
                table, kind, command = seeds[name].to_table(), "seed", "fduck seed"
            elif name in compiled.models and builds_relation(compiled.models[name].materialized):
                table, kind, command = compiled.models[name].relation.to_table(), "model", "fduck run"
            else:
                continue
            if self.adapter.relation_kind(table) is None:
                return f"{kind} '{name}' is not built ({table.sql(self.adapter.DIALECT)})", f"run `{command}` first"
        return None


@contextmanager
def open_session(workspace: Workspace, threads: int | None) -> Iterator[Session]:
    from featureduck.engines.registry import create_adapter
    from featureduck.tasks.text_order import check_text_order
    from featureduck.udfs.registration import register_functions

    threads = threads or workspace.target.threads
    adapter = create_adapter(workspace.target, threads)
    adapter.open()
    try:
        check_text_order(adapter, workspace.config.dialect, workspace.target)
        register_functions(adapter, workspace.definition, workspace.config.dialect)
        session = Session(workspace, adapter, threads)
        with _renders_on(session):
            yield session
    finally:
        adapter.close()


@contextmanager
def _renders_on(session: Session) -> Iterator[None]:
    """While the session is open, renders are run-time renders on its target: `execute`
    is true and run_query, statement and adapter lookups reach the database."""
    from featureduck.runner.introspection import RunDatabase

    compiler = session.workspace.compiler
    compiler.database = RunDatabase(session.adapter, compiler, lambda: session.compiled, lambda: compiler.renderer.scope.state.model_name)
    try:
        yield
    finally:
        compiler.database = None
