"""The docs site's data: every node of the project with what a reader asks of it.

One JSON document (`catalog.json`, also loaded by the page as `catalog.js`) holds
the nodes (models, snapshots, seeds, sources, tests, unit tests, macros,
exposures, entities, feature views and the online serving endpoint), the edges of
the lineage graph and each column's upstream columns. What is read from the
database (built column types, last builds, freshness) is passed in already read,
so building the catalog itself touches nothing but the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from featureduck import __version__
from featureduck.compiler.compile import CompiledProject
from featureduck.project.ids import NodeId
from featureduck.project.loader import ProjectDefinition
from featureduck.runner.state import BuildRecord
from featureduck.store.freshness import Freshness
from featureduck.testing.definitions import DataTest

SERVING_ID = "serving.online"
_MACRO = re.compile(r"{%-?\s*(macro|test|materialization)\s+(\w+)\s*(?:\(([^)]*)\))?")
_REF = re.compile(r"""ref\(\s*['"](\w+)['"]\s*(?:,\s*['"](\w+)['"]\s*)?\)""")
_SOURCE = re.compile(r"""source\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]\s*\)""")


@dataclass
class DatabaseFacts:
    """What the target database says of the project: read by the docs task."""

    column_types: dict[str, dict[str, str]] = field(default_factory=dict)  # node id -> column -> type, of built relations
    builds: dict[str, BuildRecord] = field(default_factory=dict)
    freshness: list[Freshness] = field(default_factory=list)
    freshness_error: str | None = None  # why freshness could not be checked


def build_catalog(
    definition: ProjectDefinition,
    compiled: CompiledProject,
    manifest: dict[str, Any],
    tests: dict[str, DataTest],
    test_results: dict[str, dict[str, Any]],
    lineage: dict[str, dict[str, list[tuple[str, str]]]],
    lineage_errors: dict[str, str],
    facts: DatabaseFacts,
    seed_relations: dict[str, str],
) -> dict[str, Any]:
    """The catalog: `nodes` by id, `edges` (parent, child) of the graph, `metadata`."""
    project = definition.config.name
    nodes: dict[str, dict[str, Any]] = {}
    edges: set[tuple[str, str]] = set()
    tests_of: dict[str, list[str]] = {}
    for test in tests.values():
        if test.attached_to:
            tests_of.setdefault(test.attached_to, []).append(test.unique_id)
    freshness = {f"{f.resource_type}:{f.view}": f for f in facts.freshness}

    for uid, entry in manifest.get("nodes", {}).items():
        name = entry["name"]
        model = compiled.models.get(name)
        columns = _columns(entry.get("columns", {}), facts.column_types.get(uid), lineage.get(uid, {}), tests, uid)
        built = facts.builds.get(uid)
        nodes[uid] = {
            **_common(uid, entry["resource_type"], name, entry.get("package_name") or project, entry.get("original_file_path"),
                      entry.get("description", ""), entry.get("tags", []), entry.get("meta", {})),
            "materialized": model.materialized if model else entry.get("config", {}).get("materialized"),
            "relation": model.relation.sql(compiled.target.dialect) if model else None,
            "config": entry.get("config", {}),
            "raw_sql": definition.models[name].raw_sql if name in definition.models else "",
            "compiled": entry.get("compiled", {}),
            "columns": columns,
            "depends_on": entry.get("depends_on", {}).get("nodes", []),
            "tests": sorted(tests_of.get(uid, [])),
            "last_build": _build(built),
            "error": entry.get("error"),
            "lineage_error": lineage_errors.get(uid),
        }
        edges |= {(parent, uid) for parent in nodes[uid]["depends_on"]}
    for seed in definition.seeds.values():
        built = facts.builds.get(seed.unique_id)
        nodes[seed.unique_id] = {
            **_common(seed.unique_id, "seed", seed.name, seed.project, seed.path, seed.description,
                      seed.config.get("tags", []), seed.config.get("meta", {})),
            "relation": seed_relations.get(seed.name),
            "config": seed.config,
            "columns": _columns({n: c.to_dict() for n, c in seed.columns.items()}, facts.column_types.get(seed.unique_id), {},
                                tests, seed.unique_id),
            "tests": sorted(tests_of.get(seed.unique_id, [])),
            "last_build": _build(built),
        }
    for table in definition.sources.values():
        entry = table.to_dict()
        label = f"{table.source_name}.{table.name}"
        checked = freshness.get(f"source:{label}")
        nodes[table.unique_id] = {
            **_common(table.unique_id, "source", label, table.project, table.location.file, table.description, table.tags,
                      table.meta),
            "source": {key: entry[key] for key in ("source_name", "identifier", "schema", "database", "type", "format", "path",
                                                   "timestamp_field", "incremental")},
            "columns": _columns(entry["columns"], facts.column_types.get(table.unique_id), {}, tests, table.unique_id),
            "tests": sorted(tests_of.get(table.unique_id, [])),
            "freshness": _freshness(checked, table.freshness, facts.freshness_error),
        }
    for test in tests.values():
        result = test_results.get(test.unique_id)
        nodes[test.unique_id] = {
            **_common(test.unique_id, NodeId.parse(test.unique_id).kind, test.name, project, test.location.file, "",
                      _tags(test.config.get("tags")), {}),
            "test_type": test.test_type,
            "attached_to": test.attached_to,
            "column": test.column,
            "severity": test.severity,
            "raw_sql": test.raw_sql,
            "last_result": result,
        }
    _add_macros(definition, nodes)
    _add_exposures(definition, nodes, edges)
    _add_feature_store(definition, nodes, edges, freshness, facts.freshness_error)
    _mark_used_by(nodes, edges)
    return {
        "metadata": {
            "project_name": project,
            "featureduck_version": __version__,
            "generated_at": manifest.get("metadata", {}).get("generated_at"),
            "target": compiled.target.name,
            "dialect": compiled.target.dialect,
            "database_read": bool(facts.column_types or facts.builds),
        },
        "nodes": nodes,
        "edges": sorted(edges),
    }


def _common(uid: str, kind: str, name: str, package: str, path: str | None, description: str, tags: Any,
            meta: dict[str, Any]) -> dict[str, Any]:
    meta = meta or {}
    return {"unique_id": uid, "resource_type": kind, "name": name, "package_name": package, "original_file_path": path,
            "description": description or "", "tags": _tags(tags), "meta": meta, "owner": meta.get("owner")}


def _tags(tags: Any) -> list[str]:
    if not tags:
        return []
    return [tags] if isinstance(tags, str) else [str(t) for t in tags]


def _columns(declared: dict[str, dict[str, Any]], built: dict[str, str] | None, upstream: dict[str, list[tuple[str, str]]],
             tests: dict[str, DataTest], uid: str) -> list[dict[str, Any]]:
    """Declared columns first, in their order, then the built relation's others (or, not
    built, the query's): a type is the built one when there is a relation, else as declared."""
    built_lower = {name.lower(): (name, kind) for name, kind in (built or {}).items()}
    names = list(declared)
    names += [name for name in (built or {}) if name not in declared and name.lower() not in {n.lower() for n in declared}]
    names += [name for name in upstream if name.lower() not in {n.lower() for n in names}]
    upstream_lower = {name.lower(): pairs for name, pairs in upstream.items()}
    tests_by_column: dict[str, list[str]] = {}
    for test in tests.values():
        if test.attached_to == uid and test.column:
            tests_by_column.setdefault(test.column.lower(), []).append(test.unique_id)
    columns = []
    for name in names:
        spec = declared.get(name, {})
        found = built_lower.get(name.lower())
        columns.append({
            "name": name,
            "description": spec.get("description", ""),
            "data_type": found[1] if found else spec.get("data_type"),
            "type_from": "database" if found else "declared" if spec.get("data_type") else None,
            "meta": spec.get("meta", {}),
            "tests": sorted(tests_by_column.get(name.lower(), [])),
            "upstream": [list(pair) for pair in upstream_lower.get(name.lower(), [])],
        })
    return columns


def _build(record: BuildRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"built_at": record.built_at.isoformat(sep=" ", timespec="seconds"), "rows": record.rows_affected,
            "materialized": record.materialized, "relation": record.relation}


def _freshness(checked: Freshness | None, sla: Any, error: str | None) -> dict[str, Any] | None:
    if checked is not None:
        return checked.to_dict()
    if sla and error:
        return {"status": "not checked", "message": error}
    return None


def _add_macros(definition: ProjectDefinition, nodes: dict[str, dict[str, Any]]) -> None:
    files = [(definition.config.name, f.path, f.text) for f in definition.macro_files]
    files += [(name, path, text) for name, package in definition.packages.items() for path, text in package.macro_files]
    for package, path, text in files:
        for match in _MACRO.finditer(text):
            kind, name, arguments = match.groups()
            uid = f"macro.{package}.{'test_' if kind == 'test' else ''}{name}"
            line = text.count("\n", 0, match.start()) + 1
            nodes[uid] = {
                **_common(uid, "macro", name, package, f"{path}:{line}", "", [], {}),
                "macro_kind": kind,
                "arguments": [a.strip() for a in (arguments or "").split(",") if a.strip()],
            }


def _add_exposures(definition: ProjectDefinition, nodes: dict[str, dict[str, Any]], edges: set[tuple[str, str]]) -> None:
    project = definition.config.name
    refs = definition.ref_ids()
    sources = {(t.source_name, t.name): t.unique_id for t in definition.sources.values()}
    for name, entry in definition.kept.get("exposures", {}).items():
        uid = f"exposure.{project}.{name}"
        parents = []
        for written in entry.get("depends_on", []) or []:
            text = str(written)
            parents += [refs[m.group(2) or m.group(1)] for m in _REF.finditer(text) if (m.group(2) or m.group(1)) in refs]
            parents += [sources[(m.group(1), m.group(2))] for m in _SOURCE.finditer(text) if (m.group(1), m.group(2)) in sources]
        owner = entry.get("owner") or {}
        nodes[uid] = {
            **_common(uid, "exposure", name, project, None, entry.get("description", ""), entry.get("tags", []),
                      entry.get("meta", {})),
            "owner": owner.get("name") or owner.get("email") if isinstance(owner, dict) else owner,
            "exposure": {key: entry.get(key) for key in ("type", "url", "maturity", "label")},
            "depends_on": parents,
        }
        edges |= {(parent, uid) for parent in parents}


def _add_feature_store(definition: ProjectDefinition, nodes: dict[str, dict[str, Any]], edges: set[tuple[str, str]],
                       freshness: dict[str, Freshness], freshness_error: str | None) -> None:
    """Entities and feature views, and the serving endpoint as the last hop of online views."""
    project = definition.config.name
    refs = definition.ref_ids()
    for name, entity in definition.entities.items():
        uid = str(NodeId("entity", project, name))
        nodes[uid] = {**_common(uid, "entity", name, project, entity.location.file, entity.description, [], {}),
                      "join_keys": entity.join_keys}
    online = []
    for key, view in definition.feature_views.items():
        uid = str(NodeId("feature_view", project, key))
        entity_id = str(NodeId("entity", project, view.entity))
        model_id = refs.get(view.model) if view.model else (
            definition.sources[view.source].unique_id if view.source in definition.sources else None)
        nodes[uid] = {
            **_common(uid, "feature_view", key, project, view.location.file, view.description, view.tags, {}),
            "feature_view": view.to_dict(),
            "columns": [{"name": f.name, "description": f.description, "data_type": f.dtype, "type_from": "declared",
                         "meta": {}, "tests": [], "upstream": [[model_id, f.name]] if model_id else []} for f in view.features],
            "depends_on": [n for n in (model_id, entity_id) if n in nodes],  # nodes: models, then entities, added first
            "freshness": _freshness(freshness.get(f"feature_view:{key}") or freshness.get(f"feature_view:{view.name}"),
                                    view.freshness, freshness_error),
        }
        edges |= {(parent, uid) for parent in nodes[uid]["depends_on"]}
        if view.online:
            online.append(uid)
    if online:
        nodes[SERVING_ID] = {
            **_common(SERVING_ID, "serving", "online serving", project, None,
                      "The online store and the HTTP API (`fduck serve`) that answer lookups of the online feature views.",
                      [], {}),
            "depends_on": online,
        }
        edges |= {(view, SERVING_ID) for view in online}


def _mark_used_by(nodes: dict[str, dict[str, Any]], edges: set[tuple[str, str]]) -> None:
    for node in nodes.values():
        node.setdefault("depends_on", [])
        node["used_by"] = []
    for parent, child in sorted(edges):
        if parent in nodes:
            nodes[parent]["used_by"].append(child)
