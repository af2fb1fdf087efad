"""Credentials never reach the terminal: every line the CLI writes passes through
`mask_secrets`, which hides the password of any connection string it sees (a
URI's `user:password@`, a `password=...` pair) and every password featureduck
read from a profile or a source (`remember_secret`), wherever it appears.

>>> mask_secrets("postgresql://app:hunter2@db:5432/x and host=db password='a b' user=app")
'postgresql://app:****@db:5432/x and host=db password=**** user=app'
"""

from __future__ import annotations

import re
import threading
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

MASK = "****"
# Shorter remembered passwords are masked only where they stand in a connection
# string: hiding every occurrence of a short common word would garble output.
_REMEMBERED_MIN_LENGTH = 6

_URI_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s:/@'\"]*:)([^\s@'\"]+)(@)")
_KEY_PASSWORD = re.compile(
    r"""(?i)(\b(?:password|passwd|pwd|secret|token|api_key|apikey)["']?\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;'"}\])&]+)"""
)
_remembered: set[str] = set()
_lock = threading.Lock()


def remember_secret(connection: str, bare: bool = True) -> None:
    """Note the password inside a connection string (URI or key=value pairs), and
    the whole string where it is a bare secret (a token) and `bare`, so it is
    masked anywhere."""
    found = [m.group(2) for m in _URI_PASSWORD.finditer(connection)]
    found += [m.group(2).strip("'\"") for m in _KEY_PASSWORD.finditer(connection)]
    if "://" in connection:
        try:
            password = urlsplit(connection).password
        except ValueError:
            password = None
        if password:
            found += [password, unquote(password)]
    elif bare and not found and " " not in connection.strip() and "=" not in connection:
        found.append(connection.strip())  # a token or password given alone
    with _lock:
        _remembered.update(s for s in found if len(s) >= _REMEMBERED_MIN_LENGTH and s != MASK)


def mask_secrets(text: str) -> str:
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _KEY_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    with _lock:
        remembered = sorted(_remembered, key=len, reverse=True)
    for secret in remembered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def masked_value(value: Any) -> Any:
    """A setting with every string inside it masked (nested mappings and lists too)."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {k: masked_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_value(v) for v in value]
    return value


class MaskingStream:
    """A text stream that masks what is written to the one it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_secrets(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
