"""Validate loaded YAML against pydantic shapes, reporting file and line."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from featureduck.errors import SourceLocation, YamlError
from featureduck.utils.suggest import did_you_mean
from featureduck.utils.yaml_loader import line_at

ShapeT = TypeVar("ShapeT", bound=pydantic.BaseModel)


def validate_shape(shape: type[ShapeT], data: Any, file: str, path: tuple[Any, ...] = ()) -> ShapeT:
    """Build `shape` from `data` (found at `path` inside `file`); first error wins.

    The error names the offending key as a dotted path and its line, and for
    an unknown key suggests the closest known one.
    """
    try:
        return shape.model_validate(data)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        dotted = ".".join(str(p) for p in (*path, *loc))
        line = line_at(data, loc)
        hint = None
        if first["type"] == "extra_forbidden":
            known = _field_names(shape, loc[:-1])
            hint = did_you_mean(str(loc[-1]), known)
            message = f"unknown key '{dotted}'"
        elif first["type"] == "missing":
            message = f"missing required key '{dotted}'"
            line = line_at(data, loc[:-1])
        else:
            got = first.get("input")
            message = f"'{dotted}': {first['msg'].lower()} (got {got!r})"
        raise YamlError(message, SourceLocation(file, line), hint) from None


def _field_names(shape: type[pydantic.BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Known keys of the (possibly nested) pydantic model at `loc`."""
    current: Any = shape
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part) or _by_alias(current, part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [f.alias or name for name, f in fields.items()]


def _by_alias(shape: Any, alias: str) -> Any:
    for field in getattr(shape, "model_fields", {}).values():
        if field.alias == alias:
            return field
    return None


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside list[X], X | None, dict[str, X] and so on."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
