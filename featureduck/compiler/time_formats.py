"""A date format keeps its meaning when a model is compiled for another dialect.

sqlglot reads a format (`strftime(ts, '%d.%m.%Y')`, Postgres's `to_char(ts,
'DD.MM.YYYY')`, Spark's `date_format(ts, 'dd.MM.yyyy')`, and the parsing functions)
into strftime-like codes and writes each code in the target's pattern letters. Some
codes it writes with another meaning or none: `%u` becomes Postgres's `D` (Sunday
is 1 there, 7 in DuckDB), `%U` Postgres's `WW` (weeks counted from January 1st),
`%p` is written unchanged and printed as `%p`, Spark's `DD` is read as `%j`
without its third digit. Letters are literal text in DuckDB and patterns in
Postgres and Spark, so `strftime(ts, '%Y-%m-%dT%H')` printed `T` as a pattern on
Postgres, and a Spark or Postgres pattern sqlglot does not know (`Q`) stays a
letter DuckDB prints as is.

Each dialect's row (compiler.dialect_facts) lists the codes its functions read and
write with strftime's meaning, its own spelling of a few more, and how it quotes
literal text; those lists are checked on the engines by
tests/integration/cross_engine/test_time_formats_across_dialects.py. A format is
rewritten with the target's quoting of its literal text; a code either dialect
does not mean alike, a letter the project's dialect reads as a pattern sqlglot
does not know, and a format that is not a literal are compile errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NoReturn

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from featureduck.compiler.dialect_facts import DialectFacts, dialect_facts
from featureduck.compiler.parse import AS_WRITTEN, FORMATTED, located
from featureduck.errors import UnsupportedSqlError

_QUOTES = {"double_quoted": '"', "single_quoted": "'"}
_HINT = ("build the text from extract() parts (extract(isodow from ts), extract(week from ts)), "
         "or format with codes every dialect shares: %Y %m %d %H %M %S %f %j %y %b %B %a %A")


@dataclass(frozen=True)
class _Part:
    code: str | None  # a sqlglot format code, or None for literal text
    text: str  # the pattern as written, or the literal text (unquoted)
    own_spelling: bool = False  # written in the dialect's own spelling of the code (dialect_facts.format_spellings)


def keep_time_formats(tree: exp.Expr, dialect: str, target: str, path: str) -> None:
    """Rewrite `tree` (parsed in `dialect`) so each format means in `target` what it meant in `dialect`."""
    source, dest = dialect_facts(dialect), dialect_facts(target)
    if dialect == target:
        write_formats_as_written(tree)
        return
    if source is None or dest is None:
        return
    for node in tree.find_all(*FORMATTED):
        if node.args.get("format") is not None:
            _keep_format(node, dialect, target, source, dest, path)


def write_formats_as_written(tree: exp.Expr) -> None:
    """On its own dialect a format is written back as the model wrote it: sqlglot's round trip reads letters
    in quoted text as patterns (Spark's `'Day '` came back `'Dayyyy '`). Its writers map only `%` codes, so
    a text without `%` comes out unchanged."""
    for node in tree.find_all(*FORMATTED):
        written = node.args.get("format")
        as_written = written.meta.get(AS_WRITTEN) if isinstance(written, exp.Literal) else None
        if isinstance(as_written, str) and "%" not in as_written:
            node.set("format", exp.Literal.string(as_written))


def _keep_format(node: exp.Expr, dialect: str, target: str, source: DialectFacts, dest: DialectFacts, path: str) -> None:
    written = node.args["format"]
    if not (isinstance(written, exp.Literal) and written.is_string):
        raise UnsupportedSqlError(
            f"`{node.sql(dialect)}` takes its format from a value; the format's codes can only be checked and "
            f"written for {target} when it is a string literal", located(node, path), "write the format as a literal")
    shown = str(written.meta.get(AS_WRITTEN) or written.this)

    def refuse(why: str) -> NoReturn:
        raise UnsupportedSqlError(f"the format '{shown}': {why}, so it cannot be compiled for {target}",
                                  located(node, path), _HINT)

    parts = _parts(written, dialect, source, refuse)
    for part in parts:
        if part.code is not None and not ((part.own_spelling or part.code in source.format_codes) and _means(dest, part.code)):
            refuse(f"`{part.text}` does not mean the same on {target} as in {dialect} (or has no spelling there)")
    node.set("format", exp.Literal.string("".join(_written(part, dest, refuse) for part in parts)))


def _means(facts: DialectFacts, code: str) -> bool:
    """The dialect reads and writes the code with strftime's meaning, in sqlglot's letters or its own."""
    return code in facts.format_codes or code in facts.format_spellings


def _parts(written: exp.Literal, dialect: str, source: DialectFacts, refuse: Callable[[str], NoReturn]) -> list[_Part]:
    """The codes and the literal text of a format. From the text as the model wrote it (compiler.parse
    keeps it) where it is known: the dialect's patterns, its own spellings and its quoted text. Else from
    sqlglot's codes, where a code in quoted text was a letter sqlglot took for a pattern."""
    quote = _QUOTES.get(source.format_literals)
    as_written = written.meta.get(AS_WRITTEN)
    text = as_written if isinstance(as_written, str) else written.this
    patterns, own, matcher = _reading(dialect, isinstance(as_written, str))
    parts: list[_Part] = []
    index = 0
    while index < len(text):
        if quote is not None and text[index] == quote:
            literal, index = _quoted(text, index, quote, refuse)
            if not isinstance(as_written, str) and (matcher.search(literal) or "%" in literal):
                refuse(f"sqlglot read letters of quoted text as a pattern ({literal})")
            _add_literal(parts, literal)
            continue
        matched = matcher.match(text, index)
        if matched is not None:
            name = matched.group()
            code = patterns.get(name, name)
            if code == "%%":
                _add_literal(parts, "%")
            else:
                parts.append(_Part(code, name, name in own))
            index = matched.end()
            continue
        if quote is not None and text[index].isalpha():
            refuse(f"`{text[index]}` in the format is a pattern sqlglot does not write for other dialects")
        _add_literal(parts, text[index])
        index += 1
    return parts


def _add_literal(parts: list[_Part], text: str) -> None:
    """Literal text joins the literal before it: quoted apart, Spark would read the quotes between as one."""
    if parts and parts[-1].code is None:
        parts[-1] = _Part(None, parts[-1].text + text)
    else:
        parts.append(_Part(None, text))


@cache
def _reading(dialect: str, as_written: bool) -> tuple[dict[str, str], frozenset[str], re.Pattern[str]]:
    """How a format of `dialect` is read: its patterns to sqlglot's codes (as written: the dialect's letters
    and its own spellings; else sqlglot's codes themselves), the names that are its own spellings, and a
    matcher of the patterns, longest first (`FMDD` before `DD`), with strftime's `%` codes where the
    dialect writes those (DuckDB); elsewhere a `%` is literal text."""
    facts = dialect_facts(dialect)
    assert facts is not None
    mapping = Dialect.get_or_raise(dialect).TIME_MAPPING
    if as_written:
        patterns = {**mapping, **{name: code for code, name in facts.format_spellings.items()}}
        own = frozenset(facts.format_spellings.values())
    else:
        patterns, own = {code: code for code in mapping.values()}, frozenset()
    alternatives = [re.escape(name) for name in sorted(patterns, key=len, reverse=True)]
    if facts.format_literals == "as_is":
        alternatives += [r"%%", r"%-?[A-Za-z]"]
    return patterns, own, re.compile("|".join(alternatives))


def _quoted(text: str, start: int, quote: str, refuse: Callable[[str], NoReturn]) -> tuple[str, int]:
    """The literal text quoted from `start` and the index after its closing quote: Spark doubles a quote
    (`''` alone is one), Postgres escapes one with a backslash."""
    if quote == "'" and text[start + 1:start + 2] == "'":
        return "'", start + 2
    literal, index = "", start + 1
    while index < len(text):
        char = text[index]
        if quote == "'" and text[index:index + 2] == "''" or quote == '"' and char == "\\" and index + 1 < len(text):
            literal, index = literal + text[index + 1], index + 2
        elif char == quote:
            return literal, index + 1
        else:
            literal, index = literal + char, index + 1
    refuse(f"the quoted text {text[start:start + 12]} is not closed")


def _written(part: _Part, dest: DialectFacts, refuse: Callable[[str], NoReturn]) -> str:
    """The part as sqlglot's writer for the target must see it: a code it maps, or the target's own spelling
    (letters it passes through), or literal text in the target's quoting."""
    if part.code is not None:
        return dest.format_spellings.get(part.code, part.code)
    quote = _QUOTES.get(dest.format_literals)
    if quote is None:
        return part.text.replace("%", "%%")
    if "%" in part.text:
        refuse("a literal % cannot be written there")
    if not any(char.isalnum() or char in "'\"\\[]{}#" for char in part.text):
        return part.text
    if quote == "'":
        return "'" + part.text.replace("'", "''") + "'"
    return '"' + part.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
