"""Content hashes used for checksums, cache keys and state comparison."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(value: Any) -> str:
    """Hash of a JSON-serialisable value, independent of dict order."""
    return sha256_text(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")))
