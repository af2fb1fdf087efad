from __future__ import annotations

from pathlib import Path

import pytest

from featureduck.config.profiles import load_target
from featureduck.errors import ProfileError
from tests.conftest import write_project

PROFILES = """
default:
  target: dev
  outputs:
    dev: {type: duckdb, path: target/dev.duckdb, threads: 2}
    pg:
      type: postgres
      dsn: "{{ env_var('TEST_PG_DSN') }}"
      schema: analytics
"""


def test_no_profiles_means_duckdb_in_target(tmp_path: Path) -> None:
    target = load_target(tmp_path, None, None)
    assert (target.name, target.type) == ("dev", "duckdb")
    assert target.settings["path"] == str(tmp_path / "target" / "dev.duckdb")
    assert target.schema == "main"


def test_project_profiles_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"profiles.yml": PROFILES})
    monkeypatch.setenv("TEST_PG_DSN", "postgresql://u:secret@localhost/db")
    target = load_target(tmp_path, None, "pg")
    assert target.type == "postgres" and target.dialect == "postgres" and target.schema == "analytics"
    assert target.settings["dsn"] == "postgresql://u:secret@localhost/db"
    assert "secret" not in str(target.public_settings())


def test_missing_env_var_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"profiles.yml": PROFILES})
    monkeypatch.delenv("TEST_PG_DSN", raising=False)
    with pytest.raises(ProfileError) as err:
        load_target(tmp_path, None, "pg")
    assert "profiles.yml:7: env var 'TEST_PG_DSN' is not set" in str(err.value)


def test_lookup_order_env_dir_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    profile = "default:\n  target: {0}\n  outputs:\n    {0}: {{type: duckdb, path: {0}.duckdb}}\n"
    env_dir = write_project(tmp_path / "envdir", {"profiles.yml": profile.format("a")})
    home = write_project(Path.home() / ".featureduck", {"profiles.yml": profile.format("b")})
    assert load_target(project, None, None).name == "b"
    monkeypatch.setenv("FDUCK_PROFILES_DIR", str(env_dir))
    assert load_target(project, None, None).name == "a"
    assert home.exists()


def test_unknown_target_and_profile_suggest(tmp_path: Path) -> None:
    write_project(tmp_path, {"profiles.yml": PROFILES})
    with pytest.raises(ProfileError, match="no target 'dve'") as err:
        load_target(tmp_path, None, "dve")
    assert "did you mean 'dev'" in str(err.value)
    with pytest.raises(ProfileError, match="profile 'defualt'"):
        load_target(tmp_path, "defualt", None)


def test_unknown_engine_type(tmp_path: Path) -> None:
    write_project(tmp_path, {"profiles.yml": "default:\n  target: x\n  outputs:\n    x: {type: duckdbb}\n"})
    with pytest.raises(ProfileError, match="unknown type 'duckdbb'"):
        load_target(tmp_path, None, None)
