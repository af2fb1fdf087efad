from __future__ import annotations

from pathlib import Path

import pytest

from featureduck.config.project_config import load_project_config, resolve_folder_config
from featureduck.errors import ProjectError, YamlError
from tests.conftest import write_project


def test_plus_and_plain_keys_and_dbt_project_nesting() -> None:
    tree = {
        "+materialized": "view",
        "+tags": ["a"],
        "shop": {"marts": {"materialized": "table", "tags": "b", "finance": {"+schema": "fin"}}},
    }
    config = resolve_folder_config(tree, "shop", ("marts", "finance"))
    assert config == {"materialized": "table", "tags": ["a", "b"], "schema": "fin"}
    assert resolve_folder_config(tree, "shop", ("staging",)) == {"materialized": "view", "tags": ["a"]}


def test_featureduck_style_folders_without_project_level() -> None:
    tree = {"+materialized": "view", "marts": {"+materialized": "table"}}
    assert resolve_folder_config(tree, "shop", ("marts",))["materialized"] == "table"


def test_paths_and_vars(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"featureduck_project.yml": "name: p\nmodel-paths: [sql]\nvars: {x: 1}\n"})
    config = load_project_config(root)
    assert config.paths("model") == [root / "sql"]
    assert config.shape.vars == {"x": 1}
    assert config.dialect == "duckdb"


def test_dbt_project_file_is_read(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"dbt_project.yml": "name: jaffle\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle\n"})
    config = load_project_config(root)
    assert config.is_dbt and config.shape.profile == "jaffle"


def test_unknown_project_key_is_an_error_with_line(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"featureduck_project.yml": "name: p\nmodel_paths: [x]\n"})
    with pytest.raises(YamlError) as err:
        load_project_config(root)
    assert str(err.value).startswith("featureduck_project.yml:2: unknown key 'model_paths'")
    assert "model-paths" in str(err.value)


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no featureduck_project.yml"):
        load_project_config(tmp_path)
