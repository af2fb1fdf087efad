"""Which SQL functions a project's functions/ files declare, read without running them.

Compiling must not execute project code (a CI check, a cached compile), yet
it must know the functions' names: a model calling one cannot compile for
Postgres. The files are parsed, and every function decorated with
`udf(...)`/`featureduck.udf(...)` gives its SQL name and line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from featureduck.errors import ProjectError, SourceLocation


@dataclass(frozen=True)
class DeclaredFunction:
    name: str  # the SQL name
    path: str  # relative to the project root
    line: int


def declared_functions(path: str, text: str) -> list[DeclaredFunction]:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as err:
        raise ProjectError(f"invalid Python: {err.msg}", SourceLocation(path, err.lineno, err.offset)) from None
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            called = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
            if called != "udf":
                continue
            names = [k.value.value for k in (call.keywords if call else []) if k.arg == "name" and isinstance(k.value, ast.Constant)]
            found.append(DeclaredFunction(str(names[0]) if names else node.name, path, node.lineno))
    return found
