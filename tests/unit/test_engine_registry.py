"""The engine traits table, the adapters and the compiler's rules agree."""

from __future__ import annotations

from featureduck.compiler.portability import REWRITES, RULES
from featureduck.config.profiles import TargetConfig
from featureduck.engines.registry import adapter_class
from featureduck.engines.traits import engine_traits, engine_types
from featureduck.project.nodes import FILE_READERS


def test_every_engine_has_an_adapter_speaking_its_dialect() -> None:
    for engine_type in engine_types():
        cls = adapter_class(engine_type)
        assert (cls.TYPE, cls.DIALECT) == (engine_type, engine_traits(engine_type).dialect)


def test_every_refusal_and_rewrite_an_engine_names_exists() -> None:
    """A misspelt name would silently let a construct through."""
    constructs = {rule.construct for rule in RULES}
    for engine_type in engine_types():
        traits = engine_traits(engine_type)
        assert traits.refuses <= constructs, traits.refuses - constructs
        assert traits.rewrites <= set(REWRITES), traits.rewrites - set(REWRITES)


def test_local_readers_are_the_adapters_that_say_so() -> None:
    for engine_type in engine_types():
        adapter = adapter_class(engine_type)(TargetConfig("t", engine_type, {}))
        assert (adapter.local() is not None) == engine_traits(engine_type).local_reader, engine_type


def test_duckdb_reads_every_file_format_it_has_a_reader_for() -> None:
    assert engine_traits("duckdb").reads_in_place == frozenset(FILE_READERS)
