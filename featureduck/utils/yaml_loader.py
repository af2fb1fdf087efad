"""A YAML loader that remembers the line of every mapping and key.

Semantic errors (an unknown key, a wrong type) must name the line as precisely
as syntax errors do, so mappings load as `LineDict`, which keeps the 1-based
line of the mapping itself and of each of its keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from featureduck.errors import SourceLocation, YamlError
from featureduck.utils.text_files import read_project_text

try:  # libyaml is several times faster when present
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader


class LineDict(dict):  # type: ignore[type-arg]
    """A dict that knows the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):  # type: ignore[type-arg]
    """A list that knows the line of each item."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in mapping.key_lines:  # YAML itself would keep the last one silently
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first at line {mapping.key_lines[key]})", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML text; `file` is the name used in error messages."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        location = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file)
        raise YamlError(f"invalid YAML: {err.problem or err.context}", location) from None
    except yaml.YAMLError as err:
        raise YamlError(f"invalid YAML: {err}", SourceLocation(file)) from None


def load_yaml_file(path: Path, display_name: str | None = None) -> Any:
    """Read and parse one YAML file; an empty file loads as an empty mapping."""
    name = display_name or str(path)
    data = load_yaml_text(read_project_text(path, name), name)
    return LineDict() if data is None else data


def line_at(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest element of `loc` (a pydantic error path) in `data`."""
    line: int | None = getattr(data, "line", None) or None
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
