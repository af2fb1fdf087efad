"""Golden files: one project, the expected SQL per target dialect.

Set FDUCK_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate
change, then review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from featureduck.api import Project

GOLDEN = Path(__file__).resolve().parent / "golden"
TARGETS = ("dev", "pg", "spark")


@pytest.mark.parametrize("target", TARGETS)
def test_compiled_sql_matches_golden_files(tmp_path: Path, target: str) -> None:
    root = tmp_path / "project"
    shutil.copytree(GOLDEN / "project", root)
    compiled = Project.load(root, target=target).compile(use_cache=False)
    assert compiled.errors == {}
    for name, model in sorted(compiled.models.items()):
        expected_file = GOLDEN / "expected" / f"{name}.{target}.sql"
        if os.environ.get("FDUCK_UPDATE_GOLDEN"):
            expected_file.parent.mkdir(exist_ok=True)
            expected_file.write_text(model.sql + "\n")
        assert model.sql + "\n" == expected_file.read_text(), f"{expected_file.name} differs"
