"""Whether a person watches: long work shows progress on a terminal, and is quiet when piped."""

from __future__ import annotations

import sys


def on_terminal() -> bool:
    return sys.stdout.isatty()


def duckdb_progress_setting() -> str:
    """The SET statement that gives a DuckDB connection of our own its progress bar
    (printed for queries over two seconds) exactly when a person watches."""
    return f"SET enable_progress_bar = {'true' if on_terminal() else 'false'}"
