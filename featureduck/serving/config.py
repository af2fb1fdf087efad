"""The project's `serve:` block: bearer tokens, rate limit, batch size.

    serve:
      auth:
        tokens: ["{{ env_var('FDUCK_SERVE_TOKEN') }}"]   # from the environment, never committed
      rate_limit: {per_second: 200, burst: 400}            # per token (per client address without auth)
      max_batch: 1000                                      # entities in one batch request
      cache_size: 100000                                   # hot entities kept in process (0: none); default:
                                                           # 100000 before a Postgres store, 0 before the embedded one
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic

from featureduck.config.profiles import render_env_vars
from featureduck.config.project_config import ProjectConfig
from featureduck.utils.validation import validate_shape


class _Shape(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class AuthShape(_Shape):
    tokens: list[str] = pydantic.Field(min_length=1)


class RateLimitShape(_Shape):
    per_second: float = pydantic.Field(gt=0)
    burst: int | None = pydantic.Field(None, ge=1)


class ServeShape(_Shape):
    auth: AuthShape | None = None
    rate_limit: RateLimitShape | None = None
    max_batch: int = pydantic.Field(1000, ge=1)
    cache_size: int | None = pydantic.Field(None, ge=0)


@dataclass(frozen=True)
class ServeConfig:
    tokens: frozenset[str]  # empty: no auth
    rate_per_second: float | None
    burst: int
    max_batch: int
    cache_size: int | None  # entities the hot-key cache keeps; 0: none; None: the store's default

    @classmethod
    def from_project(cls, config: ProjectConfig) -> ServeConfig:
        raw: Any = config.raw.get("serve") or {}
        shape = validate_shape(ServeShape, raw, config.file_name, ("serve",))
        tokens: frozenset[str] = frozenset()
        if shape.auth is not None:
            auth = raw["auth"]
            rendered = render_env_vars(auth["tokens"], config.file_name, auth.line_of("tokens"))
            tokens = frozenset(str(t) for t in rendered if str(t))
        limit = shape.rate_limit
        return cls(
            tokens,
            limit.per_second if limit else None,
            (limit.burst or max(1, int(limit.per_second))) if limit else 0,
            shape.max_batch,
            shape.cache_size,
        )
