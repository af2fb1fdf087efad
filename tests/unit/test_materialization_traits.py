"""Strategies answer for themselves: what builds, what holds rows, what a backup restores."""

from __future__ import annotations

import pytest

from featureduck.compiler.compile import CompiledModel
from featureduck.config.profiles import TargetConfig
from featureduck.engines.registry import adapter_class
from featureduck.materializations.base import BuildContext, BuildOutcome, Materialization
from featureduck.materializations.registry import STRATEGIES, cacheable, inlined_kinds, live, restores_from_rows, table_like


def test_a_strategy_that_does_not_say_its_traits_fails_at_import() -> None:
    with pytest.raises(TypeError, match="does not say its builds_relation, table_like"):
        class Replicated(Materialization):  # noqa: F841 - defining it is the test
            name = "replicated"

            def build(self, model: CompiledModel, ctx: BuildContext) -> BuildOutcome:
                raise NotImplementedError


def test_the_built_in_strategies_traits() -> None:
    assert inlined_kinds() == {"ephemeral"}
    assert {name for name in STRATEGIES if table_like(name)} == {"table", "incremental", "materialized_view", "snapshot"}
    assert {name for name in STRATEGIES if not cacheable(name)} == {"snapshot"}  # its rows depend on when it runs
    assert {name for name in STRATEGIES if live(name)} == {"view", "ephemeral", "external"}  # external: a view over its file


def test_a_native_materialized_view_is_rebuilt_not_restored_from_rows() -> None:
    postgres = adapter_class("postgres")(TargetConfig("t", "postgres", {}))
    duckdb = adapter_class("duckdb")(TargetConfig("t", "duckdb", {}))
    assert not restores_from_rows("materialized_view", postgres)
    assert restores_from_rows("materialized_view", duckdb)  # a table there
    assert restores_from_rows("seed", postgres) and restores_from_rows("table", postgres)
    assert not restores_from_rows("view", duckdb)
