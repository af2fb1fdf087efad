"""Fuzzed projects (project_fuzz): a damaged file never gives a traceback, and every
error names its file. benchmarks/fuzz_projects.py runs longer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.project_fuzz import fuzz


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_damaged_projects_get_errors_naming_their_files(tmp_path: Path, seed: int) -> None:
    outcomes = [fuzz(tmp_path, number, seed) for number in range(40)]
    problems = [f"{o.damage}: {p}" for o in outcomes for p in o.problems]
    assert problems == []
    assert sum(1 for o in outcomes if any(code != 0 for _, code, _ in o.results)) >= 10  # the damage was real
