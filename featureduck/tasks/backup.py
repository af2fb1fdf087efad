"""`fduck backup` and `fduck restore`: snapshots of built tables and seeds, and putting
one back into any target."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from featureduck.backups.operations import Managed, Restored, restore, take, verify
from featureduck.backups.snapshots import BackupStore, Snapshot
from featureduck.compiler.relations import Relation
from featureduck.errors import UsageError
from featureduck.materializations.registry import table_like
from featureduck.project.ids import NodeId, NodeKind
from featureduck.runner.state import NodeRun, read_builds, record_run
from featureduck.tasks.options import BackupOptions, RestoreOptions
from featureduck.tasks.workspace import Workspace
from featureduck.utils.clock import utc_now


def backup_store(workspace: Workspace, directory: Path | None) -> BackupStore:
    """The snapshot folder: `directory`, else `backups/` in the project."""
    return BackupStore(directory or workspace.config.root / "backups")


def backup(workspace: Workspace, options: BackupOptions) -> Snapshot:
    """Snapshot the selected (default: all) built tables and seeds."""
    selection = workspace.selection(options.selector)
    compiled = selection.compiled
    # (id, name, node kind, materialized, relation) of everything that holds rows
    candidates: list[tuple[str, str, NodeKind, str, Relation]] = [
        (m.unique_id, m.name, NodeId.parse(m.unique_id).kind, m.materialized, m.relation)
        for m in compiled.models.values() if table_like(m.materialized)
    ]
    candidates += [(workspace.definition.seeds[name].unique_id, name, "seed", "seed", relation)
                   for name, relation in workspace.compiler.seed_relations().items()]
    with workspace.session() as session:
        adapter = session.adapter
        tables = {uid: relation.to_table() for uid, *_, relation in candidates}
        adapter.preload_catalog(list(tables.values()))
        builds = read_builds(adapter)
        managed = [
            Managed(uid, name, kind, materialized, tables[uid], builds[uid].fingerprint if uid in builds else None,
                    builds[uid].sql_checksum if uid in builds else None)
            for uid, name, kind, materialized, _ in sorted(candidates, key=lambda c: c[1])
            if uid in selection.selected and adapter.relation_kind(tables[uid]) is not None
        ]
        if not managed:
            raise UsageError("nothing to back up: no selected table or seed is built", hint="run `fduck build` first")
        return take(adapter, backup_store(workspace, options.directory), managed, workspace.config.name, workspace.target.name,
                    utc_now())


def restore_snapshot(workspace: Workspace, options: RestoreOptions) -> tuple[Snapshot, list[Restored]]:
    """Put a snapshot's relations (all, or the selected ones) back into this target."""
    store = backup_store(workspace, options.directory)
    chosen = store.resolve(options.snapshot, options.at)
    compiled = workspace.compile()
    seeds = workspace.compiler.seed_relations()
    uids = {name: str(NodeId(entry.kind, workspace.config.name, name)) for name, entry in chosen.relations.items()}
    names = sorted(chosen.relations)
    if options.selector.narrows:
        selected = workspace.selection(options.selector).selected
        names = [name for name in names if uids[name] in selected]
    if not names:
        raise UsageError(f"snapshot {chosen.id} holds none of the selected relations")
    verify(store, chosen, names)

    def placement(name: str) -> exp.Table:
        entry = chosen.relations[name]
        if entry.kind == "seed" and name in seeds:
            return seeds[name].to_table()
        if entry.kind in ("model", "snapshot") and name in compiled.models:
            return compiled.models[name].relation.to_table()
        # no longer in the project: its name in the target's schema
        return exp.Table(this=exp.to_identifier(entry.identifier), db=exp.to_identifier(workspace.target.schema))

    with workspace.session() as session:
        restored = restore(session.adapter, store, chosen, {name: placement(name) for name in names})
        now = utc_now()
        entries = [(chosen.relations[r.name], r) for r in restored
                   if r.rows is not None and chosen.relations[r.name].kind in ("model", "snapshot")]
        record_run(session.adapter, [
            NodeRun(uids[e.name], e.name, r.relation, e.materialized, "restored", now, e.sql_checksum or "", e.fingerprint,
                    rows_affected=r.rows)
            for e, r in entries
        ])
    return chosen, restored
