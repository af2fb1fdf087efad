"""`ephemeral`: nothing is built; the compiler inlines the model as a CTE."""

from __future__ import annotations

from featureduck.compiler.compile import CompiledModel
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization


class EphemeralMaterialization(Materialization):
    name = "ephemeral"
    builds_relation = False
    table_like = False

    def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
        return BuildOutcome(None, "inlined (ephemeral)", model.sql)
