"""`fduck parse`: read and validate the whole project and write target/manifest.json.

Everything a later command would reject without a database is checked here: the
project file and YAML, every model's Jinja and SQL for the target, feature views
against their models, and the data tests. Nothing is connected to.
"""

from __future__ import annotations

from dataclasses import dataclass

from featureduck.runner import artifacts
from featureduck.tasks.options import Selector
from featureduck.tasks.test import select_tests
from featureduck.tasks.workspace import Workspace


@dataclass(frozen=True)
class Parsed:
    counts: dict[str, int]  # what the project declares, by kind, for the summary line
    errors: list[str]


def parse(workspace: Workspace) -> Parsed:
    compiled = workspace.compile(write=False)
    target_dir = workspace.config.target_dir
    artifacts.write_manifest(target_dir, artifacts.build_manifest(workspace.definition, compiled, artifacts.read_manifest(target_dir)))
    tests = select_tests(workspace, Selector())
    errors = [str(error) for _, error in sorted(compiled.errors.items())]
    errors += [str(error) for error in workspace.feature_view_errors()]
    errors += [test.error for test in tests if test.sql is None and test.error]
    definition = workspace.definition
    models = [m for m in definition.models.values() if m.name not in compiled.disabled]
    counts = {
        "model": sum(1 for m in models if m.resource_type == "model"),
        "snapshot": sum(1 for m in models if m.resource_type == "snapshot"),
        "seed": len(definition.seeds),
        "source": len(definition.sources),
        "test": len(tests),
        "feature view": len(definition.feature_views),
    }
    return Parsed(counts, errors)
