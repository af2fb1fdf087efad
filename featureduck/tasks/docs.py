"""`fduck docs generate`: the static docs site in target/docs/, and the column lineage
kept in manifest.json.

It compiles, traces every model column one hop up (sqlglot's lineage on the
compiled SQL), then reads from the target what only the database knows: the types
of built relations, the last builds from the state store and freshness. A project
that compiles with errors still gets its site; those nodes show their errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from featureduck.compiler.lineage import LineageTracer
from featureduck.compiler.relations import is_staged, source_expression, staged_relation
from featureduck.docs_site.catalog import DatabaseFacts, build_catalog
from featureduck.docs_site.site import write_site
from featureduck.errors import FeatureDuckError
from featureduck.project.nodes import SourceTable
from featureduck.runner import artifacts
from featureduck.runner.state import read_builds
from featureduck.tasks.session import Session
from featureduck.tasks.workspace import Workspace
from featureduck.testing.definitions import collect_tests


@dataclass(frozen=True)
class GeneratedDocs:
    folder: Path
    nodes: int
    columns_traced: int
    lineage_errors: dict[str, str]  # node id -> why its columns could not be traced


def generate_docs(workspace: Workspace) -> GeneratedDocs:
    compiled = workspace.compile()
    target_dir = workspace.config.target_dir
    tracer = LineageTracer(workspace.compiler, compiled)
    lineage: dict[str, dict[str, list[tuple[str, str]]]] = {}
    errors: dict[str, str] = {}
    for name, model in sorted(compiled.models.items()):
        try:
            lineage[model.unique_id] = tracer.direct(name)
        except FeatureDuckError as err:
            errors[model.unique_id] = str(err)
    facts = _database_facts(workspace)
    manifest = artifacts.read_manifest(target_dir) or {}
    manifest["column_lineage"] = {
        "project_checksum": artifacts.lineage_checksum(workspace.definition, workspace.target),
        "nodes": {uid: {column: [{"node": n, "column": c} for n, c in pairs] for column, pairs in columns.items()}
                  for uid, columns in lineage.items()},
        "errors": errors,
    }
    artifacts.write_manifest(target_dir, manifest)
    seeds = {name: relation.sql(workspace.target.dialect) for name, relation in workspace.compiler.seed_relations().items()}
    catalog = build_catalog(workspace.definition, compiled, manifest, collect_tests(workspace.definition),
                            artifacts.read_test_results(target_dir, workspace.target.name), lineage, errors, facts, seeds)
    folder = target_dir / "docs"
    write_site(folder, catalog)
    return GeneratedDocs(folder, len(catalog["nodes"]), sum(len(columns) for columns in lineage.values()), errors)


def _database_facts(workspace: Workspace) -> DatabaseFacts:
    facts = DatabaseFacts()
    compiled = workspace.compile()
    definition = workspace.definition
    with workspace.session() as session:
        adapter = session.adapter
        facts.builds = read_builds(adapter)
        relations = {m.unique_id: m.relation.to_table() for m in compiled.models.values()}
        relations |= {definition.seeds[n].unique_id: r.to_table() for n, r in workspace.compiler.seed_relations().items()}
        adapter.preload_catalog(relations.values())
        for uid, table in relations.items():
            if adapter.relation_kind(table) is not None:
                facts.column_types[uid] = dict(adapter.columns(table))
        for source in definition.sources.values():
            found = _source_columns(session, source)
            if found:
                facts.column_types[source.unique_id] = found
    try:
        from featureduck.tasks.inspect import freshness

        facts.freshness = freshness(workspace)
    except FeatureDuckError as err:
        facts.freshness_error = err.message
    return facts


def _source_columns(session: Session, source: SourceTable) -> dict[str, str]:
    """A source's columns as the engine reads them; {} when it cannot be read now (a
    staged file not staged yet, an unreachable database): its declared types are shown."""
    workspace, adapter = session.workspace, session.adapter
    try:
        if is_staged(source, adapter.traits):
            table = staged_relation(source, workspace.target.schema).to_table()
            return dict(adapter.columns(table)) if adapter.relation_kind(table) is not None else {}
        session.prepare([source])
        expression = source_expression(source, workspace.config.root, adapter.traits, workspace.target.schema)
        return dict(adapter.query_columns(f"SELECT * FROM {adapter.sql(expression)}"))
    except FeatureDuckError:
        return {}
