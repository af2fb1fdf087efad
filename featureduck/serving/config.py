"""The project's `serve:` block: bearer tokens, rate limit, batch size.

    serve:
      auth:
        tokens: ["{{ env_var('FDUCK_SERVE_TOKEN') }}"]   # from the environment, never committed; an empty one
                                                           # refuses to start (auth never fails open)
        failures_per_minute: 10                            # failed authentications per client address, then 429
      rate_limit: {per_second: 200, burst: 400}            # per token (per client address without auth)
      max_batch: 1000                                      # entities in one batch request
      max_body_bytes: 1048576                              # a larger request body is answered 413, unread
      trusted_proxies: [10.0.0.5]                          # whose X-Forwarded-For names the client (default: none)
      cache_size: 100000                                   # hot entities kept in process (0: none); default:
                                                           # 100000 before a Postgres store, 0 before the embedded one
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic

from featureduck.config.profiles import render_env_vars
from featureduck.config.project_config import ProjectConfig
from featureduck.errors import ProjectError, SourceLocation
from featureduck.utils.validation import validate_shape


class _Shape(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class AuthShape(_Shape):
    tokens: list[str] = pydantic.Field(min_length=1)
    failures_per_minute: int = pydantic.Field(10, ge=1)


class RateLimitShape(_Shape):
    per_second: float = pydantic.Field(gt=0)
    burst: int | None = pydantic.Field(None, ge=1)


class ServeShape(_Shape):
    auth: AuthShape | None = None
    rate_limit: RateLimitShape | None = None
    max_batch: int = pydantic.Field(1000, ge=1)
    max_body_bytes: int = pydantic.Field(1 << 20, ge=1)
    trusted_proxies: list[str] = []
    cache_size: int | None = pydantic.Field(None, ge=0)


@dataclass(frozen=True)
class ServeConfig:
    tokens: frozenset[str]  # empty: no auth
    rate_per_second: float | None
    burst: int
    max_batch: int
    cache_size: int | None  # entities the hot-key cache keeps; 0: none; None: the store's default
    failures_per_minute: int = 10
    max_body_bytes: int = 1 << 20
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_project(cls, config: ProjectConfig) -> ServeConfig:
        raw: Any = config.raw.get("serve") or {}
        shape = validate_shape(ServeShape, raw, config.file_name, ("serve",))
        tokens: frozenset[str] = frozenset()
        if shape.auth is not None:
            auth = raw["auth"]
            location = SourceLocation(config.file_name, auth.line_of("tokens"))
            rendered = render_env_vars(auth["tokens"], location.file, location.line or 0)
            if any(not str(token).strip() for token in rendered):
                # an unset variable with an empty default would serve features to anyone
                raise ProjectError("serve.auth.tokens holds an empty token, which would turn authentication off", location,
                                   "set the variable the token is read from, or remove `auth:` to serve without tokens")
            tokens = frozenset(str(t) for t in rendered)
        limit = shape.rate_limit
        return cls(
            tokens,
            limit.per_second if limit else None,
            (limit.burst or max(1, int(limit.per_second))) if limit else 0,
            shape.max_batch,
            shape.cache_size,
            shape.auth.failures_per_minute if shape.auth else 10,
            shape.max_body_bytes,
            tuple(shape.trusted_proxies),
        )
