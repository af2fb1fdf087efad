"""Engine type -> adapter class; adapters are imported only when asked for."""

from __future__ import annotations

import importlib

from featureduck.config.profiles import TargetConfig
from featureduck.engines.base import EngineAdapter
from featureduck.errors import ProfileError
from featureduck.utils.suggest import did_you_mean

# type -> "module:Class". A new engine is one module plus one row here (and a
# row in config.profiles.ENGINE_DEFAULTS for its dialect).
ADAPTERS = {
    "duckdb": "featureduck.engines.duckdb:DuckDBAdapter",
    "ducklake": "featureduck.engines.ducklake:DuckLakeAdapter",
    "postgres": "featureduck.engines.postgres:PostgresAdapter",
    "spark": "featureduck.engines.spark:SparkAdapter",
}


def adapter_class(engine_type: str) -> type[EngineAdapter]:
    spec = ADAPTERS.get(engine_type)
    if spec is None:
        raise ProfileError(f"unknown engine type '{engine_type}'", hint=did_you_mean(engine_type, ADAPTERS))
    module_name, _, class_name = spec.partition(":")
    cls: type[EngineAdapter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_adapter(target: TargetConfig, threads: int | None = None) -> EngineAdapter:
    """An adapter for `threads` concurrent users (default: the profile's threads)."""
    return adapter_class(target.type)(target, threads)
