"""Which of a peek's changes the slot reader keeps (streams.postgres_slot.committed_since),
against a row-by-row reference on seeded random peeks: whole transactions, kept when
they commit at the reader's start or later, nothing of a transaction not committed."""

from __future__ import annotations

import random

import pytest

from featureduck.streams.postgres_slot import committed_since

SEEDS = [21, 22, 23, 24]
BEGIN, COMMIT = '{"action":"B"}', '{"action":"C"}'


def _by_rows(rows: list[tuple[int, str]], start: int) -> tuple[list[tuple[int, str]], int | None]:
    changes: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []
    last_commit = None
    for lsn, data in rows:
        if data == BEGIN:
            pending = []
        elif data == COMMIT:
            if lsn >= start:
                changes += pending
            pending, last_commit = [], lsn
        else:
            pending.append((lsn, data))
    return changes, last_commit


def _peek(rng: random.Random) -> list[tuple[int, str]]:
    """Transactions one after another, as wal2json writes them; a change's LSN may lie
    below an earlier transaction's commit (it began first)."""
    rows: list[tuple[int, str]] = []
    lsn = rng.randrange(1, 1000)
    for number in range(rng.choice([0, 1, 2, 5, 40])):
        rows.append((lsn, BEGIN))
        for change in range(rng.choice([0, 1, 3, 50])):
            rows.append((lsn + rng.randrange(-30, 30), f'{{"action":"U","columns":[{number},{change}]}}'))
        lsn += rng.randrange(1, 60)
        rows.append((lsn, COMMIT))
        lsn += rng.randrange(0, 5)
    return rows


@pytest.mark.parametrize("seed", SEEDS)
def test_the_kept_changes_are_the_row_by_row_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        rows = _peek(rng)
        start = rng.choice([0, 10 ** 9, *(lsn + rng.choice([-1, 0, 1]) for lsn, _ in rows[:: max(len(rows) // 4, 1)])])
        lsns, changes, last_commit = committed_since([lsn for lsn, _ in rows], [data for _, data in rows], start)
        expected, expected_commit = _by_rows(rows, start)
        assert list(zip(lsns.to_pylist(), changes.to_pylist(), strict=True)) == expected
        assert last_commit == expected_commit
