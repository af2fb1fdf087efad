"""Content hashes used for checksums, cache keys and state comparison."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(value: Any) -> str:
    """Hash of a JSON-serialisable value, independent of dict order."""
    return sha256_text(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")))


# Files up to this size are versioned by their content; larger ones by size and mtime.
CONTENT_HASHED_BYTES = 4 << 20
# A file changed this recently may change again within the file system's timestamp
# granularity without its mtime moving ("racy git"): its content is hashed too.
RACY_SECONDS = 2.0


def file_version(path: str) -> list[Any]:
    """What changes whenever a file's bytes may have: its size, and its content's
    hash when it is small or was written in the last seconds, else its mtime."""
    stat = os.stat(path)
    fresh = time.time() - stat.st_mtime < RACY_SECONDS
    if stat.st_size > CONTENT_HASHED_BYTES and not fresh:
        return [stat.st_size, stat.st_mtime_ns]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return [stat.st_size, digest.hexdigest()]
