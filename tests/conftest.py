"""Shared helpers: write small projects into tmp folders and run fduck on them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

ProjectFactory = Callable[..., Path]


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text, dedented) under root."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """make_project({path: text}, name="p") writes a project with a default project file."""

    def factory(files: dict[str, str], name: str = "proj") -> Path:
        root = tmp_path / name
        all_files = {"featureduck_project.yml": f"name: {name}\n", **files}
        return write_project(root, all_files)

    return factory


@pytest.fixture(autouse=True)
def _isolated_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never pick up the developer's ~/.featureduck or ~/.dbt profiles."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FDUCK_PROFILES_DIR", raising=False)


def fduck(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `fduck` CLI in a subprocess (as a user would)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "featureduck.cli", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300,
    )
