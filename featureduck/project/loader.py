"""Find a project's files and turn them into node definitions (no database)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featureduck.config.project_config import ProjectConfig
from featureduck.config.yaml_jinja import LATE_KEYS, YamlRenderer
from featureduck.errors import ProjectError, SourceLocation
from featureduck.project.functions import DeclaredFunction, declared_functions
from featureduck.project.nodes import Entity, FeatureView, Model, Seed, SourceTable, UnitTest
from featureduck.project.packages import Package, load_packages
from featureduck.project.schema_files import KEPT_AS_WRITTEN, ModelPatch, SchemaFile, SnapshotShape, UnitTestShape, parse_schema_file
from featureduck.project.snapshots import snapshot_blocks, yaml_snapshot
from featureduck.project.unit_tests import unit_test
from featureduck.utils.hashing import sha256_text
from featureduck.utils.suggest import did_you_mean
from featureduck.utils.text_files import read_project_text
from featureduck.utils.yaml_loader import load_yaml_text

YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class MacroFile:
    path: str
    text: str


@dataclass
class SingularTest:
    """A query in the test paths whose rows are failures."""

    name: str
    path: str
    text: str


@dataclass
class ProjectDefinition:
    """Everything a project declares, plus a digest of every file read."""

    config: ProjectConfig
    models: dict[str, Model] = field(default_factory=dict)
    sources: dict[tuple[str, str], SourceTable] = field(default_factory=dict)
    macro_files: list[MacroFile] = field(default_factory=list)
    singular_tests: dict[str, SingularTest] = field(default_factory=dict)
    seeds: dict[str, Seed] = field(default_factory=dict)
    docs: dict[str, str] = field(default_factory=dict)  # dbt's {% docs name %} blocks
    entities: dict[str, Entity] = field(default_factory=dict)
    feature_views: dict[str, FeatureView] = field(default_factory=dict)  # by name@version
    functions: dict[str, DeclaredFunction] = field(default_factory=dict)  # Python UDFs, by SQL name
    unit_tests: dict[str, UnitTest] = field(default_factory=dict)  # by unique id
    packages: dict[str, Package] = field(default_factory=dict)  # installed dbt packages, by name
    kept: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # exposures, metrics, ...: by kind, then name
    warnings: list[tuple[str, SourceLocation]] = field(default_factory=list)  # what dbt warns of, with where
    file_hashes: dict[str, str] = field(default_factory=dict)
    yaml_renderer: YamlRenderer | None = None  # renders YAML values; the env vars it read key the compile cache

    def ref_ids(self) -> dict[str, str]:
        """The node id each name ref() takes stands for: a model, a snapshot or a seed."""
        return {name: seed.unique_id for name, seed in self.seeds.items()} | {n: m.unique_id for n, m in self.models.items()}


def load_definition(config: ProjectConfig, yaml_renderer: YamlRenderer | None = None) -> ProjectDefinition:
    """Read models, macros and YAML declarations from the project's folders; Jinja in
    the YAML files' values is rendered by `yaml_renderer` (for the target), as dbt does."""
    definition = ProjectDefinition(config)
    definition.yaml_renderer = yaml_renderer
    folders = _Folders()
    root = config.root
    project_file = root / config.file_name
    definition.file_hashes[config.file_name] = sha256_text(read_project_text(project_file, config.file_name))
    definition.packages = load_packages(config, definition.file_hashes)
    for folder in config.paths("model"):
        for path in folders.walk(folder, (".sql",)):
            _add_model(definition, path, folder)
    for folder in config.paths("macro"):
        for path in folders.walk(folder, (".sql",)):
            rel = _relative(path, root)
            text = read_project_text(path, rel)
            definition.file_hashes[rel] = sha256_text(text)
            definition.macro_files.append(MacroFile(rel, text))
    for folder in config.paths("snapshot"):
        for path in folders.walk(folder, (".sql",)):
            _add_snapshots(definition, path, folder)
    for folder in config.paths("seed"):
        for path in folders.walk(folder, (".csv", ".tsv")):
            _add_seed(definition, path, folder)
    for folder in config.paths("test"):
        for path in folders.walk(folder, (".sql",)):
            _add_test_file(definition, path, folder)
    for folder in config.paths("function"):
        for path in folders.walk(folder, (".py",)):
            rel = _relative(path, root)
            text = read_project_text(path, rel)
            definition.file_hashes[rel] = sha256_text(text)
            for declared in declared_functions(rel, text):
                if declared.name in definition.functions:
                    first = definition.functions[declared.name]
                    raise ProjectError(f"function '{declared.name}' is also declared at {first.path}:{first.line}",
                                       SourceLocation(rel, declared.line))
                definition.functions[declared.name] = declared
    yaml_folders = [*config.paths("model"), *config.paths("snapshot"), *config.paths("source"), *config.paths("feature"),
                    *config.paths("seed")]
    seen: set[Path] = set()
    unit_shapes: list[tuple[UnitTestShape, SourceLocation]] = []  # read once every model and source is known
    for folder in yaml_folders:
        for path in folders.walk(folder, YAML_SUFFIXES):
            if path not in seen:
                seen.add(path)
                unit_shapes += _add_schema_file(definition, path)
    for package in definition.packages.values():
        _add_package_nodes(definition, package, folders)
    for shape, location in unit_shapes:
        test = unit_test(shape, location, config.name, root, config.paths("test"), definition.models, definition.seeds,
                         definition.sources)
        if test.unique_id in definition.unit_tests:
            raise ProjectError(f"model '{test.model}' has two unit tests named '{test.name}' "
                               f"(also at {definition.unit_tests[test.unique_id].location})", location)
        definition.unit_tests[test.unique_id] = test
    for folder in [*config.paths("model"), *config.paths("docs")]:
        for path in folders.walk(folder, (".md",)):
            _add_docs(definition, path)
    _resolve_docs(definition)
    _check_feature_views(definition)
    return definition


_DOCS_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.DOTALL)


def _add_docs(definition: ProjectDefinition, path: Path) -> None:
    rel = _relative(path, definition.config.root)
    text = read_project_text(path, rel)
    definition.file_hashes[rel] = sha256_text(text)
    for match in _DOCS_BLOCK.finditer(text):
        definition.docs[match.group(1)] = match.group(2).strip()


def _resolve_docs(definition: ProjectDefinition) -> None:
    """`{{ doc('name') }}` in descriptions becomes the docs block's text, as dbt renders it."""

    def render(text: str, where: str) -> str:
        if "doc(" not in text:
            return text

        def block(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in definition.docs:
                raise ProjectError(f"unknown doc '{name}'", SourceLocation(where), did_you_mean(name, definition.docs)
                                   or "define it in a .md file: {% docs " + name + " %}...{% enddocs %}")
            return definition.docs[name]

        return _DOC_CALL.sub(block, text)

    for model in definition.models.values():
        where = model.patch_file or model.path
        model.description = render(model.description, where)
        for column in model.columns.values():
            column.description = render(column.description, where)
    for table in definition.sources.values():
        table.description = render(table.description, table.location.file)
        for column in table.columns.values():
            column.description = render(column.description, table.location.file)
    for seed in definition.seeds.values():
        seed.description = render(seed.description, seed.patch_file or seed.path)


_DOC_CALL = re.compile(r"{{\s*doc\(\s*['\"](\w+)['\"]\s*\)\s*}}")


def _check_feature_views(definition: ProjectDefinition) -> None:
    """Every feature view names a declared entity and an existing model, and is kept
    online in a table of its own."""
    tables: dict[str, FeatureView] = {}
    for view in definition.feature_views.values():
        other = tables.setdefault(view.online_table, view)
        if other is not view:
            raise ProjectError(
                f"feature view '{view.name}' version {view.version} and '{other.name}' version {other.version} (in "
                f"{other.location}) would be kept in one online table, {view.online_table}", view.location,
                "rename one of them",
            )
        if view.entity not in definition.entities:
            raise ProjectError(
                f"feature view '{view.name}' names unknown entity '{view.entity}'", view.location,
                did_you_mean(view.entity, definition.entities) or "declare it under `entities:`",
            )
        if view.source is not None:
            table = definition.sources.get(view.source)
            if table is None or table.stream is None:
                names = sorted(f"{s}.{t}" for (s, t), found in definition.sources.items() if found.stream)
                raise ProjectError(
                    f"feature view '{view.name}' names " + (f"source '{'.'.join(view.source)}', which is not a stream source"
                                                            if table else f"unknown source '{'.'.join(view.source)}'"),
                    view.location, did_you_mean(".".join(view.source), names) or "a view reads a model, or a stream source's table",
                )
        elif view.model not in definition.models:
            raise ProjectError(
                f"feature view '{view.name}' names unknown model '{view.model}'", view.location,
                did_you_mean(str(view.model), definition.models),
            )
        if view.stream and view.source is not None and (stream := definition.sources[view.source].stream) and stream.mirrors:
            raise ProjectError(
                f"feature view '{view.name}' is `stream: true` over a mirror of a table's changes, which deletes rows: "
                "it cannot be kept online as changes arrive yet", view.location,
                "drop `stream: true` and `fduck materialize` it, or stream a source of format json",
            )
        if view.stream and not view.online:
            raise ProjectError(f"feature view '{view.name}' is `stream: true` but not online", view.location, "mark it `online: true`")


class _Folders:
    """Each project folder listed once per load (the models folder is read for SQL,
    YAML and docs) with os.scandir, which learns file kinds without a stat each."""

    def __init__(self) -> None:
        self._files: dict[Path, list[Path]] = {}

    def walk(self, folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
        """The files under `folder` with one of `suffixes`, sorted; symlinked folders are not entered."""
        if folder not in self._files:
            self._files[folder] = self._list(folder) if folder.is_dir() else []
        return [path for path in self._files[folder] if path.suffix in suffixes]

    @staticmethod
    def _list(folder: Path) -> list[Path]:
        found: list[Path] = []
        pending = [str(folder)]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file():
                        found.append(Path(entry.path))
        return sorted(found)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _add_model(definition: ProjectDefinition, path: Path, model_root: Path) -> None:
    config = definition.config
    rel = _relative(path, config.root)
    text = read_project_text(path, rel)
    checksum = sha256_text(text)
    definition.file_hashes[rel] = checksum
    name = path.stem
    if name in definition.models:
        other = definition.models[name].path
        raise ProjectError(
            f"two models are named '{name}': {other} and {rel}", SourceLocation(rel, 1), "model names must be unique; rename one file"
        )
    folder_parts = path.parent.relative_to(model_root).parts
    definition.models[name] = Model(
        name=name,
        project=config.name,
        path=rel,
        raw_sql=text,
        checksum=checksum,
        folder_config=config.folder_config(folder_parts),
        folder_lines=config.folder_config_lines(folder_parts),
    )


def _read(definition: ProjectDefinition, path: Path) -> tuple[str, str]:
    """A project file's path as shown and its text; its digest recorded."""
    rel = _relative(path, definition.config.root)
    text = read_project_text(path, rel)
    definition.file_hashes[rel] = sha256_text(text)
    return rel, text


def _add_snapshots(definition: ProjectDefinition, path: Path, snapshot_root: Path) -> None:
    config = definition.config
    rel, text = _read(definition, path)
    folder_config = config.snapshot_config(path.parent.relative_to(snapshot_root).parts)
    for snapshot in snapshot_blocks(rel, text, config.name, folder_config):
        _add_node(definition, snapshot)


def _add_node(definition: ProjectDefinition, model: Model) -> None:
    """A model or snapshot; ref() names one of them, so names are unique across both."""
    if model.name in definition.models:
        other = definition.models[model.name]
        raise ProjectError(f"two {'models' if other.resource_type == model.resource_type else 'nodes'} are named "
                           f"'{model.name}': {other.path} ({other.resource_type}) and {model.path} ({model.resource_type})",
                           SourceLocation(model.path, 1), "ref() names one relation: rename one")
    definition.models[model.name] = model


def _snapshot_folder_config(config: ProjectConfig, file: str) -> dict[str, Any]:
    """The `snapshots:` folder config for a YAML file declaring snapshots, by its folder
    under a snapshot path (a file elsewhere gets the project-level config)."""
    folder = (config.root / file).parent
    for root in config.paths("snapshot"):
        if folder == root or root in folder.parents:
            return config.snapshot_config(folder.relative_to(root).parts)
    return config.snapshot_config(())


def _add_seed(definition: ProjectDefinition, path: Path, seed_root: Path) -> None:
    rel = _relative(path, definition.config.root)
    name = path.stem
    if name in definition.models or name in definition.seeds:
        other = definition.models[name].path if name in definition.models else definition.seeds[name].path
        raise ProjectError(f"a seed and a model (or two seeds) are named '{name}': {other} and {rel}", SourceLocation(rel, 1),
                           "ref() names one relation: rename one file")
    folder_config = definition.config.seed_config(path.parent.relative_to(seed_root).parts, name)
    definition.seeds[name] = Seed(name, definition.config.name, rel, folder_config)


def _add_package_nodes(definition: ProjectDefinition, package: Package, folders: _Folders) -> None:
    """A package's models, snapshots and seeds, as nodes of the package; its YAML and docs.
    Names are unique across the project and its packages (a clash names both files)."""
    root, own = definition.config, package.config
    for folder in own.paths("model"):
        for path in folders.walk(folder, (".sql",)):
            rel, text = _read(definition, path)
            config = root.package_config(own, "models", path.parent.relative_to(folder).parts)
            _add_node(definition, Model(path.stem, package.name, rel, text, definition.file_hashes[rel], folder_config=config))
    for folder in own.paths("snapshot"):
        for path in folders.walk(folder, (".sql",)):
            rel, text = _read(definition, path)
            config = root.package_config(own, "snapshots", path.parent.relative_to(folder).parts)
            for snapshot in snapshot_blocks(rel, text, package.name, config):
                _add_node(definition, snapshot)
    for folder in own.paths("seed"):
        for path in folders.walk(folder, (".csv", ".tsv")):
            rel = _relative(path, root.root)
            if path.stem in definition.models or path.stem in definition.seeds:
                other = definition.models.get(path.stem) or definition.seeds[path.stem]
                raise ProjectError(f"package '{package.name}' has a seed named '{path.stem}', as {other.path} is",
                                   SourceLocation(rel, 1), "ref() names one relation: rename one")
            config = root.package_config(own, "seeds", (*path.parent.relative_to(folder).parts, path.stem))
            definition.seeds[path.stem] = Seed(path.stem, package.name, rel, config)
    seen: set[Path] = set()
    for folder in [*own.paths("model"), *own.paths("snapshot"), *own.paths("seed")]:
        for path in folders.walk(folder, YAML_SUFFIXES):
            if path not in seen:
                seen.add(path)
                if _add_schema_file(definition, path):
                    raise ProjectError(f"package '{package.name}' declares unit tests, which featureduck does not run from packages",
                                       SourceLocation(_relative(path, root.root), 1))
        for path in folders.walk(folder, (".md",)):
            _add_docs(definition, path)


def _add_test_file(definition: ProjectDefinition, path: Path, test_root: Path) -> None:
    """tests/generic/*.sql define generic tests (`{% test %}` blocks, like macros); the
    other .sql files are singular tests, as in dbt."""
    rel = _relative(path, definition.config.root)
    text = read_project_text(path, rel)
    definition.file_hashes[rel] = sha256_text(text)
    if path.relative_to(test_root).parts[0] == "fixtures":  # unit tests' fixture files, as in dbt
        return
    if path.relative_to(test_root).parts[0] == "generic":
        definition.macro_files.append(MacroFile(rel, text))
        return
    if path.stem in definition.singular_tests:
        other = definition.singular_tests[path.stem].path
        raise ProjectError(f"two tests are named '{path.stem}': {other} and {rel}", SourceLocation(rel, 1), "rename one file")
    definition.singular_tests[path.stem] = SingularTest(path.stem, rel, text)


def _add_schema_file(definition: ProjectDefinition, path: Path) -> list[tuple[UnitTestShape, SourceLocation]]:
    """Merge one YAML file's declarations; its unit tests are returned, to be read last."""
    rel = _relative(path, definition.config.root)
    text = read_project_text(path, rel)
    definition.file_hashes[rel] = sha256_text(text)
    data = load_yaml_text(text, rel)
    if data is None:
        return []
    if definition.yaml_renderer is not None and ("{{" in text or "{%" in text):
        # metrics, semantic models, exposures...: kept as written, their Jinja MetricFlow's (`{{ Dimension(...) }}`)
        data = definition.yaml_renderer.render_tree(data, rel, skip=LATE_KEYS | frozenset(KEPT_AS_WRITTEN))
    schema = parse_schema_file(data, rel, definition.config.name, str(definition.config.root))
    _merge_schema_file(definition, schema)
    return schema.unit_tests


def _apply_patch(model: Model, patch: ModelPatch) -> None:
    if model.patch_file is not None:
        raise ProjectError(f"{model.resource_type} '{model.name}' is described twice (also in {model.patch_file})", patch.location)
    shape = patch.shape
    model.patch_file = patch.location.file
    model.description = shape.description
    model.yaml_config = {**shape.config, **({"tags": shape.tags} if shape.tags else {})}
    model.columns = {c.name: c.to_column() for c in shape.columns}
    model.tests = [*shape.tests, *shape.data_tests]
    model.meta = shape.meta


def _merge_schema_file(definition: ProjectDefinition, schema: SchemaFile) -> None:
    for table in schema.sources:
        key = (table.source_name, table.name)
        if key in definition.sources:
            raise ProjectError(
                f"source table '{table.source_name}.{table.name}' is declared twice "
                f"(also in {definition.sources[key].location})",
                table.location,
            )
        definition.sources[key] = table
    for kind, entries in schema.kept.items():
        for entry in entries:
            definition.kept.setdefault(kind, {})[str(entry["name"])] = entry
    for patch in schema.model_patches:
        model = definition.models.get(patch.shape.name)
        seed = definition.seeds.get(patch.shape.name)
        if model is None and seed is not None:  # dbt applies a `models:` entry to the seed of that name
            seed.columns = {c.name: c.to_column() for c in patch.shape.columns}
            seed.description = seed.description or patch.shape.description
            seed.patch_file = seed.patch_file or patch.location.file
            continue
        if model is None:  # dbt warns and goes on; so does featureduck
            hint = did_you_mean(patch.shape.name, definition.models)
            definition.warnings.append((f"YAML describes model '{patch.shape.name}' but there is no {patch.shape.name}.sql: "
                                        f"ignored{f' ({hint})' if hint else ''}", patch.location))
            continue
        _apply_patch(model, patch)
    for patch in schema.snapshots:
        name = patch.shape.name
        if isinstance(patch.shape, SnapshotShape) and patch.shape.relation is not None:
            folder_config = _snapshot_folder_config(definition.config, patch.location.file)
            _add_node(definition, yaml_snapshot(patch.shape, patch.location, definition.config.name, folder_config))
        snapshot = definition.models.get(name)
        if snapshot is None or snapshot.resource_type != "snapshot":
            raise ProjectError(f"YAML describes snapshot '{name}' but no `{{% snapshot {name} %}}` block defines it", patch.location,
                               "give it a `relation:` (dbt 1.9) or define it in a .sql file under the snapshot paths")
        _apply_patch(snapshot, patch)
    for seed_shape, location in schema.seed_patches:
        seed = definition.seeds.get(seed_shape.name)
        if seed is None:
            raise ProjectError(f"YAML describes seed '{seed_shape.name}' but the seed paths hold no {seed_shape.name}.csv", location,
                               did_you_mean(seed_shape.name, definition.seeds))
        seed.config = {**seed.config, **seed_shape.config}
        seed.columns = {c.name: c.to_column() for c in seed_shape.columns}
        seed.description = seed_shape.description
        seed.patch_file = location.file
    for entity in schema.entities:
        if entity.name in definition.entities:
            other = definition.entities[entity.name].location
            raise ProjectError(f"entity '{entity.name}' is declared twice (also in {other})", entity.location)
        definition.entities[entity.name] = entity
    for view in schema.feature_views:
        if view.key in definition.feature_views:
            other = definition.feature_views[view.key].location
            raise ProjectError(f"feature view '{view.name}' version {view.version} is declared twice (also in {other})", view.location)
        definition.feature_views[view.key] = view
