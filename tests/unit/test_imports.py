"""Imports only point down the layer list in DESIGN.md; heavy libraries stay in adapters."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "featureduck"
# Lower index = lower layer. A module may import its own layer or lower ones.
LAYERS = [
    "errors", "utils", "config", "project", "templating", "graph", "compiler", "engines", "udfs",
    "materializations", "runner", "testing", "sources", "store", "exports", "backups", "profiling", "advice", "online", "serving",
    "tasks", "scaffold", "api", "cli",
]
HEAVY = {"duckdb", "psycopg", "pyspark", "networkx"}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at_top_level) for every featureduck or heavy import in a file."""
    tree = ast.parse(path.read_text())
    found = []
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            found.append((name, id(node) in top_level))
    return found


def test_no_upward_imports() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        module = "featureduck." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = _layer(module)
        if own not in LAYERS:
            continue
        for name, _ in _imports(path):
            if not name.startswith("featureduck.") or name == "featureduck":
                continue
            other = _layer(name)
            if other in LAYERS and LAYERS.index(other) > LAYERS.index(own):
                offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_heavy_libraries_only_inside_functions_of_engines() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for name, top_level in _imports(path):
            if name.split(".")[0] in HEAVY and top_level:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name} at module level")
    assert offenders == []


def test_cli_is_imported_by_nobody() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert all(not name.startswith("featureduck.cli") for name, _ in _imports(path)), path
