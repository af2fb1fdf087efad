"""Commands that look at what is built without building: `ls` states, freshness,
`explain`, `profile` and `runs`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from featureduck.advice.suggestions import Suggestion, suggest
from featureduck.compiler.relations import is_staged
from featureduck.engines.plans import Plan
from featureduck.errors import UsageError
from featureduck.materializations.registry import builds_relation
from featureduck.profiling.history import Anomaly, anomalies, history, record
from featureduck.profiling.statistics import ModelProfile, profile_relation
from featureduck.project.nodes import SourceTable
from featureduck.runner import artifacts
from featureduck.runner.state import BuildRecord, StreamedRun, Timing, read_builds, read_streamed, read_timings
from featureduck.sources.watermarks import Watermark, read_watermarks
from featureduck.store.freshness import Freshness, check_freshness, check_source_freshness
from featureduck.tasks.options import ProfileOptions, Selector
from featureduck.tasks.session import Session
from featureduck.tasks.workspace import Selection, Workspace
from featureduck.utils.clock import utc_now
from featureduck.utils.hashing import sha256_text


@dataclass
class RelationState:
    """A view or materialized view as built: when, from which definition."""

    name: str
    relation: str
    materialized: str
    depends_on: list[str]
    last_built: datetime.datetime | None
    state: str  # current | changed | not built


class ProfileOutcome(NamedTuple):
    profile: ModelProfile
    anomalies: list[Anomaly]  # what moved more than the threshold against the earlier profiles
    history: dict[datetime.datetime, dict[tuple[str, str], float]]  # the earlier profiles


def relation_states(workspace: Workspace, selection: Selection, kinds: set[str]) -> list[RelationState]:
    """Built state of the selected models materialized as one of `kinds`. `changed`
    means the compiled SQL differs (by checksum) from the SQL the relation was last
    built from: the next run rebuilds it."""
    compiled = selection.compiled
    models = [m for m in compiled.models.values() if m.unique_id in selection.selected and m.materialized in kinds]
    builds = last_builds(workspace) if models else {}
    states = []
    for model in sorted(models, key=lambda m: m.name):
        built = builds.get(model.unique_id)
        state = "not built" if built is None else "current" if built.sql_checksum == sha256_text(model.sql) else "changed"
        states.append(RelationState(
            model.name, model.relation.sql(workspace.target.dialect), model.materialized,
            compiled.dag.parents(model.unique_id), built.built_at if built else None, state,
        ))
    return states


def last_builds(workspace: Workspace) -> dict[str, BuildRecord]:
    """What the state store says was last built, per model id."""
    with workspace.session() as session:
        return read_builds(session.adapter)


def source_watermarks(workspace: Workspace, selection: Selection) -> list[tuple[SourceTable, list[Watermark]]]:
    """The selected sources, each with the watermarks models keep of it (incremental ones)."""
    tables = [t for t in workspace.definition.sources.values() if t.unique_id in selection.selected]
    marks: dict[tuple[str, str], Watermark] = {}
    if any(t.incremental for t in tables):
        with workspace.session() as session:
            marks = read_watermarks(session.adapter)
    return [
        (table, sorted((m for (_, source), m in marks.items() if source == table.unique_id), key=lambda m: m.model_id))
        for table in sorted(tables, key=lambda t: t.unique_id)
    ]


def freshness(workspace: Workspace, now: datetime.datetime | None = None) -> list[Freshness]:
    """The newest timestamp of every source with a freshness SLA (and a timestamp_field)
    and of every feature view, against its SLA (UTC)."""
    moment = now or utc_now()
    compiled = workspace.compile()
    with workspace.session() as session:
        sources = _source_freshness(session, list(workspace.definition.sources.values()), moment)
        return sources + check_freshness(session.adapter, workspace.definition, compiled, moment)


def source_freshness(workspace: Workspace, selector: Selector, now: datetime.datetime | None = None) -> list[Freshness]:
    """dbt's `source freshness`: the selected sources only (all without a selection),
    also written to target/sources.json as dbt writes it."""
    moment = now or utc_now()
    selected = workspace.selection(selector).selected
    tables = [t for t in workspace.definition.sources.values() if t.unique_id in selected]
    with workspace.session() as session:
        results = _source_freshness(session, tables, moment)
    ids = {f"{t.source_name}.{t.name}": t.unique_id for t in tables}
    status = {"pass": "pass", "warn": "warn", "error": "error", "no sla": "pass"}
    artifacts.write_sources(workspace.config.target_dir, [{
        "unique_id": ids[found.view],
        "status": status[found.status],
        "max_loaded_at": found.newest.isoformat() if found.newest else None,
        "snapshotted_at": moment.isoformat(),
        "max_loaded_at_time_ago_in_s": found.age_seconds,
        "criteria": {"warn_after": found.warn_after, "error_after": found.error_after},
    } for found in results], moment)
    return results


def _source_freshness(session: Session, tables: list[SourceTable], moment: datetime.datetime) -> list[Freshness]:
    checked = sorted((t for t in tables if t.freshness and t.timestamp_field), key=lambda t: (t.source_name, t.name))
    session.prepare(t for t in checked if not is_staged(t, session.adapter.traits))
    return check_source_freshness(session.adapter, session.workspace.definition, checked, moment)


def profile(workspace: Workspace, options: ProfileOptions) -> list[ProfileOutcome]:
    """Column statistics of built models, each against its earlier profiles."""
    compiled = workspace.compile()
    for name in options.models:
        if not builds_relation(workspace.compiled_model(name, "profile").materialized):
            raise UsageError(f"model '{name}' is {compiled.models[name].materialized}: it has no relation to profile")
    results = []
    with workspace.session() as session:
        session.read(options.models)
        for name in options.models:
            found = profile_relation(session.adapter, name, compiled.models[name].relation.to_table(), utc_now())
            past = history(session.adapter, name)
            results.append(ProfileOutcome(found, anomalies(found, past, options.threshold), past))
            if options.keep:
                record(session.adapter, found)
    return results


def explain(workspace: Workspace, model: str) -> tuple[Plan, list[Suggestion]]:
    """Run a model's query under the engine's analyzer (its rows discarded, nothing
    built): the plan with each operator's time, and advice on the model."""
    chosen = workspace.compiled_model(model, "explain")
    with workspace.session() as session:
        # the model's own relation need not exist: what it reads must
        session.read(chosen.refs, [(s, t) for s, t in chosen.sources])
        plan = session.adapter.explain_analyze(chosen.sql)
        return plan, suggest(workspace.compile(), model, session.adapter.DIALECT, plan, read_timings(session.adapter, 20))


def run_timings(workspace: Workspace, runs: int = 20) -> tuple[list[Timing], list[StreamedRun]]:
    """Each model's time in the last `runs` runs, newest run first; and the sources of
    the last `runs` stream runs."""
    with workspace.session() as session:
        return read_timings(session.adapter, runs), read_streamed(session.adapter, runs)
