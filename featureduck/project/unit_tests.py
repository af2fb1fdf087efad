"""dbt's `unit_tests:` YAML to UnitTest declarations, rows read as dbt reads them.

csv rows (inline or a fixture file under `<test path>/fixtures/`) become dicts
with empty fields as nulls; a dict input with no rows that names a seed takes
the seed's file; sql rows stay text. Every name is checked against the
project, so a unit test that could not run is an error at its line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from featureduck.errors import ProjectError, SourceLocation
from featureduck.project.nodes import Model, Seed, SourceTable, UnitInput, UnitTest
from featureduck.project.schema_files import UnitFixtureShape, UnitTestShape
from featureduck.utils.suggest import did_you_mean

_REF = re.compile(r"""^\s*ref\(\s*(?:['"]\w+['"]\s*,\s*)?['"]([^'"]+)['"]\s*(?:,\s*v(?:ersion)?\s*=\s*[^)]*)?\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$""")


def unit_test(
    shape: UnitTestShape, location: SourceLocation, project: str, root: Path, test_paths: list[Path],
    models: dict[str, Model], seeds: dict[str, Seed], sources: dict[tuple[str, str], SourceTable],
) -> UnitTest:
    if shape.model not in models:
        raise ProjectError(f"unit test '{shape.name}' names unknown model '{shape.model}'", location,
                           did_you_mean(shape.model, models))
    given = [_input(fixture, shape, location, root, test_paths, models, seeds, sources) for fixture in shape.given]
    expect = _rows(shape.expect, f"unit test '{shape.name}' expect", location, root, test_paths)
    if expect is None:
        raise ProjectError(f"unit test '{shape.name}' expects no rows: give `expect: rows:` (an empty list for none)", location)
    overrides = {"vars": shape.overrides.vars, "macros": shape.overrides.macros, "env_vars": shape.overrides.env_vars}
    return UnitTest(shape.name, project, shape.model, given, expect, location, overrides, shape.config, shape.description)


def _input(
    fixture: UnitFixtureShape, shape: UnitTestShape, location: SourceLocation, root: Path, test_paths: list[Path],
    models: dict[str, Model], seeds: dict[str, Seed], sources: dict[tuple[str, str], SourceTable],
) -> UnitInput:
    written = (fixture.input or "").strip()
    what = f"unit test '{shape.name}' input {written or '(none)'}"
    if written == "this":
        kind, name = "this", shape.model
    elif match := _REF.match(written):
        kind, name = "ref", match.group(1)
        if name not in models and name not in seeds:
            raise ProjectError(f"{what}: no model or seed '{name}'", location, did_you_mean(name, [*models, *seeds]))
    elif match := _SOURCE.match(written):
        kind, name = "source", f"{match.group(1)}.{match.group(2)}"
        if (match.group(1), match.group(2)) not in sources:
            raise ProjectError(f"{what}: no source table '{name}'", location, did_you_mean(name, [f"{s}.{t}" for s, t in sources]))
    else:
        raise ProjectError(f"{what}: an input is ref('model'), source('source', 'table') or this", location)
    rows = _rows(fixture, what, location, root, test_paths)
    if rows is None:
        if kind != "ref" or name not in seeds:
            raise ProjectError(f"{what} has no rows", location, "give `rows:` (an empty list for none)")
        seed_file = root / seeds[name].path
        rows = _csv_rows(seed_file.read_text(encoding="utf-8"))
    return UnitInput(written, kind, name, rows, fixture.format)


def _rows(fixture: UnitFixtureShape, what: str, location: SourceLocation, root: Path, test_paths: list[Path]
          ) -> list[dict[str, Any]] | str | None:
    """The fixture's rows as its format gives them; None when it names none."""
    text = fixture.rows
    if fixture.fixture is not None:
        text = _fixture_file(fixture.fixture, fixture.format, what, location, root, test_paths)
    if text is None:
        return None
    if fixture.format == "dict":
        if not isinstance(text, list):
            raise ProjectError(f"{what}: format dict takes a list of rows, not text", location)
        return [dict(row) for row in text]
    if not isinstance(text, str):
        raise ProjectError(f"{what}: format {fixture.format} takes its rows as text", location)
    return _csv_rows(text) if fixture.format == "csv" else text


def _csv_rows(text: str) -> list[dict[str, Any]]:
    return [{key: (None if value == "" else value) for key, value in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _fixture_file(name: str, fmt: str, what: str, location: SourceLocation, root: Path, test_paths: list[Path]) -> str:
    suffix = ".sql" if fmt == "sql" else ".csv"
    for folder in test_paths:
        found = sorted((folder / "fixtures").rglob(f"{name}{suffix}")) if (folder / "fixtures").is_dir() else []
        if found:
            return found[0].read_text(encoding="utf-8")
    folders = ", ".join(str((p / "fixtures").relative_to(root)) for p in test_paths)
    raise ProjectError(f"{what}: no fixture file {name}{suffix} in {folders}", location)
