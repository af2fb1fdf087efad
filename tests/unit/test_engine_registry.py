"""The adapter registry and the dialect table the compiler uses agree."""

from __future__ import annotations

from featureduck.config.profiles import ENGINE_DEFAULTS
from featureduck.engines.registry import ADAPTERS, adapter_class


def test_every_engine_has_an_adapter_speaking_its_dialect() -> None:
    assert set(ADAPTERS) == set(ENGINE_DEFAULTS)
    for engine_type, (dialect, _) in ENGINE_DEFAULTS.items():
        cls = adapter_class(engine_type)
        assert (cls.TYPE, cls.DIALECT) == (engine_type, dialect)
