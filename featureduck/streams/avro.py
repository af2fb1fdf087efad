"""Avro messages as the JSON the decoder reads (streams.decode), with fastavro.

Without a registry, a message is plain Avro of the table's `.avsc`. With
`schema_registry`, every message is in Confluent's framing (a zero byte, then
the writer schema's 4-byte id), read with the schema the registry holds under
that id (fetched once per id) and, when the table also gives an `.avsc`,
resolved to it as the reader schema (Avro's schema evolution). A message that cannot be read
(bytes that are not Avro of that schema, an id the registry does not know) is a
dead letter with why; a registry that cannot be reached stops the stream, since
every message after would be refused for it.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import math
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import orjson

from featureduck.config.profiles import render_env_vars
from featureduck.errors import ConnectionFailure
from featureduck.project.nodes import SourceTable

_MAGIC = 0
REGISTRY_TIMEOUT = 10.0


class AvroReader:
    def __init__(self, table: SourceTable, project_root: Path) -> None:
        import fastavro

        assert table.stream is not None
        self.table = table
        spec = table.stream
        self._schema = fastavro.parse_schema(json.loads((project_root / spec.avro_schema).read_text())) if spec.avro_schema else None
        location = spec.settings_location
        self._registry = (str(render_env_vars(spec.schema_registry, location.file, location.line or 0)).rstrip("/")
                          if spec.schema_registry else None)
        self._by_id: dict[int, Any] = {}

    def to_json(self, values: list[bytes | None]) -> tuple[list[bytes | None], list[str | None]]:
        """Each message as JSON bytes (None for a null value), and why one could not be read."""
        import fastavro

        decoded: list[bytes | None] = []
        faults: list[str | None] = []
        for value in values:
            if value is None:
                decoded.append(None)
                faults.append(None)
                continue
            try:
                schema, body = self._writer(value)
                record = fastavro.schemaless_reader(io.BytesIO(body), schema, self._schema if schema is not self._schema else None)
                decoded.append(orjson.dumps(_finite(record), default=_plain, option=orjson.OPT_PASSTHROUGH_DATETIME))
                faults.append(None)
            except _Unreadable as err:
                decoded.append(None)
                faults.append(str(err))
            except Exception as err:  # noqa: BLE001 - fastavro's errors for bytes that are not Avro of the schema
                decoded.append(None)
                faults.append(f"not Avro of its schema: {type(err).__name__}: {err}"[:200])
        return decoded, faults

    def _writer(self, value: bytes) -> tuple[Any, bytes]:
        """The message's writer schema and its Avro bytes."""
        if self._registry is None:
            return self._schema, value
        if len(value) < 5 or value[0] != _MAGIC:
            raise _Unreadable("not in Confluent's framing (a zero byte, then the schema id), which a schema_registry reads")
        return self._registered(int.from_bytes(value[1:5], "big")), value[5:]

    def _registered(self, schema_id: int) -> Any:
        import fastavro

        found = self._by_id.get(schema_id)
        if found is not None:
            return found
        url = f"{self._registry}/schemas/ids/{schema_id}"
        try:
            with urllib.request.urlopen(url, timeout=REGISTRY_TIMEOUT) as response:
                written = json.loads(response.read())["schema"]
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise _Unreadable(f"schema id {schema_id} is not in the registry") from None
            raise ConnectionFailure(f"schema registry {self._registry}: {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError) as err:
            raise ConnectionFailure(f"schema registry {self._registry} cannot be reached: {err}",
                                    self.table.stream.settings_location if self.table.stream else None) from None
        parsed = self._by_id[schema_id] = fastavro.parse_schema(json.loads(written))
        return parsed


class _Unreadable(Exception):
    """A message that is not Avro this reader can read: a dead letter."""


def _plain(value: Any) -> Any:
    """Avro's logical values as JSON: decimals and UUIDs as text, bytes as base64, times
    ISO by Python (orjson 3.13 writes a time's microseconds below 100,000 without their
    leading zero: 06:25:41.31765 for .031765)."""
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, (datetime.date, datetime.time)):  # a datetime is a date
        return value.isoformat()
    raise TypeError(type(value).__name__)


_NOT_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _finite(value: Any) -> Any:
    """NaN and the infinities as the text DuckDB casts to them: JSON has no such number,
    and orjson would write null, a missing value where the message holds one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NOT_FINITE[str(value)]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
