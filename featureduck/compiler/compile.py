"""Compile a project for one target: render, DAG, parse, resolve, transpile.

Rendering is target-independent apart from `target`; relations are resolved
on the parsed tree, so the SQL sent to an engine never holds text pasted
together from names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from featureduck.compiler.parallel import run_each
from featureduck.compiler.relations import Relation, ephemeral_cte_name, model_relation, source_expression
from featureduck.config.profiles import TargetConfig
from featureduck.config.project_config import UNSUPPORTED_MODEL_CONFIGS
from featureduck.engines.traits import engine_traits, engine_types
from featureduck.errors import CompilationError, FeatureDuckError, ProjectError, SourceLocation
from featureduck.graph.dag import Dag
from featureduck.project.ids import NodeId
from featureduck.project.loader import ProjectDefinition
from featureduck.project.nodes import FeatureView, Model, SourceTable
from featureduck.templating.context import REF_PREFIX, SOURCE_PREFIX, THIS_PLACEHOLDER, RenderOverrides, RenderScope
from featureduck.utils.hashing import sha256_text
from featureduck.utils.memory import fewer_collections

if TYPE_CHECKING:
    from sqlglot import exp

    from featureduck.templating.introspection import Database
    from featureduck.templating.renderer import ModelRenderer, RenderedModel


@dataclass
class CompiledModel:
    """One model compiled for one target."""

    name: str
    unique_id: str
    path: str
    config: dict[str, Any]
    refs: list[str]
    sources: list[tuple[str, str]]
    relation: Relation
    sql: str
    uses_this: bool = False
    reads_unmanaged: bool = False  # a table or file besides refs and sources (resolve.reads_unmanaged)
    renders_at_run: bool = False  # its Jinja asks the database (`execute`, run_query): rendered again before it builds
    # configs holding SQL (a snapshot's unique_key, updated_at, dbt_valid_to_current), in the target's dialect
    config_sql: dict[str, list[str]] = field(default_factory=dict)

    @property
    def materialized(self) -> str:
        return str(self.config.get("materialized", "view"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unique_id": self.unique_id,
            "path": self.path,
            "config": self.config,
            "refs": self.refs,
            "sources": [list(s) for s in self.sources],
            "relation": self.relation.to_dict(),
            "sql": self.sql,
            "uses_this": self.uses_this,
            "reads_unmanaged": self.reads_unmanaged,
            "renders_at_run": self.renders_at_run,
            "config_sql": self.config_sql,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledModel:
        relation = Relation(data["relation"]["schema"], data["relation"]["identifier"], data["relation"]["database"])
        return cls(
            data["name"], data["unique_id"], data["path"], data["config"], data["refs"],
            [tuple(s) for s in data["sources"]], relation, data["sql"], data["uses_this"],  # type: ignore[misc]
            data["reads_unmanaged"], data["renders_at_run"], data["config_sql"],
        )


@dataclass
class CompiledProject:
    """All models of a project compiled for one target, with the DAG."""

    target: TargetConfig
    models: dict[str, CompiledModel] = field(default_factory=dict)
    errors: dict[str, FeatureDuckError] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)  # config enabled=false: not built, not ref-able
    dag: Dag = field(default_factory=Dag)
    from_cache: bool = False

    def view_relation(self, view: FeatureView, sources: dict[tuple[str, str], SourceTable]) -> exp.Table | None:
        """What a feature view reads: its model's relation (None when the model did not
        compile), or its stream source's landing table."""
        if view.source is not None:
            table = sources[view.source]
            return Relation(table.schema, table.identifier, table.database).to_table()
        model = self.models.get(str(view.model))
        return model.relation.to_table() if model is not None else None


# a snapshot's configs that are SQL expressions, written in the project's dialect
SNAPSHOT_SQL_CONFIGS = ("unique_key", "updated_at", "dbt_valid_to_current")

_NAMING_MACRO = re.compile(r"{%-?\s*macro\s+generate_(schema|alias|database)_name\s*\(")


# a placeholder inside a quoted string: replaced there too (compiler.resolve.replace_in_strings)
_PLACEHOLDER_IN_STRING = re.compile(f"'[^']*({REF_PREFIX}|{SOURCE_PREFIX}|{THIS_PLACEHOLDER})")


def source_unique_id(project: str, key: tuple[str, str]) -> str:
    return str(NodeId("source", project, f"{key[0]}.{key[1]}"))


class Compiler:
    """Compiles one project definition for one target."""

    def __init__(
        self, definition: ProjectDefinition, target: TargetConfig, project_vars: dict[str, Any], *,
        inlined: Callable[[], frozenset[str]],
    ) -> None:
        """`inlined()`: the materializations that build nothing, whose models are inlined
        into their dependents (the strategies say which: materializations.registry);
        asked when compiling, so a cached compile never imports the strategies."""
        self.definition = definition
        self._inlined = inlined
        self.target = target
        self.vars = project_vars
        self.project_dialect = definition.config.dialect
        self.target_dialect = target.dialect
        self._renderer: ModelRenderer | None = None
        # the target, once a session is open: renders then run with `execute` true
        self.database: Database | None = None
        self._texts: tuple[CompiledProject, dict[str, str], re.Pattern[str]] | None = None  # _relation_texts

    @functools.cached_property
    def inlined(self) -> frozenset[str]:
        return self._inlined()

    @property
    def renderer(self) -> ModelRenderer:
        """Built on first use: a cached compile never pays for loading macros."""
        if self._renderer is None:
            from featureduck.templating.renderer import ModelRenderer  # jinja2 only when rendering

            definition = self.definition
            refs = {n: s.project for n, s in definition.seeds.items()} | {n: m.project for n, m in definition.models.items()}
            scope = RenderScope(definition.config.name, refs, definition.sources, self.target.schema)
            info = self.target.jinja_target()
            macros = [(m.path, m.text) for m in definition.macro_files]
            packages = {name: package.macro_files for name, package in definition.packages.items()}
            search_orders = {entry.macro_namespace: entry.search_order for entry in definition.config.shape.dispatch}
            package_vars = {name: dict(package.config.shape.vars) for name, package in definition.packages.items()}
            self._renderer = ModelRenderer(scope, self.vars, info, macros, self._graph, packages, self.project_dialect, search_orders,
                                           package_vars)
        return self._renderer

    def _graph(self) -> dict[str, Any]:
        """dbt's `graph` context: nodes (models, snapshots, seeds; a package's too) and sources, as declared."""
        definition = self.definition
        nodes: dict[str, Any] = {}
        for model in definition.models.values():
            config = {"materialized": "view", **model.folder_config, **model.yaml_config}
            nodes[model.unique_id] = {
                "unique_id": model.unique_id, "name": model.name, "resource_type": model.resource_type, "package_name": model.project,
                "original_file_path": model.path, "path": model.path, "config": config, "tags": config.get("tags", []),
                "description": model.description, "columns": {n: c.to_dict() for n, c in model.columns.items()},
                "fqn": [model.project, *model.path.split("/")[1:-1], model.name], "raw_code": model.raw_sql,
            }
        for seed in definition.seeds.values():
            nodes[seed.unique_id] = {"unique_id": seed.unique_id, "name": seed.name, "resource_type": "seed", "package_name": seed.project,
                                     "original_file_path": seed.path, "config": seed.config, "tags": seed.config.get("tags", [])}
        sources = {table.unique_id: table.to_dict() for table in definition.sources.values()}
        return {"nodes": nodes, "sources": sources, "exposures": {}, "metrics": {}, "groups": {}}

    @property
    def has_renderer(self) -> bool:
        return self._renderer is not None

    def check_dialect(self) -> None:
        """The project's dialect is one sqlglot knows, else an error at its line."""
        from sqlglot.dialects.dialect import Dialect

        try:
            Dialect.get_or_raise(self.project_dialect)
        except ValueError as err:
            config = self.definition.config
            hint = str(err).split(". ", 1)[1] if ". " in str(err) else None
            raise ProjectError(f"unknown dialect '{self.project_dialect}'", SourceLocation(config.file_name, config.raw.line_of("dialect")),
                               hint) from None

    def compile(self) -> CompiledProject:
        """Compile every model; a failing model is recorded, the others go on."""
        self.check_dialect()
        with fewer_collections():
            return self._compile_all()

    def _compile_all(self) -> CompiledProject:
        result = CompiledProject(self.target)
        rendered: dict[str, RenderedModel] = {}
        for name, model in self.definition.models.items():
            try:
                rendered[name] = self.renderer.render(model)
            except FeatureDuckError as err:
                result.errors[name] = err
        result.disabled = {name for name, r in rendered.items() if r.config.get("enabled") is False}
        for name in result.disabled:
            del rendered[name]
        for name, render in list(rendered.items()):
            off = [ref for ref in render.refs if ref in result.disabled]
            if off:
                result.errors[name] = CompilationError(
                    f"ref to disabled model '{off[0]}'", SourceLocation(self.definition.models[name].path),
                    "enable it or remove the ref (it has enabled: false)",
                )
                del rendered[name]
        result.dag = self.build_dag({name: (r.refs, r.sources) for name, r in rendered.items()})
        result.dag.check_acyclic({m.unique_id: m.path for m in self.definition.models.values()})
        configs = {name: r.config for name, r in rendered.items()}
        relations = {
            name: self.relation_of(name, model.resource_type, model.path, configs.get(name, {}))
            for name, model in self.definition.models.items()
        } | self.seed_relations()
        order = [node.name for node in map(NodeId.parse, result.dag.topological_order()) if node.kind in ("model", "snapshot")]
        order = [name for name in order if name in rendered]

        def compile_one(name: str) -> CompiledModel:
            return self._compile_rendered(self.definition.models[name], rendered[name], relations, configs, result)

        # Ephemeral models are compiled first, in DAG order, since their SQL is
        # inlined into others; every other model then depends on nothing still
        # to compile, so they fan out over the cores.
        for name in order:
            if configs[name].get("materialized") in self.inlined:
                try:
                    result.models[name] = compile_one(name)
                except FeatureDuckError as err:
                    result.errors[name] = err
        import featureduck.compiler.resolve  # noqa: F401 - load sqlglot once, before forking

        independent = [name for name in order if configs[name].get("materialized") not in self.inlined]
        for name, outcome in run_each(compile_one, independent):
            if isinstance(outcome, CompiledModel):
                result.models[name] = outcome
            else:
                result.errors[name] = outcome
        return result

    def recompile(
        self, name: str, project: CompiledProject, incremental: bool, sources: dict[tuple[str, str], exp.Table] | None = None
    ) -> CompiledModel:
        """Render and compile one model again, e.g. with is_incremental() true, or
        reading some sources (by key) from other relations (their snapshots)."""
        model = self.definition.models[name]
        rendered = self.renderer.render(model, incremental=incremental, database=self.database)
        relations = {n: m.relation for n, m in project.models.items()} | self.seed_relations()
        configs = {n: m.config for n, m in project.models.items()}
        return self._compile_rendered(model, rendered, relations, configs, project, sources or {})

    def compile_with_inputs(
        self, name: str, project: CompiledProject, inputs: dict[str, exp.Table], incremental: bool, overrides: RenderOverrides,
    ) -> CompiledModel:
        """A model compiled for a unit test: its refs, sources and `this` read `inputs` (by
        placeholder) where given, rendered with the test's overrides."""
        model = self.definition.models[name]
        rendered = self.renderer.render(model, incremental=incremental, database=self.database, overrides=overrides)
        relations = {n: m.relation for n, m in project.models.items()} | self.seed_relations()
        configs = {n: m.config for n, m in project.models.items()}
        return self._compile_rendered(model, rendered, relations, configs, project, None, inputs)

    def compile_query(self, name: str, path: str, raw_sql: str, project: CompiledProject) -> CompiledModel:
        """Render and compile a query that is not a model (a data test) against the
        project's models, for the target: refs, sources and ephemerals resolve as in models.
        Rendered with no database, a query that asked for one (`execute`) is not compiled
        yet: it comes back with no SQL and `renders_at_run`, to be compiled when it runs."""
        self.check_dialect()
        model = Model(name=name, project=self.definition.config.name, path=path, raw_sql=raw_sql, checksum=sha256_text(raw_sql))
        rendered = self.renderer.render(model, database=self.database)
        if rendered.renders_at_run and self.database is None:
            return CompiledModel(name, model.unique_id, path, rendered.config, rendered.refs, rendered.sources,
                                 Relation(self.target.schema, name), "", rendered.uses_this, False, True)
        relations = {n: m.relation for n, m in project.models.items()} | self.seed_relations()
        configs = {n: m.config for n, m in project.models.items()}
        return self._compile_rendered(model, rendered, relations, configs, project)

    def render_hook(self, text: str, project: CompiledProject, model_name: str | None, names: dict[str, Any] | None = None) -> str:
        """A hook's SQL (a model's pre-/post-hook, or on-run-start/-end when `model_name` is
        None), rendered at run time as dbt renders it, its relations named for the target."""
        model = self.definition.models.get(model_name) if model_name else None
        path = model.path if model else self.definition.config.file_name
        hook = Model(name=model_name or "on_run_hooks", project=self.definition.config.name, path=path, raw_sql=text,
                     checksum=sha256_text(text), folder_config=model.folder_config if model else {},
                     yaml_config=model.yaml_config if model else {})
        rendered = self.renderer.render(hook, database=self.database, overrides=RenderOverrides(names=names or {}))
        own = project.models[model_name].relation if model_name in project.models else None
        return self.resolve_text(rendered.sql, project, own)

    def resolve_text(self, sql: str, project: CompiledProject, this: Relation | None) -> str:
        """SQL sent as the user wrote it (a hook, run_query's query) with each relation
        placeholder, bare or quoted, replaced by the relation's name."""
        if REF_PREFIX not in sql and SOURCE_PREFIX not in sql and THIS_PLACEHOLDER not in sql:
            return sql
        from featureduck.templating.context import placeholder

        if this is not None:
            own = this.sql(self.target_dialect)
            sql = sql.replace(placeholder(THIS_PLACEHOLDER), own).replace(THIS_PLACEHOLDER, own)
        spelled, pattern = self._relation_texts(project)
        return pattern.sub(lambda match: spelled[match.group(0)], sql)

    def _relation_texts(self, project: CompiledProject) -> tuple[dict[str, str], re.Pattern[str]]:
        """Each ref and source placeholder (bare and quoted) to its relation's text, and the
        pattern finding them; made once per compiled project, as every run_query and hook asks."""
        if self._texts is not None and self._texts[0] is project:
            return self._texts[1], self._texts[2]
        from featureduck.templating.context import placeholder

        dialect = self.target_dialect
        names = {REF_PREFIX + name: model.relation.sql(dialect) for name, model in project.models.items()}
        names |= {REF_PREFIX + name: relation.sql(dialect) for name, relation in self.seed_relations().items()}
        for (source, table), declared in self.definition.sources.items():
            expression = source_expression(declared, self.definition.config.root, self.target.traits, self.target.schema)
            names[f"{SOURCE_PREFIX}{source}__{table}"] = expression.sql(dialect=dialect)
        spelled = {placeholder(name): text for name, text in names.items()} | names
        pattern = re.compile("|".join(re.escape(k) for k in sorted(spelled, key=len, reverse=True)) or "(?!)")
        self._texts = (project, spelled, pattern)
        return spelled, pattern

    def seed_relations(self) -> dict[str, Relation]:
        """Where each seed is loaded: named as a model of the same config would be."""
        return {name: self.relation_of(name, "seed", seed.path, seed.config) for name, seed in self.definition.seeds.items()}

    @functools.cached_property
    def names_by_macro(self) -> bool:
        """Whether the project defines generate_schema_name, _alias_name or _database_name;
        without one, dbt's default rules are applied in Python, with no Jinja call."""
        return any(_NAMING_MACRO.search(m.text) for m in self.definition.macro_files)

    def relation_of(self, name: str, resource_type: str, path: str, config: dict[str, Any]) -> Relation:
        """Where a model, snapshot or seed is built, named as dbt names it; a snapshot's
        legacy `target_schema` and `target_database` are taken as written, as dbt takes them."""
        relation = self._named_relation(name, resource_type, path, config)
        if config.get("target_schema") or config.get("target_database"):
            return Relation(str(config.get("target_schema") or relation.schema), relation.identifier,
                            str(config["target_database"]) if config.get("target_database") else relation.database)
        return relation

    def _named_relation(self, name: str, resource_type: str, path: str, config: dict[str, Any]) -> Relation:
        if not self.names_by_macro:
            return model_relation(name, config, self.target.schema)
        from featureduck.templating.renderer import NodeInfo

        declared = self.definition.models.get(name) or self.definition.seeds.get(name)
        package = declared.project if declared is not None else self.definition.config.name
        fqn = [package, *path.split("/")[1:-1], name]
        node = NodeInfo(name, resource_type, package, path, config, fqn)
        database, schema, identifier = self.renderer.relation_parts(node)
        return Relation(schema, identifier, None if database == self.target.database else database)

    def build_dag(self, dependencies: dict[str, tuple[list[str], list[tuple[str, str]]]]) -> Dag:
        """Models and the sources they read, from each model's (refs, sources)."""
        dag = Dag()
        project = self.definition.config.name
        for model in self.definition.models.values():
            dag.add_node(model.unique_id)
        for seed in self.definition.seeds.values():
            dag.add_node(seed.unique_id)
        for name, (refs, sources) in dependencies.items():
            child = self.definition.models[name].unique_id
            for ref in refs:
                parent = self.definition.models.get(ref) or self.definition.seeds[ref]
                dag.add_edge(parent.unique_id, child)
            for key in sources:
                dag.add_edge(source_unique_id(project, key), child)
        return dag

    def _compile_rendered(
        self,
        model: Model,
        rendered: RenderedModel,
        relations: dict[str, Relation],
        configs: dict[str, dict[str, Any]],
        project: CompiledProject,
        source_overrides: dict[tuple[str, str], exp.Table] | None = None,
        inputs: dict[str, exp.Table] | None = None,
    ) -> CompiledModel:
        """`inputs`: tables standing in for placeholders (a unit test's given rows), by placeholder."""
        # sqlglot is imported here, not at module level: a cached compile never needs it
        from featureduck.compiler.parse import generate_sql, parse_model_sql
        from featureduck.compiler.portability import check_python_functions, make_portable
        from featureduck.compiler.resolve import (
            Replacements,
            ephemeral_reference,
            prepend_ctes,
            reads_unmanaged,
            relation_text,
            replace_in_strings,
            replace_placeholders,
        )
        from featureduck.compiler.time_formats import write_formats_as_written

        for option, feature in UNSUPPORTED_MODEL_CONFIGS.items():
            if rendered.config.get(option) and option not in self.target.traits.applies:
                engines = [t for t in engine_types() if option in engine_traits(t).applies]
                where = f" on {self.target.type} targets (it is on {', '.join(engines)})" if engines else ""
                raise CompilationError(f"dbt's `{option}` config ({feature}) is not supported by featureduck{where}",
                                       SourceLocation(model.path), f"remove {option}: featureduck would not apply it")
        own_relation = self.relation_of(model.name, model.resource_type, model.path, rendered.config)
        replacements: Replacements = {THIS_PLACEHOLDER: (own_relation.to_table(), own_relation.identifier)}
        ephemerals = []
        inputs = inputs or {}
        for ref in rendered.refs:
            if REF_PREFIX + ref in inputs:
                continue
            if configs.get(ref, {}).get("materialized") in self.inlined:
                if ref not in project.models:
                    raise CompilationError(f"ephemeral model '{ref}' it inlines failed to compile", SourceLocation(model.path))
                ephemerals.append(ref)
                replacements[REF_PREFIX + ref] = (ephemeral_reference(ref), ref)
            elif ref not in relations:  # a test (or query) over a model that failed to compile
                raise CompilationError(f"ref to model '{ref}', which failed to compile", SourceLocation(model.path))
            else:
                replacements[REF_PREFIX + ref] = (relations[ref].to_table(), relations[ref].identifier)
        for key in rendered.sources:
            if f"{SOURCE_PREFIX}{key[0]}__{key[1]}" in inputs:
                continue
            source = self.definition.sources[key]
            override = (source_overrides or {}).get((key[0], key[1]))
            try:
                expression = override.copy() if override is not None else source_expression(
                    source, self.definition.config.root, self.target.traits, self.target.schema
                )
            except CompilationError as err:
                err.location = SourceLocation(model.path)
                raise
            replacements[f"{SOURCE_PREFIX}{key[0]}__{key[1]}"] = (expression, source.name if source.is_file else source.identifier)

        replacements |= {name: (table, table.name) for name, table in inputs.items()}
        tree = parse_model_sql(rendered.sql, self.project_dialect, model.path)
        check_python_functions(tree, self.definition.functions, self.target.traits, model.path)
        if self.target_dialect != self.project_dialect:
            make_portable(tree, self.project_dialect, self.target.traits, model.path)
        else:
            write_formats_as_written(tree)
        unmanaged = reads_unmanaged(tree, replacements)
        if _PLACEHOLDER_IN_STRING.search(rendered.sql):
            database = self.target.database if self.target.traits.names_database else None
            replace_in_strings(tree, {name: relation_text(new, database, self.target_dialect) for name, (new, _) in replacements.items()})
        replace_placeholders(tree, replacements)
        if ephemerals:
            # the ephemeral's compiled SQL is target SQL with its own ephemerals inlined
            ctes = [
                (ephemeral_cte_name(name), parse_model_sql(project.models[name].sql, self.target_dialect, project.models[name].path))
                for name in ephemerals
            ]
            tree = prepend_ctes(tree, ctes)
        sql = generate_sql(tree, self.target_dialect, model.path)
        return CompiledModel(
            model.name, model.unique_id, model.path, rendered.config, rendered.refs, rendered.sources,
            own_relation, sql, rendered.uses_this, unmanaged, rendered.renders_at_run,
            self._config_sql(model, rendered.config) if model.resource_type == "snapshot" else {},
        )

    def _config_sql(self, model: Model, config: dict[str, Any]) -> dict[str, list[str]]:
        """A snapshot's SQL configs in the target's dialect; one that does not parse is
        the snapshot's compile error, naming the config."""
        import sqlglot
        from sqlglot.errors import ParseError

        from featureduck.compiler.portability import make_portable

        found: dict[str, list[str]] = {}
        for key in SNAPSHOT_SQL_CONFIGS:
            value = config.get(key)
            if value is None:
                continue
            texts = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            try:
                trees = [sqlglot.parse_one(text, read=self.project_dialect) for text in texts]
            except ParseError as err:
                raise CompilationError(f"{key} {value!r} is not a SQL expression: {str(err).splitlines()[0]}",
                                       SourceLocation(model.patch_file or model.path)) from None
            for tree in trees:
                if self.target_dialect != self.project_dialect:
                    make_portable(tree, self.project_dialect, self.target.traits, model.path)
            found[key] = [tree.sql(dialect=self.target_dialect) for tree in trees]
        return found
