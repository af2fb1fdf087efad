"""The architecture as tests (docs/ARCHITECTURE.md): imports point down the layer list,
heavy libraries stay where the architecture puts them, and no layer outside
engines/ names an engine."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "featureduck"
# Lower index = lower layer. A module may import its own layer or lower ones.
LAYERS = [
    "errors", "utils", "traits", "config", "project", "templating", "graph", "compiler", "engines", "udfs",
    "materializations", "runner", "testing", "sources", "store", "exports", "backups", "profiling", "advice", "online", "streams",
    "serving", "docs_site", "tasks", "scaffold", "api", "cli",
]
HEAVY = {"duckdb", "psycopg", "pyspark", "networkx", "lmdb", "confluent_kafka"}
# Where each may be imported at all. DuckDB is also the local reader of files and
# frames (sources, exports, training sets, backups, the online stores' encoders).
ALLOWED = {
    "duckdb": {"engines", "sources", "exports", "store", "backups", "online", "streams"},
    "psycopg": {"engines", "online", "streams"},
    "pyspark": {"engines"},
    "networkx": {"graph"},
    "lmdb": {"online"},
    "confluent_kafka": {"streams"},
}
# The engine traits table is plain data that every layer reads.
PLAIN_DATA = {"featureduck.engines.traits": "traits"}


def _layer(module: str) -> str:
    if module in PLAIN_DATA:
        return PLAIN_DATA[module]
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


def test_heavy_libraries_only_in_their_layers() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0]
        for name, _ in _imports(path):
            library = name.split(".")[0]
            if library in ALLOWED and layer not in ALLOWED[library]:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_traits_module_imports_only_the_bottom_layers() -> None:
    names = [name for name, _ in _imports(PACKAGE / "engines" / "traits.py") if name.startswith("featureduck.")]
    assert all(_layer(name) in ("errors", "utils") for name in names), names


ENGINE_NAMES = {"duckdb", "ducklake", "postgres", "spark"}


def _names_an_engine(node: ast.Compare) -> bool:
    """`x.DIALECT == "duckdb"`, `dialect in ("postgres", ...)`, `adapter.TYPE != "spark"`..."""
    subjects = [node.left, *node.comparators]
    asks_engine = any(
        (isinstance(n, ast.Attribute) and n.attr in ("DIALECT", "TYPE", "dialect", "target_dialect"))
        or (isinstance(n, ast.Name) and n.id in ("dialect", "target_dialect", "engine_type"))
        for n in subjects
    )
    literals = {c.value for n in subjects for c in ast.walk(n) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return asks_engine and bool(literals & ENGINE_NAMES)


def test_no_layer_outside_engines_names_an_engine() -> None:
    """What differs between engines is asked of the traits table or the adapter: no
    comparison with an engine's name and no isinstance of a concrete adapter."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "engines":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and _names_an_engine(node):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} compares with an engine name")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" and any(
                isinstance(a, ast.Name) and a.id.endswith("Adapter") and a.id != "EngineAdapter" for a in ast.walk(node)
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} tests for a concrete adapter")
    assert offenders == []


def test_cli_is_imported_by_nobody() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert all(not name.startswith("featureduck.cli") for name, _ in _imports(path)), path
