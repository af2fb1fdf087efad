"""`fduck deps`: the packages of packages.yml installed into dbt_packages/, as `dbt deps` does.

`local:` packages are linked, `git:` ones cloned (at their `revision`), hub
packages resolved against hub.getdbt.com to the newest version their range
allows and unpacked. Each lands in a folder named as its dbt_project.yml
names it. Without a network a git or hub package is an error naming it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from featureduck.config.project_config import load_project_config
from featureduck.errors import UsageError
from featureduck.project.packages import DeclaredPackage, declared_packages, install_folder
from featureduck.utils.yaml_loader import load_yaml_file

HUB = "https://hub.getdbt.com/api/v1"
_TIMEOUT = 20


@dataclass(frozen=True)
class Installed:
    name: str
    source: str  # what was asked for, as packages.yml says it
    how: str  # linked, cloned at <revision>, version <v>


def install_packages(root: Path) -> list[Installed]:
    config = load_project_config(root.resolve())
    folder = install_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    return [_install(package, config.root, folder) for package in declared_packages(config.root)]


def _install(package: DeclaredPackage, root: Path, folder: Path) -> Installed:
    if package.kind == "local":
        source = (root / package.spec).resolve()
        name = _name_of(source, package)
        link = folder / name
        _remove(link)
        link.symlink_to(os.path.relpath(source, folder), target_is_directory=True)
        return Installed(name, package.spec, "linked")
    with tempfile.TemporaryDirectory(prefix="fduck-deps-") as scratch:
        unpacked = Path(scratch) / "package"
        if package.kind == "git":
            how = _clone(package, unpacked)
        elif package.kind == "tarball":
            _unpack(_download(package.spec, package), unpacked)
            how = "downloaded"
        else:
            version, url = _hub_release(package)
            _unpack(_download(url, package), unpacked)
            how = f"version {version}"
        name = _name_of(unpacked, package)
        _remove(folder / name)
        shutil.move(str(unpacked), folder / name)
    return Installed(name, package.spec, how)


def _clone(package: DeclaredPackage, into: Path) -> str:
    revision = package.version
    command = ["git", "clone", "--quiet", "--depth", "1", *(["--branch", revision] if revision else []), package.spec, str(into)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 and revision:  # a commit, not a branch or tag: clone, then check it out
        shutil.rmtree(into, ignore_errors=True)
        done = subprocess.run(["git", "clone", "--quiet", package.spec, str(into)], capture_output=True, text=True)
        if done.returncode == 0:
            done = subprocess.run(["git", "-C", str(into), "checkout", "--quiet", revision], capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"package {package.shown}: git could not fetch it: {done.stderr.strip()}", package.location)
    shutil.rmtree(into / ".git", ignore_errors=True)
    return f"cloned at {revision}" if revision else "cloned"


def _hub_release(package: DeclaredPackage) -> tuple[str, str]:
    """The newest hub version the package's range allows, and its tarball."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    index = json.loads(_download(f"{HUB}/{package.spec}.json", package))
    wanted = SpecifierSet(",".join(_specifier(part) for part in (package.version or "").split(",") if part.strip()))
    candidates = []
    for text, release in (index.get("versions") or {}).items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version in wanted and not version.is_prerelease:
            candidates.append((version, release))
    if not candidates:
        raise UsageError(f"package {package.shown}: the hub has no version in that range", package.location,
                         "known: " + ", ".join(sorted(index.get("versions") or {})))
    version, release = max(candidates, key=lambda item: item[0])
    return str(version), str(release["downloads"]["tarball"])


def _specifier(part: str) -> str:
    part = part.strip().strip("'\"")
    return part if part[:1] in "<>=!~" else f"=={part}"


def _download(url: str, package: DeclaredPackage) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:  # noqa: S310 - the hub's and packages.yml's URLs
            data: bytes = response.read()
            return data
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise UsageError(f"package {package.shown}: could not download {url} ({getattr(err, 'reason', err)})", package.location,
                         "install it where dbt_packages/ is reachable, or vendor it as a `local:` package") from None


def _unpack(data: bytes, into: Path) -> None:
    """A package tarball holds one top folder: its contents become `into`."""
    with tempfile.TemporaryDirectory(prefix="fduck-tar-") as scratch, tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(scratch, filter="data")
        tops = [p for p in Path(scratch).iterdir() if p.is_dir()]
        shutil.move(str(tops[0] if len(tops) == 1 else Path(scratch)), into)


def _name_of(folder: Path, package: DeclaredPackage) -> str:
    project_file = folder / "dbt_project.yml"
    if not project_file.is_file():
        raise UsageError(f"package {package.shown} has no dbt_project.yml", package.location)
    data = load_yaml_file(project_file, str(project_file))
    return str(data["name"]) if isinstance(data, dict) and data.get("name") else folder.name


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
