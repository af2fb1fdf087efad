"""Render the common shape of a model without compiling it as a Jinja template.

Most models use only `{{ name }}` and `{{ func(literal, ...) }}` expressions
(ref, source, config, var, a macro call) and no `{% %}` blocks. Compiling
such a template with Jinja (parse, generate Python, compile) costs about a
millisecond; evaluating its few calls directly costs a few microseconds and
gives the same text. Anything else (blocks, comments, filters, attributes,
whitespace control, non-literal arguments) returns None and goes to Jinja.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from featureduck.errors import FeatureDuckError, SourceLocation

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_UNSUPPORTED = ("{%", "{#", "#}", "%}")


def render_simple(text: str, names: Mapping[str, Any], path: str) -> str | None:
    """The rendered text, or None when the template needs full Jinja."""
    if any(marker in text for marker in _UNSUPPORTED):
        return None
    calls = []
    for match in _EXPRESSION.finditer(text):
        inner = match.group(1)
        if inner.startswith("-") or inner.endswith("-"):
            return None
        parsed = _parse(inner.strip(), names)
        if parsed is None:
            return None
        calls.append((match, parsed))
    pieces = []
    position = 0
    for match, (target, args, kwargs) in calls:
        try:
            value = target(*args, **kwargs) if args is not None else target
        except FeatureDuckError as err:
            if err.location is None or err.location.line is None:
                err.location = SourceLocation(path, text.count("\n", 0, match.start()) + 1)
            raise
        pieces.append(text[position : match.start()])
        pieces.append(str(value))
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _parse(source: str, names: Mapping[str, Any]) -> tuple[Any, list[Any] | None, dict[str, Any]] | None:
    """(callable or value, positional args or None for a bare name, kwargs)."""
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Name):
        return (names[node.id], None, {}) if node.id in names else None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in names:
        return None
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None}
    except ValueError:
        return None
    if len(kwargs) != len(node.keywords) or any(isinstance(arg, ast.Starred) for arg in node.args):
        return None
    return names[node.func.id], args, kwargs
