"""Durations written the way SLAs are: `7d`, `12h`, `30m`, `45s`, `2w`."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(value: str | int) -> int:
    """Seconds in a duration; a bare integer is seconds.

    >>> parse_duration("7d")
    604800
    """
    if isinstance(value, int):
        return value
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"'{value}' is not a duration like 7d, 12h, 30m or 45s")
    return int(match.group(1)) * _UNITS[match.group(2)]
