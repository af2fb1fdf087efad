"""A model's SQL means on every target what it means in the project's dialect.

sqlglot spells each construct in the target's syntax; where the dialects give the
same spelling different meanings (a division by type, a rounding of halves, the
size of a bare DECIMAL, a double's text, a fraction cast to an integer, a substring's positions,
a date format's codes, functions of one name and two meanings) each module here
writes the target's spelling of the project dialect's meaning, or refuses what
the target cannot mean.
"""

from __future__ import annotations

from sqlglot import exp

from featureduck.compiler.decimals import keep_decimal_sizes
from featureduck.compiler.division import keep_divisions
from featureduck.compiler.double_texts import keep_double_texts
from featureduck.compiler.function_meanings import keep_function_meanings
from featureduck.compiler.integer_casts import keep_integer_casts
from featureduck.compiler.rounding import keep_rounding
from featureduck.compiler.substrings import keep_substrings
from featureduck.compiler.time_formats import keep_time_formats


def keep_meaning(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree`, parsed in `dialect`, to mean the same when written for `target`."""
    keep_decimal_sizes(tree, dialect, target, path)  # first: `div()` parses as a cast of a quotient
    keep_double_texts(tree, dialect, target, path)  # before the rewrites that add casts of their own
    keep_rounding(tree, dialect, target, path)
    keep_integer_casts(tree, dialect, target, path)  # before divisions: its probe reads a division as written
    keep_divisions(tree, dialect, target, path)
    keep_substrings(tree, dialect, target, path)
    keep_function_meanings(tree, dialect, target, path)  # before formats: dayname() becomes one
    keep_time_formats(tree, dialect, target, path)
