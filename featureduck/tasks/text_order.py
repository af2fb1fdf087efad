"""A project's text compares and sorts on its target as in its dialect, or the run
stops and says why.

DuckDB and Spark compare text by its bytes; a Postgres database by the collation it
was created with, which for most (en_US.UTF-8, any ICU locale) puts 'a' before 'B'.
No session setting changes that, and a collation can only be named per value of a
known text type, so a DuckDB or Spark project's `order by name`, `min(name)` or
`name < 'm'` would give other rows there without a word. A target whose order
differs from the project dialect's is refused when a session opens, unless its
profile output accepts the database's order (`text_order: database`).
"""

from __future__ import annotations

from featureduck.compiler.dialect_facts import dialect_facts
from featureduck.config.profiles import TargetConfig
from featureduck.engines.base import EngineAdapter
from featureduck.errors import ProfileError

ACCEPTED = "database"  # the output's `text_order` that takes the database's order


def check_text_order(adapter: EngineAdapter, dialect: str, target: TargetConfig) -> None:
    facts = dialect_facts(dialect)
    if facts is None or facts.text_order != "bytes" or adapter.DIALECT == dialect:
        return  # a project in the target's own dialect means the target's order
    output = f"output '{target.name}'" + (f" of {target.profiles_file}" if target.profiles_file else "")
    accepted = target.settings.get("text_order")
    if accepted not in (None, ACCEPTED):
        raise ProfileError(f"{output}: text_order must be '{ACCEPTED}' (or absent), not {accepted!r}")
    collation = adapter.text_order()
    if collation is None or accepted == ACCEPTED:
        return
    raise ProfileError(
        f"{output}: the {adapter.DIALECT} database compares and sorts text by the collation {collation}, "
        f"where this {dialect} project's comparisons, ORDER BY and min()/max() of text mean byte order: the same models "
        "would give other rows",
        hint=f"build into a database created with a byte-order collation (CREATE DATABASE ... TEMPLATE template0 "
             f"LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'), or set `text_order: {ACCEPTED}` on the output to take its order",
    )
