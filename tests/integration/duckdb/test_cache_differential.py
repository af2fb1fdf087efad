"""The run cache never serves a stale relation: seeded random histories run with
and without the cache give the same relations after every step (cache_history).
benchmarks/cache_differential.py runs longer histories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.duckdb.cache_history import History


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cached_and_uncached_histories_agree(tmp_path: Path, seed: int) -> None:
    history = History(tmp_path, seed)
    for _ in range(30):
        step = history.step()
        assert not step.differences, f"seed {seed}, step {step.number} ({step.changes}, {step.command}):\n" + "\n".join(step.differences)
    assert sum(s.cached for s in history.steps) >= 8  # the cache was exercised, not bypassed
