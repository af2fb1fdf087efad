"""Write the site: the page, its scripts (the graph libraries included) and the catalog.

The catalog is written twice: `catalog.json` for tools, and `catalog.js`, which sets a
global, because a page opened from disk (file://) may not fetch() a JSON file beside
it. `version.txt` changes with every generate: a served page polls it to refresh.
"""

from __future__ import annotations

import json
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any

ASSETS = ("index.html", "app.js", "style.css", "vendor/cytoscape.min.js", "vendor/cytoscape-dagre.min.js", "vendor/LICENSES.txt")


def write_site(folder: Path, catalog: dict[str, Any]) -> None:
    (folder / "vendor").mkdir(parents=True, exist_ok=True)
    assets = resources.files("featureduck.docs_site") / "assets"
    for name in ASSETS:
        with resources.as_file(assets / name) as source:
            shutil.copyfile(source, folder / name)
    data = json.dumps(catalog, default=str, separators=(",", ":"))
    _atomic_write(folder / "catalog.json", data)
    # "</" never ends the script early: JSON allows it escaped
    _atomic_write(folder / "catalog.js", "window.FDUCK_CATALOG = " + data.replace("</", "<\\/") + ";\n")
    _atomic_write(folder / "version.txt", f"{time.time_ns()}\n")


def _atomic_write(path: Path, text: str) -> None:
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
