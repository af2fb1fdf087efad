"""featureduck_project.yml (or dbt_project.yml): names, paths, vars, folder configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic

from featureduck.config.yaml_jinja import YamlRenderer
from featureduck.errors import ProjectError, SourceLocation
from featureduck.utils.validation import validate_shape
from featureduck.utils.yaml_loader import LineDict, load_yaml_file

PROJECT_FILES = ("featureduck_project.yml", "dbt_project.yml")

# Config keys a model may set (dbt's names). In folder configs a key without
# `+` is a config when it is one of these, else a sub-folder, as in dbt.
MODEL_CONFIG_KEYS = frozenset(
    {
        "materialized", "tags", "schema", "alias", "database", "enabled", "unique_key",
        "incremental_strategy", "on_schema_change", "full_refresh", "meta", "docs",
        "persist_docs", "pre-hook", "post-hook", "pre_hook", "post_hook", "contract",
        "grants", "indexes", "sql_header", "group", "access", "cluster_by", "partition_by",
        "file_format", "location_root", "packages", "refresh", "description",
        "column_types", "delimiter", "quote_columns",  # seeds
        "strategy", "updated_at", "check_cols", "hard_deletes", "invalidate_hard_deletes",  # snapshots
        "dbt_valid_to_current", "snapshot_meta_column_names", "target_schema", "target_database",
    }
)
# Model configs dbt applies that featureduck does not: a model setting one fails to
# compile, naming it, rather than building without it.
UNSUPPORTED_MODEL_CONFIGS = {
    "grants": "grants", "indexes": "indexes",
    "sql_header": "SQL headers", "persist_docs": "persisted docs",
}
# Configs that accumulate down the folder tree rather than being replaced.
_ADDITIVE_KEYS = frozenset({"tags"})
_MERGED_KEYS = frozenset({"meta"})


class DispatchEntry(pydantic.BaseModel):
    """`dispatch:` in the project file: where adapter.dispatch looks for a namespace's macros."""

    model_config = pydantic.ConfigDict(extra="forbid")

    macro_namespace: str
    search_order: list[str]


class ProjectShape(pydantic.BaseModel):
    """The keys a project file may hold; dbt-only keys are accepted and ignored."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str
    version: str | int | float | None = None
    profile: str | None = None
    dialect: str = "duckdb"
    config_version: int | None = pydantic.Field(None, alias="config-version")
    model_paths: list[str] = pydantic.Field(["models"], alias="model-paths")
    macro_paths: list[str] = pydantic.Field(["macros"], alias="macro-paths")
    source_paths: list[str] = pydantic.Field(["sources"], alias="source-paths")
    feature_paths: list[str] = pydantic.Field(["features"], alias="feature-paths")
    seed_paths: list[str] = pydantic.Field(["seeds"], alias="seed-paths")
    test_paths: list[str] = pydantic.Field(["tests"], alias="test-paths")
    function_paths: list[str] = pydantic.Field(["functions"], alias="function-paths")
    target_path: str = pydantic.Field("target", alias="target-path")
    vars: dict[str, Any] = {}
    models: dict[str, Any] = {}
    seeds: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    tests: dict[str, Any] = {}
    data_tests: dict[str, Any] = {}
    serve: dict[str, Any] = {}
    # dbt keys with no featureduck meaning yet; accepted so dbt projects load.
    require_dbt_version: Any = pydantic.Field(None, alias="require-dbt-version")
    clean_targets: list[str] | None = pydantic.Field(None, alias="clean-targets")
    analysis_paths: list[str] | None = pydantic.Field(None, alias="analysis-paths")
    snapshot_paths: list[str] = pydantic.Field(["snapshots"], alias="snapshot-paths")
    docs_paths: list[str] = pydantic.Field([], alias="docs-paths")
    asset_paths: list[str] | None = pydantic.Field(None, alias="asset-paths")
    packages_install_path: str | None = pydantic.Field(None, alias="packages-install-path")
    snapshots: dict[str, Any] = {}
    quoting: dict[str, Any] | None = None
    query_comment: Any = pydantic.Field(None, alias="query-comment")
    on_run_start: Any = pydantic.Field(None, alias="on-run-start")
    on_run_end: Any = pydantic.Field(None, alias="on-run-end")
    flags: dict[str, Any] | None = None
    dispatch: list[DispatchEntry] = []
    log_path: str | None = pydantic.Field(None, alias="log-path")
    dbt_cloud: dict[str, Any] | None = pydantic.Field(None, alias="dbt-cloud")  # dbt Cloud's settings: nothing to build
    semantic_models: dict[str, Any] | None = pydantic.Field(None, alias="semantic-models")
    metrics: dict[str, Any] | None = None
    saved_queries: dict[str, Any] | None = pydantic.Field(None, alias="saved-queries")
    exposures: dict[str, Any] | None = None


class ProjectConfig:
    """A loaded project file plus the folder it lives in."""

    def __init__(self, root: Path, file_name: str, shape: ProjectShape, raw: LineDict) -> None:
        self.root = root
        self.file_name = file_name
        self.shape = shape
        self.raw = raw

    @property
    def name(self) -> str:
        return self.shape.name

    def rendered(self, renderer: YamlRenderer) -> ProjectConfig:
        """The project file with its Jinja rendered for one target and set of vars, as
        dbt reads it: configs are checked after rendering, so a rendered `+enabled`
        must be a boolean like a written one."""
        if not _has_jinja(self.raw):
            return self
        raw = renderer.render_tree(self.raw, self.file_name)
        return _checked(self.root, self.file_name, raw)

    @property
    def dialect(self) -> str:
        return self.shape.dialect

    @property
    def is_dbt(self) -> bool:
        return self.file_name == "dbt_project.yml"

    @property
    def target_dir(self) -> Path:
        return self.root / self.shape.target_path

    def paths(self, kind: str) -> list[Path]:
        """Folders for `kind` ('model', 'macro', 'source', ...), absolute."""
        return [self.root / p for p in getattr(self.shape, f"{kind}_paths")]

    def folder_config(self, folder_parts: tuple[str, ...]) -> dict[str, Any]:
        """The merged `models:` config for a model in `folder_parts` (relative folders)."""
        return resolve_folder_config(self.shape.models, self.name, folder_parts)

    def folder_config_lines(self, folder_parts: tuple[str, ...]) -> dict[str, int]:
        """Where in the project file each key of `folder_config(folder_parts)` was set
        (the deepest level that sets it), so an error in one names that line."""
        lines: dict[str, int] = {}
        top: Any = self.raw.get("models")
        levels: list[Any] = [top]
        if isinstance(top, dict) and isinstance(top.get(self.name), dict):
            levels.append(top[self.name])
        node = levels[-1]
        for part in folder_parts:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                break
            levels.append(child)
            node = child
        for level in levels:
            if isinstance(level, LineDict):
                for key in level:
                    plain = key[1:] if isinstance(key, str) and key.startswith("+") else key
                    if isinstance(key, str) and (key.startswith("+") or plain in MODEL_CONFIG_KEYS):
                        lines[plain] = level.line_of(key)
        return lines

    def snapshot_config(self, folder_parts: tuple[str, ...]) -> dict[str, Any]:
        """The merged `snapshots:` config for a snapshot in `folder_parts` (relative to its snapshot path)."""
        return resolve_folder_config(self.shape.snapshots, self.name, folder_parts)

    def package_config(self, package: ProjectConfig, section: str, folder_parts: tuple[str, ...]) -> dict[str, Any]:
        """A package node's config (`section`: models, seeds or snapshots): the package's own
        project file, then this project's, its top level and its `<package>:` tree, which wins, as in dbt."""
        merged = resolve_folder_config(getattr(package.shape, section), package.name, folder_parts)
        for key, value in resolve_folder_config(getattr(self.shape, section), package.name, folder_parts).items():
            merge_config_value(merged, key, value)
        return merged

    def seed_config(self, folder_parts: tuple[str, ...], name: str) -> dict[str, Any]:
        """The merged `seeds:` config for seed `name` in `folder_parts` (a seed's own key last)."""
        return resolve_folder_config(self.shape.seeds, self.name, (*folder_parts, name))


def resolve_folder_config(
    tree: dict[str, Any], project_name: str, folder_parts: tuple[str, ...]
) -> dict[str, Any]:
    """Walk a dbt-style folder config tree down `folder_parts`, merging as dbt does.

    >>> tree = {"+materialized": "view", "shop": {"marts": {"+materialized": "table"}}}
    >>> resolve_folder_config(tree, "shop", ("marts",))["materialized"]
    'table'
    """
    merged: dict[str, Any] = {}
    _apply_level(merged, tree)
    levels = [tree]
    if isinstance(tree.get(project_name), dict):
        levels = [tree, tree[project_name]]
        _apply_level(merged, tree[project_name])
    node = levels[-1]
    for part in folder_parts:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        _apply_level(merged, child)
        node = child
    return merged


def _apply_level(merged: dict[str, Any], level: dict[str, Any]) -> None:
    for key, value in level.items():
        plain = key[1:] if key.startswith("+") else key
        if not key.startswith("+") and plain not in MODEL_CONFIG_KEYS:
            continue  # a sub-folder
        merge_config_value(merged, plain, value)


def merge_config_value(merged: dict[str, Any], key: str, value: Any) -> None:
    """Set one config key following dbt's rules (tags add up, meta merges)."""
    key = key.replace("-", "_") if key in ("pre-hook", "post-hook") else key
    if key in _ADDITIVE_KEYS:
        items = [value] if isinstance(value, str) else list(value or [])
        merged[key] = [*merged.get(key, []), *[t for t in items if t not in merged.get(key, [])]]
    elif key in _MERGED_KEYS and isinstance(value, dict):
        merged[key] = {**merged.get(key, {}), **value}
    else:
        merged[key] = value


# The type each config key must have where a folder config sets it (dbt's types).
_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "materialized": (str,), "schema": (str,), "alias": (str,), "database": (str,), "enabled": (bool,),
    "full_refresh": (bool,), "tags": (str, list), "meta": (dict,), "unique_key": (str, list),
    "incremental_strategy": (str,), "on_schema_change": (str,), "column_types": (dict,), "delimiter": (str,),
    "quote_columns": (bool,), "docs": (dict,), "contract": (dict,), "description": (str,),
}
_TYPE_NAMES = {str: "a text", bool: "true or false", list: "a list", dict: "a mapping"}


def check_folder_tree(level: LineDict, file: str, path: tuple[str, ...]) -> None:
    """A folder config tree as dbt reads it: every sub-folder a mapping (or empty),
    every config of its type; an error names the file and line, never a setting lost."""
    for key, value in level.items():
        plain = key[1:] if isinstance(key, str) and key.startswith("+") else key
        dotted = ".".join((*path, str(key)))
        location = SourceLocation(file, level.line_of(key))
        if isinstance(key, str) and (key.startswith("+") or plain in MODEL_CONFIG_KEYS):
            expected = _CONFIG_TYPES.get(plain)
            jinja = isinstance(value, str) and "{{" in value
            mistyped = not isinstance(value, expected or object) or (bool not in (expected or ()) and isinstance(value, bool))
            if expected and value is not None and not jinja and mistyped:
                wanted = " or ".join(_TYPE_NAMES[t] for t in expected)
                raise ProjectError(f"'{dotted}' must be {wanted}, not {value!r}", location)
        elif isinstance(value, LineDict):
            check_folder_tree(value, file, (*path, str(key)))
        elif value is not None:
            raise ProjectError(
                f"'{dotted}' is neither a config nor a folder: a folder's configs are a mapping, not {value!r}", location,
                "write configs as `+key: value` lines indented under the folder",
            )


def find_project_file(root: Path) -> Path:
    for name in PROJECT_FILES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    raise ProjectError(
        f"no featureduck_project.yml or dbt_project.yml in {root}",
        hint="run `fduck init NAME` to start a project, or pass --project-dir",
    )


class PackageShape(ProjectShape):
    """A package's dbt_project.yml: only its name and paths matter, other keys are let be."""

    model_config = pydantic.ConfigDict(extra="ignore")


def load_project_config(root: Path, package: bool = False) -> ProjectConfig:
    """The project file as written (a `package`'s leniently); `ProjectConfig.rendered`
    renders its Jinja once the target is known."""
    path = find_project_file(root)
    raw = load_yaml_file(path, path.name)
    if not isinstance(raw, LineDict):
        raise ProjectError("the project file must be a mapping", SourceLocation(path.name, 1))
    return _checked(root, path.name, raw, PackageShape if package else ProjectShape)


def _checked(root: Path, file_name: str, raw: LineDict, shape_type: type[ProjectShape] = ProjectShape) -> ProjectConfig:
    shape = validate_shape(shape_type, raw, file_name)
    for section in ("models", "seeds", "snapshots"):
        if isinstance(raw.get(section), LineDict):
            check_folder_tree(raw[section], file_name, (section,))
    if shape_type is not PackageShape:  # dbt applies the project's quoting, never a package's
        _refuse_unsupported(file_name, raw)
    return ProjectConfig(root, file_name, shape, raw)


def _has_jinja(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_jinja(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_jinja(v) for v in value)
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# dbt features that change what a run does: refused by name rather than ignored,
# so a dbt project never builds differently without saying so.
_UNSUPPORTED_PROJECT_KEYS = {"quoting": "quoting configs"}


def _refuse_unsupported(file_name: str, raw: LineDict) -> None:
    for key, feature in _UNSUPPORTED_PROJECT_KEYS.items():
        if raw.get(key):
            raise ProjectError(f"dbt's `{key}` ({feature}) is not supported by featureduck", SourceLocation(file_name, raw.line_of(key)),
                               f"remove `{key}`: featureduck would not apply it")
