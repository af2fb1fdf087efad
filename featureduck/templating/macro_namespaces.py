"""Macros by package, and `adapter.dispatch`, as dbt resolves them.

A bare name resolves to the root project's macro, else dbt's internal one
(featureduck ships its own versions, `featureduck/templating/macros/dbt/`).
Each package's macros are reached by its name (`dbt_utils.star(...)`); inside a
package a bare name means what it means to the project (as in dbt), else the
package's own macro (where dbt would fail). `adapter.dispatch`
searches the packages dbt would search (the project's `dispatch:` search
order for the namespace, else the root project and the namespace), trying
`<engine>__<name>` then `default__<name>` in each. The engine is the one the
project's SQL is written for (its dialect), since that is the SQL the
compiler parses before transpiling it to the target.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from featureduck.errors import TemplateError
from featureduck.utils.suggest import did_you_mean

INTERNAL = "dbt"


class MacroNamespace:
    """`<package>.<macro>`: one package's macros as attributes."""

    def __init__(self, package: str, macros: dict[str, Any]) -> None:
        self._package = package
        self._macros = macros

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._macros[name]
        except KeyError:
            raise TemplateError(f"package '{self._package}' has no macro '{name}'", hint=did_you_mean(name, self._macros)) from None

    def __contains__(self, name: str) -> bool:
        return name in self._macros


class MacroRegistry:
    """Every package's macros (INTERNAL: dbt's; the root project's live in the globals)."""

    def __init__(self, root: str, globals_: MutableMapping[str, Any], dialect: str,
                 search_orders: dict[str, list[str]]) -> None:
        self.root = root
        self.globals = globals_
        self.prefixes = [dialect, "default"]
        self.search_orders = search_orders
        self.packages: dict[str, dict[str, Any]] = {INTERNAL: {}, root: {}}

    def package(self, name: str) -> dict[str, Any]:
        """The macros of package `name` (created empty), reachable as `name.<macro>`."""
        macros = self.packages.setdefault(name, {})
        self.globals[name] = MacroNamespace(name, macros)
        return macros

    def get(self, package: str | None, name: str) -> Any:
        if package is None:
            return self.globals.get(name) if callable(self.globals.get(name)) else None
        return self.packages.get(package, {}).get(name)

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> Callable[..., Any]:
        if "." in macro_name:
            namespace, name = macro_name.split(".", 1)
            raise TemplateError(f"adapter.dispatch got '{macro_name}': write adapter.dispatch('{name}', macro_namespace='{namespace}')")
        search: list[str | None] = [None]
        if macro_namespace is not None:
            if macro_namespace in self.search_orders:
                search = list(self.search_orders[macro_namespace])
            elif macro_namespace in self.packages and macro_namespace not in (INTERNAL, self.root):
                search = [self.root, macro_namespace]
            elif macro_namespace == INTERNAL:
                search = [None, INTERNAL]
        tried = []
        for package in search:
            for prefix in self.prefixes:
                candidate = f"{prefix}__{macro_name}"
                macro = self.get(package, candidate)
                if macro is not None:
                    return macro  # type: ignore[no-any-return]
                tried.append(candidate if package is None else f"{package}.{candidate}")
        raise TemplateError(f"adapter.dispatch found no macro '{macro_name}' in namespace '{macro_namespace}'",
                            hint="searched for " + ", ".join(tried))
