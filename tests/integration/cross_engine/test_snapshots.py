"""dbt snapshots on every engine against a brute-force reference of dbt's semantics.

tests/fixtures/dbt_snapshots holds a snapshot of each kind (timestamp with
hard_deletes ignore / invalidate / new_record, a composite key with
dbt_valid_to_current, check over all columns with renamed meta columns and
over a list, a dbt 1.9 YAML snapshot). Random source histories (seeded) are
seeded and snapshotted step by step; after the last step every history table
must hold the rows the reference below computes, key by key, from the same
states. Times the engine's clock gave are matched to the step that took them.
benchmarks/compare_snapshots.py shows dbt taking the same histories.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, FIXTURES, write_engine_profile

ALL = ("id", "region", "status", "amount", "updated_at")
ORDERED = ("id", "status", "amount", "updated_at")
ENDLESS = datetime.datetime(9999, 12, 31)
Row = dict[str, Any]


@dataclass(frozen=True)
class Spec:
    schema: str  # the relation's schema, from the target's: "{}_history"
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ("id",)
    strategy: str = "timestamp"
    hard_deletes: str = "ignore"
    check_cols: tuple[str, ...] = ()
    valid_to_current: datetime.datetime | None = None
    valid_from: str = "dbt_valid_from"
    valid_to: str = "dbt_valid_to"


SPECS = {
    "ts_ignore": Spec("{}_history", ALL),
    "ts_invalidate": Spec("{}_history", ALL, hard_deletes="invalidate"),
    "ts_new_record": Spec("{}_history", ALL, hard_deletes="new_record"),
    "ts_composite_current": Spec("{}_history", ("id", "region", "status", "updated_at"), ("id", "region"),
                                 hard_deletes="new_record", valid_to_current=ENDLESS),
    "check_all": Spec("{}_checks", ALL, strategy="check", hard_deletes="invalidate", check_cols=ALL,
                      valid_from="valid_from", valid_to="valid_to"),
    "check_listed": Spec("{}_checks", ORDERED, strategy="check", hard_deletes="new_record", check_cols=("status", "amount")),
    "from_yaml": Spec("{}", ALL, hard_deletes="invalidate"),
}


def states(seed: int, steps: int) -> list[list[Row]]:
    """Rows changed (with a newer updated_at, or without), deleted, come back, added; nulls."""
    rng = random.Random(seed)
    clock = datetime.datetime(2024, 1, 1, 8)

    def later() -> datetime.datetime:
        nonlocal clock
        clock += datetime.timedelta(minutes=rng.randint(1, 600))
        return clock

    def new(key: int) -> Row:
        return {"id": key, "region": rng.choice(("north", "south")), "status": rng.choice(("placed", "shipped", None)),
                "amount": rng.randint(1, 9), "updated_at": later()}

    live = {key: new(key) for key in range(1, 6)}
    gone: dict[int, Row] = {}
    found = [[dict(r) for r in live.values()]]
    for _ in range(steps - 1):
        for key in list(live):
            roll = rng.random()
            if roll < 0.3:
                live[key] |= {"status": rng.choice(("placed", "shipped", None)), "amount": rng.randint(1, 9), "updated_at": later()}
            elif roll < 0.4:
                live[key] |= {"amount": rng.randint(1, 9)}
            elif roll < 0.55:
                gone[key] = live.pop(key)
        for key in [k for k in gone if rng.random() < 0.35]:
            live[key] = gone.pop(key) | {"updated_at": later()}
        if rng.random() < 0.6:
            key = max([*live, *gone]) + 1
            live[key] = new(key)
        found.append([dict(r) for r in live.values()])
    return found


def _text(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime.datetime) else str(value)


def _scd(values: list[Any]) -> str:
    """dbt's scd id, or a mark where it hashes a time the engine's clock gave."""
    if any(isinstance(v, datetime.datetime) and v.year >= 3000 and v != ENDLESS for v in values):
        return "hashed from a snapshot time"
    return hashlib.md5("|".join(_text(v) for v in values).encode()).hexdigest()


def reference(history: list[Row], source: list[Row], spec: Spec, now: datetime.datetime) -> list[Row]:
    """The next history, key by key, as dbt's strategies and merge leave it."""
    new_record = spec.hard_deletes == "new_record"

    def current(row: Row) -> bool:
        return row[spec.valid_to] is None or row[spec.valid_to] == spec.valid_to_current

    def key(row: Row) -> tuple[Any, ...]:
        return tuple(row[k] for k in spec.keys)

    def version(row: Row, at: datetime.datetime, deleted: str) -> Row:
        taken = {c: row[c] for c in spec.columns} | {
            "dbt_scd_id": _scd([*key(row), at]), "dbt_updated_at": at, spec.valid_from: at, spec.valid_to: spec.valid_to_current}
        return taken | ({"dbt_is_deleted": deleted} if new_record else {})

    rows = [dict(r) for r in history]
    open_rows = {key(r): r for r in rows if current(r)}
    incoming = {key(r): r for r in source}
    added = []
    for k, row in incoming.items():
        at = row["updated_at"] if spec.strategy == "timestamp" else now
        was = open_rows.get(k)
        if was is not None:
            if spec.strategy == "timestamp":
                changed = was[spec.valid_from] < row["updated_at"]
            else:
                changed = any(was[c] != row[c] for c in spec.check_cols)
            if not (changed or (new_record and was["dbt_is_deleted"] == "True")):
                continue
            was[spec.valid_to] = at
        added.append(version(row, at, "False"))
    if spec.hard_deletes != "ignore":
        for k, was in open_rows.items():
            if k in incoming or (new_record and was["dbt_is_deleted"] == "True"):
                continue
            still = was[spec.valid_to]
            was[spec.valid_to] = now
            if new_record:
                added.append({c: was[c] for c in spec.columns} | {
                    "dbt_scd_id": _scd([was["dbt_scd_id"], now]), "dbt_updated_at": now, spec.valid_from: now,
                    spec.valid_to: still, "dbt_is_deleted": "True"})
    return rows + added


def _write(root: Path, rows: list[Row]) -> None:
    with (root / "seeds" / "source_rows.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ALL)
        writer.writeheader()
        writer.writerows({k: "" if v is None else _text(v) for k, v in row.items()} for row in rows)


def _project(tmp_path: Path, target: str, request: pytest.FixtureRequest) -> Path:
    root = tmp_path / "snaps"
    shutil.copytree(FIXTURES / "dbt_snapshots", root)
    if target != "dev":
        write_engine_profile(target, root, request, "snaps")
        (root / "dbt_project.yml").write_text((root / "dbt_project.yml").read_text().replace("profile: snaps", "profile: default"))
    return root


def _tables(project: Project) -> dict[str, list[Row]]:
    schema = project.target.schema
    found = {}
    with project.session() as session:
        for name, spec in SPECS.items():
            table = project.compile().models[name].relation.to_table()
            assert project.compile().models[name].relation.schema == spec.schema.format(schema)
            names = [c for c, _ in session.adapter.columns(table)]
            rows = session.adapter.execute(f"SELECT * FROM {session.adapter.sql(table)}")
            found[name] = [dict(zip(names, row, strict=True)) for row in rows]
    return found


def _plain(value: Any) -> Any:
    """Engines' values as the reference's: naive datetimes, ints."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return int(value) if hasattr(value, "is_integer") and not isinstance(value, float) else value


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_snapshots_keep_the_history_dbt_keeps(tmp_path: Path, target: str, request: pytest.FixtureRequest) -> None:
    root = _project(tmp_path, target, request)
    history = states(seed=7, steps=5 if target == "spark" else 8)
    clock: dict[datetime.datetime, datetime.datetime] = {}  # an engine's clock value -> its step's stand-in
    expected: dict[str, list[Row]] = {name: [] for name in SPECS}
    for step, rows in enumerate(history):
        _write(root, rows)
        project = Project.load(root, target=target)
        assert all(r.status == "success" for r in project.seed())
        results = project.snapshot()
        assert sorted(r.name for r in results.results if r.status == "success") == sorted(SPECS)
        now = datetime.datetime(3000 + step, 1, 1)
        for name, spec in SPECS.items():
            expected[name] = reference(expected[name], rows, spec, now)
        for table in _tables(project).values():
            for row in table:
                for value in row.values():
                    value = _plain(value)
                    if isinstance(value, datetime.datetime) and 2025 <= value.year < 9999:
                        clock.setdefault(value, now)
    assert len(set(clock.values())) >= 3  # the clock was read in several steps (checks, deletions)
    for name, rows in _tables(project).items():
        spec = SPECS[name]
        got = []
        for row in rows:
            plain = {k: clock.get(_plain(v), _plain(v)) for k, v in row.items()}
            if any(isinstance(plain[c], datetime.datetime) and plain[c].year >= 3000 and plain[c] != ENDLESS
                   for c in ("dbt_updated_at", spec.valid_from)):
                plain["dbt_scd_id"] = "hashed from a snapshot time"
            got.append(plain)
        assert sorted(repr(sorted(r.items())) for r in got) == sorted(repr(sorted(r.items())) for r in expected[name]), name
    assert sum(len(rows) for rows in expected.values()) > 100
