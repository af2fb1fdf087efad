"""What a person sees: progress lines numbered in start order (one numbering in
`build`), counts with their plurals, tables never cut when piped, and progress
bars on a terminal only."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, copy_example_project, fduck


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = copy_example_project(tmp_path / "example")
    (root / "seeds").mkdir()
    (root / "seeds" / "segments.csv").write_text("user_id,segment\n1,gold\n")
    return root


def numbers(output: str) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), what) for a, b, what in re.findall(r"^(\d+) of (\d+) (START|OK|PASS|SKIP|ERROR|CACHED)", output, re.M)]


def test_build_numbers_seeds_models_and_tests_as_one_in_start_order(example: Path) -> None:
    built = fduck("build", "--threads", "2", cwd=example)
    assert built.returncode == 0, built.stderr
    lines = numbers(built.stdout)
    assert {total for _, total, _ in lines} == {8}  # 1 seed + 4 models + 3 tests, told once
    started = [n for n, _, what in lines if what == "START"]
    assert started == list(range(1, 9))  # in the order they start, whatever the threads
    assert "OK 1 row in" in built.stdout and "OK 1 rows" not in built.stdout
    assert "Finished running 1 seed and 4 models in" in built.stdout and "Finished running 3 tests in" in built.stdout


def test_a_model_that_did_not_compile_shows_no_question_mark(make_project: ProjectFactory) -> None:
    root = make_project({"models/a.sql": "select 1 as id", "models/b.sql": "select * from {{ ref('a') }} where {{ nope() }}"})
    ran = fduck("run", cwd=root)
    assert ran.returncode == 1 and "?" not in ran.stdout
    assert re.search(r"ERROR building model b \.+", ran.stdout), ran.stdout
    assert "Finished running 2 models" in ran.stdout and "Failure in model b" in ran.stdout


def test_piped_output_is_plain(example: Path) -> None:
    assert fduck("run", cwd=example).returncode == 0
    profile = fduck("profile", "user_activity_daily", cwd=example, env={"COLUMNS": "80"})
    header = next(line for line in profile.stdout.splitlines() if "column" in line and "most frequent" in line)
    assert len(header) > 80  # every column shown, none cut to fit 80
    materialized = fduck("materialize", cwd=example)
    assert materialized.stdout.startswith("user_activity@1: 20 rows (full)"), materialized.stdout  # no bar, no blank line
    assert "Materialized 20 rows of 1 view in" in materialized.stdout


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """Run fduck with a pseudo-terminal as its stdout, as a person at a shell would."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "featureduck.cli", *args], cwd=cwd, stdout=follower, stderr=follower,
                               env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_materialize_shows_a_progress_bar_on_a_terminal(example: Path) -> None:
    assert fduck("run", cwd=example).returncode == 0
    shown = _on_a_terminal(["materialize"], example)
    assert "materializing" in shown and "views" in shown  # rich's bar, drawn then cleared
    assert "Materialized 20 rows of 1 view" in shown
