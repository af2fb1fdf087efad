"""`fduck init`: copy the starter project shipped with the package."""

from __future__ import annotations

import shutil
from pathlib import Path

from featureduck.errors import UsageError

_PACKAGE_DIR = Path(__file__).resolve().parent


def template_dir() -> Path:
    """The starter project: packaged in wheels, at the repository root in a checkout."""
    for candidate in (_PACKAGE_DIR / "project_template", _PACKAGE_DIR.parent / "project_template"):
        if (candidate / "featureduck_project.yml").is_file():
            return candidate
    raise UsageError("the project template is missing from this installation; reinstall featureduck")


def init_project(destination: Path) -> Path:
    """Copy the template to `destination` (which must not exist or be empty)."""
    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        raise UsageError(f"{destination} already exists and is not empty")
    shutil.copytree(template_dir(), destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target", "__pycache__"))
    project_file = destination / "featureduck_project.yml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(text.replace("name: starter", f"name: {_safe_name(destination.name)}", 1), encoding="utf-8")
    return destination


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"project_{cleaned}"
