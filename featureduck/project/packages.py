"""dbt packages: what packages.yml (or dependencies.yml) declares and where each lives.

Packages are read where `dbt deps` (or `fduck deps`) leaves them, in the
project's packages-install-path (dbt_packages/ by default), each a folder
with its own dbt_project.yml; `local:` packages are read in place. A package
contributes its macros, under its name (`dbt_utils.star(...)`), its generic
tests, and its models, snapshots and seeds (read by the loader, configured
by its project file and the project's). A declared package that is not
installed is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featureduck.config.project_config import ProjectConfig, load_project_config
from featureduck.errors import ProjectError, SourceLocation
from featureduck.utils.hashing import sha256_text
from featureduck.utils.text_files import read_project_text
from featureduck.utils.yaml_loader import LineDict, load_yaml_file

PACKAGE_FILES = ("packages.yml", "dependencies.yml")


@dataclass(frozen=True)
class DeclaredPackage:
    """One entry of packages.yml: a hub package, a git repository or a local folder."""

    kind: str  # hub | git | local | tarball
    spec: str  # dbt-labs/dbt_utils, the git URL, the local path, the tarball URL
    version: str | None  # the hub version range or git revision
    location: SourceLocation

    @property
    def shown(self) -> str:
        return f"{self.spec}" + (f" ({self.version})" if self.version else "")


@dataclass
class Package:
    """An installed package: its name (from its dbt_project.yml) and its macro files."""

    name: str
    root: Path
    config: ProjectConfig
    macro_files: list[tuple[str, str]] = field(default_factory=list)  # (path shown, text)


def declared_packages(root: Path) -> list[DeclaredPackage]:
    found: list[DeclaredPackage] = []
    for file_name in PACKAGE_FILES:
        path = root / file_name
        if not path.is_file():
            continue
        data = load_yaml_file(path, file_name)
        entries = data.get("packages") if isinstance(data, dict) else None
        if data is not None and not isinstance(entries, list):
            raise ProjectError(f"{file_name} must hold a `packages:` list", SourceLocation(file_name, 1))
        lines: list[int] = getattr(entries, "item_lines", [])
        for index, entry in enumerate(entries or []):
            line = lines[index] if index < len(lines) else 1
            found.append(_declared(entry, SourceLocation(file_name, line)))
    return found


def _declared(entry: Any, location: SourceLocation) -> DeclaredPackage:
    if not isinstance(entry, dict):
        raise ProjectError(f"a package entry is a mapping (package:, git:, local: or tarball:), not {entry!r}", location)
    for kind, key in (("hub", "package"), ("git", "git"), ("local", "local"), ("tarball", "tarball"), ("git", "private")):
        if key in entry:
            version = entry.get("version") if kind == "hub" else entry.get("revision")
            if isinstance(version, list):
                version = ", ".join(str(v) for v in version)
            return DeclaredPackage(kind, str(entry[key]), None if version is None else str(version), location)
    raise ProjectError(f"a package entry names no package:, git:, local: or tarball: ({', '.join(map(str, entry))})", location)


def install_folder(config: ProjectConfig) -> Path:
    return config.root / (config.shape.packages_install_path or "dbt_packages")


def load_packages(config: ProjectConfig, file_hashes: dict[str, str]) -> dict[str, Package]:
    """Every installed package (and every local one), by name; a declared package that is
    not installed is an error naming it."""
    folders: list[Path] = []
    installed = install_folder(config)
    if installed.is_dir():
        folders += sorted(p for p in installed.iterdir() if (p / "dbt_project.yml").is_file())
    installed_names = {_project_name(folder): folder for folder in folders}
    unclaimed = set(installed_names)  # installed folders no declared package is known to be
    missing = []
    for declared in declared_packages(config.root):
        if declared.kind == "local":
            folder = (config.root / declared.spec).resolve()
            if not (folder / "dbt_project.yml").is_file():
                raise ProjectError(f"local package {declared.spec} has no dbt_project.yml", declared.location)
            name = _project_name(folder)
            unclaimed.discard(name)
            if name not in installed_names:
                folders.append(folder)
        elif _expected_name(declared) in installed_names:
            unclaimed.discard(_expected_name(declared))
        else:
            missing.append(declared)
    # a git package's folder is named by its dbt_project.yml, which only the installed copy tells:
    # a declared package is missing only when no installed folder is left to be it
    if len(missing) > len(unclaimed):
        first = missing[len(unclaimed)]
        raise ProjectError(f"package {first.shown} is not installed in {installed.relative_to(config.root)}/",
                           first.location, "run `fduck deps` (or `dbt deps`)")
    packages: dict[str, Package] = {}
    for folder in folders:
        package = _load_package(config, folder, file_hashes)
        if package.name == config.name:
            raise ProjectError(f"package {folder} has the project's own name '{config.name}'", SourceLocation(config.file_name, 1))
        packages[package.name] = package
    return packages


def _expected_name(declared: DeclaredPackage) -> str:
    """The folder name `deps` gives a package: the hub name's last part, or the repository's."""
    tail = declared.spec.rstrip("/").split("/")[-1]
    return tail.removesuffix(".git").removesuffix(".tar.gz").replace("-", "_")


def _project_name(folder: Path) -> str:
    data = load_yaml_file(folder / "dbt_project.yml", str(folder / "dbt_project.yml"))
    return str(data.get("name")) if isinstance(data, LineDict) and data.get("name") else folder.name


def _load_package(config: ProjectConfig, folder: Path, file_hashes: dict[str, str]) -> Package:
    package_config = load_project_config(folder, package=True)
    package = Package(package_config.name, folder, package_config)
    # its project file configures its models and holds its vars: part of the compile cache key
    project_file = _shown(folder / package_config.file_name, config.root)
    file_hashes[project_file] = sha256_text(read_project_text(folder / package_config.file_name, project_file))
    macro_folders = [*package_config.paths("macro"), *(p / "generic" for p in package_config.paths("test"))]
    for path in macro_folders:
        for file in sorted(path.rglob("*.sql")) if path.is_dir() else []:
            shown = _shown(file, config.root)
            text = read_project_text(file, shown)
            file_hashes[shown] = sha256_text(text)
            package.macro_files.append((shown, text))
    return package


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
