"""profiles.yml: which database a target is, with env_var() rendered in place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featureduck.engines.traits import EngineTraits, PathSetting, engine_traits
from featureduck.errors import ProfileError, SourceLocation
from featureduck.utils.secrets import MASK, masked_value, remember_secret
from featureduck.utils.suggest import did_you_mean
from featureduck.utils.yaml_loader import LineDict, LineList, load_yaml_file

PROFILES_FILE = "profiles.yml"
# Keys whose values are never printed or written to artifacts.
SECRET_KEYS = frozenset({"password", "dsn", "connection", "token", "secret", "pass", "uri"})
DEFAULT_TARGET = "dev"


@dataclass(frozen=True)
class TargetConfig:
    """One output of a profile: an engine type and its settings."""

    name: str
    type: str
    settings: dict[str, Any] = field(default_factory=dict)
    profile_name: str = "default"
    profiles_file: Path | None = None

    @property
    def threads(self) -> int:
        return int(self.settings.get("threads", 4))

    @property
    def dialect(self) -> str:
        return self.traits.dialect

    @property
    def schema(self) -> str:
        return str(self.settings.get("schema") or self.traits.default_schema)

    @property
    def traits(self) -> EngineTraits:
        """What the engine of this target is (engines.traits); unknown types fail when loaded."""
        return engine_traits(self.type)

    @property
    def database(self) -> str:
        """dbt's `target.database`: the database setting, else a file database's name
        (DuckDB names a file's catalog by its stem), else `memory`."""
        named = self.settings.get("database") or self.settings.get("dbname")
        if named:
            return str(named)
        path = str(self.settings.get("path") or "")
        return Path(path).stem if path and path != ":memory:" else "memory"

    def jinja_target(self) -> TargetInfo:
        """What `{{ target }}` shows Jinja: the public settings, then dbt's own fields."""
        return TargetInfo(self.name, self.type, self.schema, self.threads, self.profile_name, self.database, self.public_settings())

    def public_settings(self) -> dict[str, Any]:
        """Settings safe to print or store: secrets masked, in nested settings too
        (an `online_store:` block's dsn)."""
        return _public(self.settings)


class TargetInfo:
    """`{{ target }}`: name, type, schema, database, threads and non-secret settings."""

    def __init__(self, name: str, type_: str, schema: str, threads: int, profile_name: str, database: str,
                 settings: dict[str, Any]) -> None:
        self.__dict__.update(settings)
        self.name = name
        self.type = type_
        self.schema = schema
        self.threads = threads
        self.profile_name = profile_name
        self.database = database

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]


def _public(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: MASK if k in SECRET_KEYS else _public(v) if isinstance(v, dict) else masked_value(v) for k, v in settings.items()}


def _remember_secrets(settings: dict[str, Any]) -> None:
    """Every secret of a target, so no message ever shows it (utils.secrets)."""
    for key, value in settings.items():
        if isinstance(value, dict):
            _remember_secrets(value)
        elif isinstance(value, str):
            remember_secret(value, bare=key in SECRET_KEYS)


class MissingEnvVar(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def env_var(name: str, default: Any = None) -> Any:
    """dbt's env_var(): the variable's value, its default, else an error."""
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise MissingEnvVar(name)


def default_target(project_root: Path) -> TargetConfig:
    """The target of a project with no profiles.yml: DuckDB at target/dev.duckdb."""
    return TargetConfig(DEFAULT_TARGET, "duckdb", {"path": str(project_root / "target" / "dev.duckdb")})


def find_profiles_file(project_root: Path, profiles_dir: Path | None, dbt_project: bool) -> Path | None:
    """Search order: --profiles-dir, the project, $FDUCK_PROFILES_DIR, ~/.featureduck (~/.dbt for dbt projects)."""
    if profiles_dir is not None:
        candidate = profiles_dir / PROFILES_FILE
        if not candidate.is_file():
            raise ProfileError(f"no {PROFILES_FILE} in --profiles-dir {profiles_dir}")
        return candidate
    dirs = [project_root]
    if os.environ.get("FDUCK_PROFILES_DIR"):
        dirs.append(Path(os.environ["FDUCK_PROFILES_DIR"]))
    dirs.append(Path.home() / ".featureduck")
    if dbt_project:
        dirs.append(Path.home() / ".dbt")
    for folder in dirs:
        candidate = folder / PROFILES_FILE
        if candidate.is_file():
            return candidate
    return None


def load_target(
    project_root: Path,
    profile_name: str | None,
    target_name: str | None,
    profiles_dir: Path | None = None,
    dbt_project: bool = False,
) -> TargetConfig:
    """Resolve the target to build on from the profiles file find_profiles_file finds;
    with none, the default DuckDB target (target/dev.duckdb)."""
    path = find_profiles_file(project_root, profiles_dir, dbt_project)
    if path is None:
        looked = "looked in the project, $FDUCK_PROFILES_DIR, ~/.featureduck" + (" and ~/.dbt" if dbt_project else "")
        if profile_name is not None:  # the project asks for a profile: building elsewhere would be a silent wrong answer
            raise ProfileError(
                f"profile '{profile_name}' (named by the project file) was not found: there is no {PROFILES_FILE}",
                hint=f"{looked}; write one, or remove `profile:` to build on the built-in DuckDB target (target/dev.duckdb)",
            )
        if target_name not in (None, DEFAULT_TARGET):
            raise ProfileError(f"target '{target_name}' requested but no {PROFILES_FILE} was found", hint=looked)
        return default_target(project_root)
    shown = str(path)
    profiles = load_yaml_file(path, shown)
    if not isinstance(profiles, LineDict) or not profiles:
        raise ProfileError("profiles.yml must map profile names to profiles", SourceLocation(shown, 1))
    names = [n for n in profiles if n != "config"]
    name = _choose_profile(profiles, names, profile_name, shown)
    profile = profiles[name]
    location = SourceLocation(shown, profiles.line_of(name))
    if not isinstance(profile, LineDict) or not isinstance(profile.get("outputs"), dict):
        raise ProfileError(f"profile '{name}' has no 'outputs' mapping", location)
    outputs: LineDict = profile["outputs"]
    chosen = target_name or render_env_vars(profile.get("target", DEFAULT_TARGET), shown, profile.line_of("target"))
    if chosen not in outputs:
        raise ProfileError(
            f"profile '{name}' has no target '{chosen}'",
            location,
            did_you_mean(str(chosen), outputs) or f"targets: {', '.join(outputs)}",
        )
    output = outputs[chosen]
    if not isinstance(output, LineDict) or "type" not in output:
        raise ProfileError(f"target '{chosen}' must be a mapping with a 'type'", SourceLocation(shown, outputs.line_of(chosen)))
    settings = {k: render_env_vars(v, shown, output.line_of(k)) for k, v in output.items()}
    engine_type = str(settings.pop("type"))
    try:
        traits = engine_traits(engine_type)
    except ProfileError as err:
        raise ProfileError(f"target '{chosen}' has unknown type '{engine_type}'", SourceLocation(shown, output.line_of("type")),
                           err.hint) from None
    for setting in traits.path_settings:
        settings[setting.name] = _setting_path(project_root, setting, str(settings.get(setting.name, setting.default)))
    _remember_secrets(settings)
    return TargetConfig(str(chosen), engine_type, settings, name, path)


def _setting_path(project_root: Path, setting: PathSetting, value: str) -> str:
    if setting.kind == "catalog":
        return ducklake_catalog(project_root, value)
    return _database_path(project_root, value) + (os.sep if setting.kind == "folder" else "")


def _choose_profile(profiles: LineDict, names: list[str], wanted: str | None, shown: str) -> str:
    if wanted is not None:
        if wanted in profiles:
            return wanted
        raise ProfileError(
            f"profile '{wanted}' (named by the project file) is not in profiles.yml",
            SourceLocation(shown, 1),
            did_you_mean(wanted, names),
        )
    if "default" in profiles:
        return "default"
    if len(names) == 1:
        return names[0]
    raise ProfileError(
        "profiles.yml has several profiles and the project names none",
        SourceLocation(shown, 1),
        "set `profile:` in the project file, or name one profile 'default'",
    )


def render_env_vars(value: Any, file: str, line: int) -> Any:
    """Render env_var() in strings, recursively; line numbers make errors precise."""
    if isinstance(value, str) and "{{" in value:
        import jinja2  # only profiles with templates pay for it

        environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
        environment.globals["env_var"] = env_var
        try:
            rendered = environment.from_string(value).render()
        except MissingEnvVar as missing:
            raise ProfileError(
                f"env var '{missing.name}' is not set", SourceLocation(file, line),
                f"export {missing.name}=... or give env_var() a default",
            ) from None
        except jinja2.TemplateError as err:
            raise ProfileError(f"bad template: {err}", SourceLocation(file, line)) from None
        return rendered
    if isinstance(value, LineDict):
        return {k: render_env_vars(v, file, value.line_of(k)) for k, v in value.items()}
    if isinstance(value, LineList):
        return [render_env_vars(v, file, value.item_lines[i]) for i, v in enumerate(value)]
    return value


def _database_path(project_root: Path, path: str) -> str:
    if path == ":memory:" or path.startswith(("md:", "motherduck:")):
        return path
    candidate = Path(os.path.expanduser(path))
    return str(candidate if candidate.is_absolute() else project_root / candidate)


def ducklake_catalog(project_root: Path, catalog: str) -> str:
    """A DuckLake catalog: a DuckDB or SQLite file (relative to the project), or a
    `postgres:` / `mysql:` connection, as ATTACH 'ducklake:<catalog>' takes it."""
    catalog = catalog.removeprefix("ducklake:")
    if catalog.startswith(("postgres:", "mysql:", "sqlite:")):
        return catalog
    return _database_path(project_root, catalog)
