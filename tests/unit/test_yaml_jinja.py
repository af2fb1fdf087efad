"""Jinja in YAML values rendered as dbt renders it: native types, its errors at the file's
line, and the env vars it reads keying the compile cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from featureduck.config.profiles import default_target
from featureduck.config.yaml_jinja import YamlRenderer
from featureduck.errors import ProjectError
from featureduck.utils.yaml_loader import load_yaml_text
from tests.conftest import write_project


def _render(text: str, project_vars: dict[str, Any] | None = None) -> Any:
    renderer = YamlRenderer(default_target(Path(".")).jinja_target(), project_vars or {})
    return renderer.render_tree(load_yaml_text(text, "x.yml"), "x.yml")


@pytest.mark.parametrize(("value", "rendered"), [
    ("\"{{ var('flag', false) }}\"", False),  # one expression keeps its Python type
    ("\"{{ var('n', 3) }}\"", 3),
    ("\"{{ target.name }}\"", "dev"),
    ("\"{{ '12' }}\"", "12"),  # text stays text...
    ("\"{{ '12' | as_number }}\"", 12),  # ...unless a filter asks
    ("\"{{ 'True' | as_bool }}\"", True),
    ("\"{{ var('a', 1) }}{{ var('b', 2) }}\"", 12),  # joined parts are read as a literal, as dbt reads them
    ("\"schema_{{ target.name }}\"", "schema_dev"),
    ("[\"{{ target.name }}\", plain]", ["dev", "plain"]),
])
def test_values_render_natively(value: str, rendered: Any) -> None:
    assert _render(f"key: {value}\n")["key"] == rendered


def test_late_keys_are_kept_as_written() -> None:
    tree = _render("description: \"{{ doc('x') }}\"\nconfig:\n  post-hook: \"{{ this }}\"\n  schema: \"{{ target.schema }}\"\n")
    assert tree["description"] == "{{ doc('x') }}"
    assert tree["config"] == {"post-hook": "{{ this }}", "schema": "main"}


def test_a_missing_var_names_the_file_and_line() -> None:
    with pytest.raises(ProjectError) as caught:
        _render("a: 1\nb: \"{{ var('nowhere') }}\"\n")
    assert "required var 'nowhere' is not set" in str(caught.value)
    assert (caught.value.location.file, caught.value.location.line) == ("x.yml", 2)


def test_the_project_file_sees_only_cli_vars(tmp_path: Path) -> None:
    """As in dbt: dbt_project.yml's own `vars:` are not visible while it renders."""
    root = write_project(tmp_path, {
        "dbt_project.yml": "name: p\nvars: {s: fromvars}\nmodels:\n  +schema: \"{{ var('s', 'default') }}\"\n",
        "models/m.sql": "select 1 as x",
    })
    assert Project.load(root).compile().models["m"].relation.schema == "main_default"
    assert Project.load(root, vars={"s": "cli"}).compile().models["m"].relation.schema == "main_cli"


def test_env_vars_in_yaml_key_the_compile_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path, {
        "featureduck_project.yml": "name: p\nmodels:\n  +alias: \"{{ env_var('FD_ALIAS', 'plain') }}\"\n",
        "models/m.sql": "select 1 as x",
    })
    assert Project.load(root).compile().models["m"].relation.identifier == "plain"
    monkeypatch.setenv("FD_ALIAS", "from_env")
    compiled = Project.load(root).compile()
    assert not compiled.from_cache and compiled.models["m"].relation.identifier == "from_env"
