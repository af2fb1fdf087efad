"""What commands leave in target/: compiled SQL, manifest.json, run_results.json."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from featureduck import __version__
from featureduck.compiler.compile import CompiledProject
from featureduck.config.profiles import TargetConfig
from featureduck.project.loader import ProjectDefinition
from featureduck.runner.results import NodeResult, RunResults

MANIFEST_FILE = "manifest.json"
RUN_RESULTS_FILE = "run_results.json"
TEST_RESULTS_FILE = "test_results.json"


def compiled_path(target_dir: Path, target_name: str, model_path: str) -> Path:
    return target_dir / "compiled" / target_name / model_path


def write_compiled(target_dir: Path, target_name: str, sql_by_path: dict[str, str]) -> None:
    """One file per model. Creating files is latency-bound (it dominated a
    1000-model compile on some disks), so a few threads create them at once."""
    files = {compiled_path(target_dir, target_name, model_path): sql for model_path, sql in sql_by_path.items()}
    for folder in {path.parent for path in files}:
        folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="fduck-write") as pool:
        for _ in pool.map(lambda item: item[0].write_text(item[1].rstrip() + "\n", encoding="utf-8"), files.items()):
            pass


def has_manifest(folder: Path) -> bool:
    """Whether a manifest was written (atomically, so one that is there is whole):
    cheaper than reading it, which costs a large project tens of milliseconds."""
    return (folder / MANIFEST_FILE).is_file()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return data


_SINGULAR = {"exposures": "exposure", "semantic_models": "semantic_model", "metrics": "metric", "saved_queries": "saved_query",
             "groups": "group"}


def build_manifest(definition: ProjectDefinition, project: CompiledProject, previous: dict[str, Any] | None) -> dict[str, Any]:
    """Every node with its compiled SQL per target; other targets' SQL is kept
    from the previous manifest while the node's file is unchanged."""
    target = project.target
    previous_nodes = (previous or {}).get("nodes", {})
    nodes: dict[str, Any] = {}
    for name, model in definition.models.items():
        if name in project.disabled:
            continue
        compiled = project.models.get(name)
        uid = model.unique_id
        depends = sorted(project.dag.parents(uid))
        config = compiled.config if compiled else {**model.folder_config, **model.yaml_config}
        per_target: dict[str, Any] = {}
        old = previous_nodes.get(uid)
        if old and old.get("checksum", {}).get("checksum") == model.checksum:
            per_target = dict(old.get("compiled", {}))
        if compiled is not None:
            per_target[target.name] = {
                "type": target.type,
                "dialect": target.dialect,
                "relation": compiled.relation.sql(target.dialect),
                "sql": compiled.sql,
            }
        else:
            per_target.pop(target.name, None)
        nodes[uid] = {
            "unique_id": uid,
            "resource_type": model.resource_type,
            "name": name,
            "package_name": model.project,
            "original_file_path": model.path,
            "patch_path": model.patch_file,
            "checksum": {"name": "sha256", "checksum": model.checksum},
            "config": config,
            "tags": config.get("tags", []),
            "description": model.description,
            "columns": {n: c.to_dict() for n, c in model.columns.items()},
            "tests": model.tests,
            "meta": model.meta,
            "depends_on": {"nodes": depends},
            "compiled": per_target,
            "error": str(project.errors[name]) if name in project.errors else None,
        }
    return {
        "metadata": {
            "featureduck_version": __version__,
            "project_name": definition.config.name,
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "dialect": definition.config.dialect,
        },
        "nodes": nodes,
        "disabled": sorted(definition.models[name].unique_id for name in project.disabled),
        "sources": {t.unique_id: t.to_dict() for t in definition.sources.values()},
        "entities": {name: entity.to_dict() for name, entity in definition.entities.items()},
        # which model file (by checksum) and relation produced each version of a view
        "feature_views": {
            key: {
                **view.to_dict(),
                "model_checksum": definition.models[view.model].checksum if view.model else None,
                "relation": relation.sql(target.dialect) if (relation := project.view_relation(view, definition.sources)) else None,
            }
            for key, view in definition.feature_views.items()
        },
        # traced by `fduck docs generate`: kept while every file read and the target are unchanged
        **({"column_lineage": lineage} if (lineage := (previous or {}).get("column_lineage"))
           and lineage.get("project_checksum") == lineage_checksum(definition, target) else {}),
        # as written: exposures, semantic_models, metrics, saved_queries, groups
        **{kind: {f"{_SINGULAR[kind]}.{definition.config.name}.{name}": entry for name, entry in entries.items()}
           for kind, entries in definition.kept.items()},
    }


def lineage_checksum(definition: ProjectDefinition, target: TargetConfig) -> str:
    """What column lineage was traced from: every file the project read, and the target."""
    digest = hashlib.sha256(json.dumps(sorted(definition.file_hashes.items())).encode())
    digest.update(f"{target.name}:{target.dialect}".encode())
    return digest.hexdigest()


def write_manifest(target_dir: Path, manifest: dict[str, Any]) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    # compact: json's C encoder is only used without indent
    _atomic_write(target_dir / MANIFEST_FILE, json.dumps(manifest, default=str))


def write_run_results(target_dir: Path, target_name: str, command: str, results: RunResults) -> None:
    payload = {
        "metadata": {"featureduck_version": __version__, "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        "args": {"command": command, "target": target_name},
        "elapsed_time": round(results.elapsed, 6),
        "results": [r.to_dict() for r in results.results],
    }
    target_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(target_dir / RUN_RESULTS_FILE, json.dumps(payload, indent=1, default=str))


SOURCES_FILE = "sources.json"


def write_sources(target_dir: Path, results: list[dict[str, Any]], checked_at: datetime.datetime) -> None:
    """`fduck source freshness`'s results (one record each) as dbt's sources.json holds them."""
    payload = {"metadata": {"featureduck_version": __version__, "generated_at": checked_at.isoformat() + "Z"}, "results": results}
    target_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(target_dir / SOURCES_FILE, json.dumps(payload, indent=1, default=str))


def record_test_results(target_dir: Path, target_name: str, results: Iterable[NodeResult]) -> None:
    """Keep each test's last result per target across commands (run_results.json holds
    only the last command's): the docs site shows them with when they ran."""
    path = target_dir / TEST_RESULTS_FILE
    kept = _read_json(path)
    mine = kept.setdefault(target_name, {})
    for result in results:
        if result.status == "skipped":
            continue
        mine[result.unique_id] = {"status": result.status, "failures": result.rows_affected, "message": result.message,
                                  "completed_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(result.completed_at))}
    target_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(kept, indent=1))


def read_test_results(target_dir: Path, target_name: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = _read_json(target_dir / TEST_RESULTS_FILE).get(target_name, {})
    return found


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _atomic_write(path: Path, text: str) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
