"""Engine type -> adapter class, from the traits table; adapters are imported only when asked for."""

from __future__ import annotations

import importlib

from featureduck.config.profiles import TargetConfig
from featureduck.engines.base import EngineAdapter
from featureduck.engines.traits import engine_traits


def adapter_class(engine_type: str) -> type[EngineAdapter]:
    module_name, _, class_name = engine_traits(engine_type).adapter.partition(":")
    cls: type[EngineAdapter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_adapter(target: TargetConfig, threads: int | None = None) -> EngineAdapter:
    """An adapter for `threads` concurrent users (default: the profile's threads)."""
    return adapter_class(target.type)(target, threads)
