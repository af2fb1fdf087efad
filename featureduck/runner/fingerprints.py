"""Model fingerprints, for run caching: a model whose fingerprint equals the one
recorded at its last successful build, and whose relation still exists, is
not built again.

A fingerprint covers what the relation's rows depend on: the compiled SQL,
the config, the declared column types (contracts) and the feature views
built on it (their dtype checks), the code of the Python UDFs it calls, the
featureduck version, and its inputs
— each parent model's fingerprint, each seed's file and config, each
source's data version (sources.versions). A parent built in this run
counts with its new fingerprint; one that is not counts with the one
recorded for what its relation holds, so changing a parent's SQL without
rebuilding it does not rebuild its children.

It is None, so the model always builds, when an input has no version, the
SQL reads a table or file that is neither a ref nor a source, or it calls a
function whose result changes from run to run (now(), random(), ...).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from featureduck.compiler.compile import CompiledProject
from featureduck.project.loader import ProjectDefinition
from featureduck.utils.hashing import sha256_json

# Functions whose result differs between two runs over the same data.
_VOLATILE = re.compile(
    r"\b(?:now|random|rand|uuid|gen_random_uuid|uuidv4|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday"
    r"|get_current_time|current_timestamp|current_date|today|unix_timestamp|setseed)\s*\("
    r"|\b(?:current_timestamp|current_date|current_time|localtimestamp|localtime)\b",
    re.IGNORECASE,
)


def is_volatile(sql: str) -> bool:
    return _VOLATILE.search(sql) is not None


def seed_versions(definition: ProjectDefinition, project_root: Path) -> dict[str, str]:
    """Per seed name: its file's size and mtime with its config. A changed file
    counts as changed data even before `fduck seed` loads it (a rebuild too many,
    never one too few)."""
    versions = {}
    for name, seed in definition.seeds.items():
        stat = os.stat(project_root / seed.path)
        versions[name] = sha256_json({"size": stat.st_size, "mtime": stat.st_mtime_ns, "config": seed.config})
    return versions


def model_fingerprints(
    definition: ProjectDefinition,
    compiled: CompiledProject,
    building: set[str],
    recorded: dict[str, str],
    sources: dict[str, str | None],
    seeds: dict[str, str],
    version: str,
) -> dict[str, str | None]:
    """Fingerprints of the models in `building` (unique ids), by unique id."""
    views: dict[str, list[Any]] = {}
    for view in definition.feature_views.values():
        views.setdefault(view.model, []).append(
            [view.name, view.timestamp_field, [[f.name, f.dtype] for f in view.features]]
        )
    source_ids = {key: table.unique_id for key, table in definition.sources.items()}
    # a Python UDF's file: a model calling it depends on its code
    functions = {name: (re.compile(rf"\b{re.escape(name)}\s*\(", re.IGNORECASE), definition.file_hashes[declared.path])
                 for name, declared in definition.functions.items()}
    memo: dict[str, str | None] = {}

    def of(name: str) -> str | None:
        if name in memo:
            return memo[name]
        memo[name] = None  # a cycle cannot compile; this only guards the recursion
        model = compiled.models.get(name)
        if model is None or model.reads_unmanaged or is_volatile(model.sql):
            return None
        parents: dict[str, str | None] = {}
        for ref in model.refs:
            if ref in seeds:
                parents[ref] = seeds[ref]
            elif ref in compiled.models:
                parent = compiled.models[ref]
                built_now = parent.unique_id in building or parent.materialized == "ephemeral"
                parents[ref] = of(ref) if built_now else recorded.get(parent.unique_id)
            else:
                parents[ref] = None
        inputs = {f"{s}.{t}": sources.get(source_ids.get((s, t), "")) for s, t in model.sources}
        if any(value is None for value in [*parents.values(), *inputs.values()]):
            return None
        memo[name] = sha256_json({
            "featureduck": version,
            "sql": model.sql,
            "config": model.config,
            "columns": {c.name: c.data_type for c in definition.models[name].columns.values()},
            "feature_views": sorted(views.get(name, [])),
            "parents": parents,
            "sources": inputs,
            "functions": {name: code for name, (call, code) in functions.items() if call.search(model.sql)},
        })
        return memo[name]

    names = {m.unique_id: name for name, m in compiled.models.items()}
    return {uid: of(names[uid]) for uid in building if uid in names}
