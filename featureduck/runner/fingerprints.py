"""Model fingerprints, for run caching: a model whose fingerprint equals the one
recorded at its last successful build, and whose relation still exists, is
not built again.

A fingerprint covers what the relation's rows depend on: the model's
definition (compiled SQL, config, declared column types, the feature views
built on it, the code of the Python UDFs it calls, the featureduck version,
the session's time zone its local times are computed in) and the version of
each input — each seed's loaded table and each source's
data (sources.versions), and each parent model's version:

- a parent built in this run (or ephemeral, so inlined) counts with its new
  fingerprint;
- a parent table that is not rebuilt counts with the fingerprint recorded for
  what it holds, so editing a parent without rebuilding it leaves its
  children cached;
- a parent view that is not rebuilt holds no rows: it counts with the
  definition it was created from and the versions its recorded inputs have
  now, down to tables, seeds and sources, so new rows under a view rebuild
  what reads it.

It is None, so the model always builds, when an input has no version, the
SQL reads a table or file that is neither a ref nor a source, or it calls a
function whose result changes from run to run (now(), random(), ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from featureduck.compiler.compile import CompiledModel, CompiledProject
from featureduck.compiler.relations import Relation
from featureduck.materializations.registry import builds_relation, live
from featureduck.project.loader import ProjectDefinition
from featureduck.runner.state import BuildRecord
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


@dataclass(frozen=True)
class Inputs:
    """What a model reads: parent models and seeds by name, sources as `source.table`."""

    refs: tuple[str, ...]
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"refs": list(self.refs), "sources": list(self.sources)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inputs:
        return cls(tuple(data.get("refs", [])), tuple(data.get("sources", [])))


@dataclass(frozen=True)
class Recorded:
    """A relation as its last build left it: the fingerprint, and for a view the
    definition and inputs it was created from (None where not recorded)."""

    materialized: str
    fingerprint: str | None
    definition: str | None = None
    inputs: Inputs | None = None


@dataclass(frozen=True)
class Fingerprint:
    """A model's fingerprint for this run (None: always build), with its definition
    and inputs, which the state store keeps for a view."""

    value: str | None
    definition: str
    inputs: Inputs


@dataclass
class _Versions:
    """The versions known for this run, and the memo of what is derived from them."""

    definition: ProjectDefinition
    compiled: CompiledProject
    building: set[str]
    recorded: dict[str, Recorded]
    data: dict[str, str | None]  # source and seed unique id -> data version
    version: str
    time_zone: str  # the session's (EngineAdapter.session_time_zone): a zoned time cast to a date reads it
    planned: dict[str, Fingerprint | None] = field(default_factory=dict)
    standing: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = {f"{s}.{t}": table.unique_id for (s, t), table in self.definition.sources.items()}
        self.seeds = {name: seed.unique_id for name, seed in self.definition.seeds.items()}
        self.views: dict[str, list[Any]] = {}
        for view in self.definition.feature_views.values():
            if view.model is None:
                continue  # read from a source: no model's fingerprint covers it
            self.views.setdefault(view.model, []).append(
                [view.name, view.timestamp_field, [[f.name, f.dtype] for f in view.features]]
            )
        # a Python UDF's file: a model calling it depends on its code
        self.functions = {
            name: (re.compile(rf"\b{re.escape(name)}\s*\(", re.IGNORECASE), self.definition.file_hashes[declared.path])
            for name, declared in self.definition.functions.items()
        }

    def of_input(self, name: str) -> str | None:
        """The version of a ref: a seed's table, or the parent model's relation."""
        if name in self.seeds:
            return self.data.get(self.seeds[name])
        model = self.compiled.models.get(name)
        if model is None:
            return None
        if model.unique_id in self.building or not builds_relation(model.materialized):
            planned = self.fingerprint(name)
            return planned.value if planned else None
        return self.of_standing(model.unique_id)

    def of_standing(self, uid: str) -> str | None:
        """The version of a relation that is not rebuilt, as it reads now."""
        if uid in self.standing:
            return self.standing[uid]
        self.standing[uid] = None  # guards the recursion through a cycle of stale records
        recorded = self.recorded.get(uid)
        if recorded is None or not live(recorded.materialized):
            value = recorded.fingerprint if recorded else None
        elif recorded.definition is None or recorded.inputs is None:
            value = None
        else:
            value = self.combine(recorded.definition, recorded.inputs)
        self.standing[uid] = value
        return value

    def combine(self, definition: str, inputs: Inputs) -> str | None:
        parents = {name: self.of_input(name) for name in inputs.refs}
        sources = {name: self.data.get(self.sources.get(name, "")) for name in inputs.sources}
        if any(value is None for value in [*parents.values(), *sources.values()]):
            return None
        return sha256_json({"definition": definition, "parents": parents, "sources": sources})

    def definition_of(self, name: str, model: CompiledModel) -> str:
        return sha256_json({
            "featureduck": self.version,
            "time_zone": self.time_zone,
            "sql": model.sql,
            "config": model.config,
            "columns": {c.name: c.data_type for c in self.definition.models[name].columns.values()},
            "feature_views": sorted(self.views.get(name, [])),
            "functions": {f: code for f, (call, code) in self.functions.items() if call.search(model.sql)},
        })

    def fingerprint(self, name: str) -> Fingerprint | None:
        if name in self.planned:
            return self.planned[name]
        self.planned[name] = None  # a cycle cannot compile; this only guards the recursion
        model = self.compiled.models.get(name)
        if model is None:
            return None
        inputs = Inputs(tuple(model.refs), tuple(f"{s}.{t}" for s, t in model.sources))
        definition = self.definition_of(name, model)
        value = None if model.reads_unmanaged or is_volatile(model.sql) else self.combine(definition, inputs)
        self.planned[name] = Fingerprint(value, definition, inputs)
        return self.planned[name]


def model_fingerprints(
    definition: ProjectDefinition,
    compiled: CompiledProject,
    building: set[str],
    recorded: dict[str, Recorded],
    data: dict[str, str | None],
    version: str,
    time_zone: str,
) -> dict[str, Fingerprint]:
    """Fingerprints of the models in `building` (unique ids), by unique id;
    `data` holds the versions of sources and seeds by unique id."""
    versions = _Versions(definition, compiled, building, recorded, data, version, time_zone)
    names = {m.unique_id: name for name, m in compiled.models.items()}
    found = {uid: versions.fingerprint(names[uid]) for uid in building if uid in names}
    return {uid: fingerprint for uid, fingerprint in found.items() if fingerprint is not None}


def standing_version(
    definition: ProjectDefinition,
    compiled: CompiledProject,
    recorded: dict[str, Recorded],
    data: dict[str, str | None],
    version: str,
    time_zone: str,
    uid: str,
) -> str | None:
    """The version of a built relation as it reads now (nothing being built):
    what a training set compares with the version its tie check was made at."""
    return _Versions(definition, compiled, set(), recorded, data, version, time_zone).of_standing(uid)


@dataclass(frozen=True)
class Beneath:
    """What models read, directly and through the views and ephemerals above them
    (which read live): parent models and seeds by name, sources by key."""

    refs: frozenset[str]
    sources: tuple[tuple[str, str], ...]  # sorted

    def seed_tables(self, definition: ProjectDefinition, seeds: dict[str, Relation]) -> dict[str, exp.Table]:
        """Per seed unique id, the table of each seed read (`seeds`: every seed's relation)."""
        return {definition.seeds[n].unique_id: seeds[n].to_table() for n in sorted(self.refs) if n in definition.seeds}


def read_beneath(compiled: CompiledProject, models: list[CompiledModel]) -> Beneath:
    readers: dict[str, CompiledModel] = {}
    pending = list(models)
    while pending:
        model = pending.pop()
        if model.name not in readers:
            readers[model.name] = model
            pending += [compiled.models[r] for r in model.refs if r in compiled.models and live(compiled.models[r].materialized)]
    return Beneath(frozenset(r for m in readers.values() for r in m.refs),
                   tuple(sorted({(s, t) for m in readers.values() for s, t in m.sources})))


def recorded_builds(builds: dict[str, BuildRecord]) -> dict[str, Recorded]:
    """What run caching needs of each relation's last build."""
    return {
        uid: Recorded(b.materialized, b.fingerprint, b.definition, Inputs.from_dict(b.inputs) if b.inputs is not None else None)
        for uid, b in builds.items()
    }
