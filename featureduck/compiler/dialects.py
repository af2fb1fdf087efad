"""Fixes to sqlglot's dialects, applied on import of any module that generates SQL.

sqlglot 30 quotes a Postgres identifier only when asked to, so a model, a
staged source or a column named after a reserved word (`user`, `order`,
`then`) came out bare and broke the statement. Its Postgres generator is
given PostgreSQL 15's reserved key words (Appendix C: "reserved" and
"reserved, can be function or type"), which it then quotes as its DuckDB
generator quotes DuckDB's. The class is compiled (mypyc), so it cannot be
subclassed: the attribute is set on it.
"""

from __future__ import annotations

from sqlglot.generators.postgres import PostgresGenerator

POSTGRES_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation
column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze
from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit
localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references
returning right select session_user similar some symmetric system_user table tablesample then to trailing true union
unique user using variadic verbose when where window with
""".split())

PostgresGenerator.RESERVED_KEYWORDS = set(POSTGRES_RESERVED)
