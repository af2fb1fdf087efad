"""Arrays and bytes in JSON messages, read as what they hold: a JSON array by JSON's
escapes, every element there or the message refused (DuckDB's own cast would make a
bad element NULL, or 1.5 into 2); bytes in base64, never the text's own characters."""

from __future__ import annotations

import base64
from typing import Any

import pyarrow
import pytest

from featureduck.streams.decode import ERROR
from tests.conftest import ProjectFactory
from tests.stream_batches import decoded_batch

SOURCE = """
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: localhost:9092}}
    tables:
      - name: events
        format: {format}
        key: [id]
        columns: {{id: bigint, names: "varchar[]", counts: "integer[]", grid: "integer[][]", data: blob}}
        {options}
"""


def _decoded(make_project: ProjectFactory, messages: list[dict[str, Any]], fmt: str = "json", options: str = "") -> pyarrow.Table:
    return decoded_batch(make_project, SOURCE.format(format=fmt, options=options), "events", messages)


def test_arrays_keep_json_escapes_and_nulls(make_project: ProjectFactory) -> None:
    names = ["new\nline", 'q"uote', "it's", "a'b,c'd", "back\\", "NULL", None, "{x}", "é"]
    decoded = _decoded(make_project, [{"id": 1, "names": names, "counts": [1, None, -3], "grid": [[1, 2], [], [None]]},
                                      {"id": 2, "names": [], "counts": [], "grid": []}])
    assert decoded.column(ERROR).to_pylist() == [None, None]
    assert decoded.column("names").to_pylist() == [names, []]
    assert decoded.column("counts").to_pylist() == [[1, None, -3], []]
    assert decoded.column("grid").to_pylist() == [[[1, 2], [], [None]], []]


@pytest.mark.parametrize(("column", "value"), [
    ("counts", [1, 1.5]),  # rounded, it would be 2
    ("counts", [1, "x"]),  # a NULL in its place
    ("counts", "1, 2"),
    ("grid", [1, 2]),  # one dimension for two
    ("grid", [[1], 2]),
    ("names", "[a, b]"),  # DuckDB's list text, no JSON array
])
def test_an_array_that_does_not_read_whole_is_a_dead_letter(make_project: ProjectFactory, column: str, value: Any) -> None:
    decoded = _decoded(make_project, [{"id": 1, column: value}])
    [error] = decoded.column(ERROR).to_pylist()
    assert error is not None and error.startswith(f"column '{column}': "), error


def test_bytes_are_base64(make_project: ProjectFactory) -> None:
    sent = [b"", b"\x00\x01\xff", "é".encode()]
    decoded = _decoded(make_project, [{"id": i, "data": base64.b64encode(b).decode()} for i, b in enumerate(sent)]
                       + [{"id": 9, "data": "\\x0102"}])
    assert decoded.column("data").to_pylist()[:3] == sent
    assert decoded.column(ERROR).to_pylist() == [None, None, None, "column 'data': \\x0102 is not a BLOB"]


@pytest.mark.parametrize(("mode", "text"), [
    ("bytes", base64.b64encode(b"\xfb\xff\x01").decode()), ("base64", base64.b64encode(b"\xfb\xff\x01").decode()),
    ("base64-url-safe", base64.urlsafe_b64encode(b"\xfb\xff\x01").decode().rstrip("=")), ("hex", "fbff01"),
])
def test_debezium_bytes_are_read_in_the_binary_handling_mode(make_project: ProjectFactory, mode: str, text: str) -> None:
    decoded = _decoded(make_project, [{"op": "c", "after": {"id": 1, "names": None, "counts": None, "grid": None, "data": text},
                                       "source": {"lsn": 1}}], "debezium",
                       f"options: {{binary_handling: {mode}}}")
    assert decoded.column(ERROR).to_pylist() == [None]
    assert decoded.column("data").to_pylist() == [b"\xfb\xff\x01"]
