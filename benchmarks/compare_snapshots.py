"""dbt snapshots taken by dbt and by fduck over the same random histories: the same rows?

tests/fixtures/dbt_snapshots holds one snapshot per kind dbt has: the
timestamp strategy with hard_deletes ignore, invalidate (as the legacy
invalidate_hard_deletes) and new_record, a composite unique_key with
dbt_valid_to_current, the check strategy over all columns (renamed meta
columns) and over a list, and a dbt 1.9 YAML snapshot. For each seed of the
random generator, both tools get the same sequence of source states (rows
changed with a newer updated_at, changed without one, deleted, come back,
added, nulls); after each state each runs `seed` then `snapshot` on its own
copy. The history tables are then compared row for row.

Times a snapshot takes from the clock (the check strategy's versions, the
deletion times) differ between two runs by nature: each is replaced by the
number of the step it was taken in (each tool's steps are timed), and an
scd id hashed from such a time by a mark. Everything else is compared as is.

    python benchmarks/compare_snapshots.py [--seeds N] [--steps N]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import random
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_dbt import DBT, export, tool_command  # noqa: E402

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "fixtures" / "dbt_snapshots"
WORK = HERE / "work" / "snapshot_compare"
COLUMNS = ("id", "region", "status", "amount", "updated_at")
STATUSES = ("placed", "shipped", "returned", None)


def histories(seed: int, steps: int) -> list[list[dict[str, object]]]:
    """Source states: each step changes, deletes, restores and adds rows at random."""
    rng = random.Random(seed)
    clock = datetime.datetime(2024, 1, 1, 8)
    live: dict[int, dict[str, object]] = {}
    gone: dict[int, dict[str, object]] = {}
    for key in range(1, 6):
        clock += datetime.timedelta(minutes=rng.randint(1, 90))
        live[key] = {"id": key, "region": rng.choice(("north", "south")), "status": rng.choice(STATUSES),
                     "amount": rng.randint(1, 50), "updated_at": clock}
    states = [[dict(row) for row in live.values()]]
    for _ in range(steps - 1):
        for key in list(live):
            roll = rng.random()
            clock += datetime.timedelta(minutes=rng.randint(1, 600))
            if roll < 0.3:
                live[key] |= {"status": rng.choice(STATUSES), "amount": rng.randint(1, 50), "updated_at": clock}
            elif roll < 0.4:  # changed, its updated_at not: only the check strategy sees it
                live[key] |= {"amount": rng.randint(1, 50)}
            elif roll < 0.55:
                gone[key] = live.pop(key)
        for key in list(gone):
            if rng.random() < 0.3:
                clock += datetime.timedelta(minutes=rng.randint(1, 600))
                live[key] = gone.pop(key) | {"updated_at": clock, "status": rng.choice(STATUSES)}
        if rng.random() < 0.6:
            key = max([*live, *gone]) + 1
            clock += datetime.timedelta(minutes=rng.randint(1, 600))
            live[key] = {"id": key, "region": rng.choice(("north", "south")), "status": rng.choice(STATUSES),
                         "amount": rng.randint(1, 50), "updated_at": clock}
        states.append([dict(row) for row in sorted(live.values(), key=lambda r: r["id"])])
    return states


def write_state(folder: Path, rows: list[dict[str, object]]) -> None:
    with (folder / "seeds" / "source_rows.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


def take(tool: str, folder: Path, states: list[list[dict[str, object]]]) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Each state seeded and snapshotted in turn; the (start, end) time of each step."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FIXTURE, folder)
    windows = []
    for rows in states:
        write_state(folder, rows)
        start = datetime.datetime.now()
        for command in ("seed", "snapshot"):
            done = subprocess.run(tool_command(tool, command, folder), capture_output=True, text=True, cwd=folder)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
                raise SystemExit(f"{tool} {command} failed:\n{tail}")
        windows.append((start, datetime.datetime.now()))
    return windows


def normalized(path: Path, windows: list[tuple[datetime.datetime, datetime.datetime]]) -> list[tuple[object, ...]]:
    """The table's rows, times taken from the clock as `step N`, scd ids hashed from them marked."""
    table = duckdb.sql(f"SELECT * FROM '{path}'")
    names = table.columns
    rows = []
    for row in table.fetchall():
        clocked = False
        values: list[object] = []
        for value in row:
            if isinstance(value, datetime.datetime) and value.year >= 2025:
                step = next((i for i, (a, b) in enumerate(windows) if a <= value <= b), None)
                values.append(f"step {step}")
                clocked = True
            else:
                values.append(value)
        if clocked and "dbt_scd_id" in names:
            values[names.index("dbt_scd_id")] = "hashed from a snapshot time"
        rows.append(tuple(values))
    return sorted(rows, key=repr)


def compare(seed: int, steps: int) -> bool:
    states = histories(seed, steps)
    work = WORK / f"seed{seed}"
    dbt_windows = take("dbt", work / "dbt", states)
    fduck_windows = take("fduck", work / "fduck", states)
    dbt_tables = export(str(DBT.parent / "python"), work / "dbt" / "snaps.duckdb", work / "export_dbt")
    fduck_tables = export(sys.executable, work / "fduck" / "snaps.duckdb", work / "export_fduck")
    same = True
    for relation in sorted(set(dbt_tables) | set(fduck_tables)):
        if relation not in dbt_tables or relation not in fduck_tables:
            print(f"  seed {seed}: {relation} only built by {'dbt' if relation in dbt_tables else 'fduck'}")
            same = False
            continue
        a = normalized(work / "export_dbt" / f"{relation}.parquet", dbt_windows)
        b = normalized(work / "export_fduck" / f"{relation}.parquet", fduck_windows)
        identical = a == b and dbt_tables[relation] == fduck_tables[relation]
        if not identical:
            same = False
            print(f"  seed {seed}: {relation} DIFFERENT ({len(a)} rows by dbt, {len(b)} by fduck)")
            if dbt_tables[relation] != fduck_tables[relation]:
                print(f"    columns: dbt {dbt_tables[relation]}\n             fduck {fduck_tables[relation]}")
            for row in sorted(set(a) - set(b), key=repr)[:4]:
                print(f"    only dbt:   {row}")
            for row in sorted(set(b) - set(a), key=repr)[:4]:
                print(f"    only fduck: {row}")
    rows = sum(len(normalized(work / "export_dbt" / f"{r}.parquet", dbt_windows)) for r in dbt_tables)
    print(f"seed {seed}: {steps} states, {len(dbt_tables)} relations, {rows} history rows: {'identical' if same else 'DIFFERENT'}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    if not DBT.exists():
        raise SystemExit(f"no dbt at {DBT} (see compare_dbt.py's docstring)")
    results = [compare(seed, args.steps) for seed in range(args.seeds)]
    print(f"{sum(results)} of {len(results)} random histories identical")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
