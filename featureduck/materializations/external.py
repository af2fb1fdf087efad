"""`external` (dbt-duckdb's): the model's rows written to a file, and a view reading it.

The file is `location` if the config gives one (a relative one under the profile's
`external_root`), else `<external_root>/<name>.<format>`; `external_root` is relative
to the project and defaults to it. It is written beside
its final name and renamed over it, so a failed build leaves the previous file
(and the view over it) as they were. DuckDB writes it: other engines refuse.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlglot import exp

from featureduck.compiler.compile import CompiledModel
from featureduck.errors import UnsupportedSqlError
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization

FORMATS = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}


class ExternalMaterialization(Materialization):
    name = "external"
    builds_relation = True
    table_like = False  # the rows are in the file; the view reads it when queried

    def validate(self, model: CompiledModel) -> None:
        config = model.config
        fmt = str(config.get("format", "parquet")).lower()
        if fmt not in FORMATS:
            raise UnsupportedSqlError(f"external model '{model.name}' has format '{fmt}'", hint=f"formats: {', '.join(FORMATS)}")
        unsupported = [key for key in ("options", "glue_register", "plugin", "partition_by") if config.get(key)]
        if unsupported:
            raise UnsupportedSqlError(f"external model '{model.name}' sets {', '.join(unsupported)}, which featureduck does not apply")

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        adapter = ctx.adapter
        local = adapter.local()
        if local is None:
            raise UnsupportedSqlError(f"external model '{model.name}' writes a file through DuckDB, which a {adapter.TYPE} target "
                                      "is not", hint="build it on a duckdb target")
        fmt = str(model.config.get("format", "parquet")).lower()
        root = Path(str(adapter.target.settings.get("external_root") or "."))
        location = root / str(model.config.get("location") or f"{model.relation.identifier}.{fmt}")  # an absolute one stays
        location.parent.mkdir(parents=True, exist_ok=True)
        partial = location.with_name(f".{location.name}.{os.getpid()}.partial")
        written = exp.Literal.string(str(partial)).sql("duckdb")
        rows = adapter.execute(f"COPY ({model.sql}) TO {written} (FORMAT {fmt})")
        partial.replace(location)
        reader = exp.select("*").from_(exp.func(FORMATS[fmt], exp.Literal.string(str(location)), dialect="duckdb"))
        adapter.create_schema(model.relation.schema, model.relation.database)
        adapter.replace_view(model.relation.to_table(), adapter.sql(reader), ctx.check)
        count = int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else None
        return BuildOutcome(count, f"wrote {location.name}", model.sql)
