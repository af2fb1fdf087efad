"""`fduck training-set` and `get_historical_features`: the point-in-time join of entity
rows with feature views, over one session, handed back as pandas or Arrow or
written to a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlglot import exp

from featureduck.engines.base import EngineAdapter
from featureduck.errors import UsageError
from featureduck.exports.files import FileOptions, write_query
from featureduck.store.offline import prepare_entities, training_set_query
from featureduck.store.ties import untied_views
from featureduck.store.training_set import resolve_requests
from featureduck.store.validation import check_feature_views
from featureduck.tasks.session import Session
from featureduck.tasks.workspace import Workspace

T = TypeVar("T")


def training_set(workspace: Workspace, entity_rows: Any, features: list[str], finish: Callable[[EngineAdapter, exp.Query], T]) -> T:
    """The point-in-time join of `entity_rows` with `features` (`view:feature`), handed to
    `finish` with the adapter that reads it."""
    requests = resolve_requests(workspace.definition, features)
    compiled = workspace.compile()
    mismatched = check_feature_views(workspace.definition, compiled)
    if mismatched:
        raise mismatched[0]
    with workspace.session() as session:
        session.read([r.view.model for r in requests if r.view.model], [r.view.source for r in requests if r.view.source])
        adapter = session.adapter
        # naive timestamps are UTC, whatever the machine's or the server's zone
        with adapter.in_time_zone("UTC"):
            columns = prepare_entities(adapter, entity_rows)
            return finish(adapter, training_set_query(adapter, workspace.definition, compiled, requests, columns, tie_free(session)))


def write_training_set(workspace: Workspace, entity_rows: Any, features: list[str], out: Path) -> int:
    """To a .parquet or .csv file; its row count."""
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out {out} must end in .parquet or .csv")
    options = FileOptions.for_path(out)
    return training_set(workspace, entity_rows, features,
                        lambda adapter, query: write_query(adapter, query, out, options, same_session=True))


def tie_free(session: Session) -> set[str]:
    """The feature views checked tie-free against the rows they read now (store.ties)."""
    from featureduck import __version__

    workspace = session.workspace
    return untied_views(session.adapter, workspace.definition, session.compiled, workspace.compiler.seed_relations(),
                        workspace.config.root, __version__)
