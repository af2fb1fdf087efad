"""Updates that do not carry a value they left unchanged (Postgres's unchanged TOAST
values): which columns a Debezium change marks so, in each of Debezium's forms, and
the value each key's last change then keeps, decoded and resolved by a real DuckDB
as `fduck stream` does (streams.decode, streams.mirror)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import duckdb
import orjson
import pyarrow
import pytest

from featureduck.api import Project
from featureduck.streams.decode import ERROR, RAW_TABLE, UNCHANGED, decode_query
from featureduck.streams.landing import landing_tables
from featureduck.streams.mirror import last_changes
from tests.conftest import ProjectFactory

SOURCE = """
sources:
  - name: app
    type: kafka
    connection: {{bootstrap_servers: localhost:9092}}
    tables:
      - name: users
        format: debezium
        key: [id]
        columns: {{id: bigint, name: varchar, n: integer, tags: "varchar[]", data: blob, seen_at: timestamp}}
        {options}
"""
PLACEHOLDER = "__debezium_unavailable_value"


def _changes(make_project: ProjectFactory, events: list[dict[str, Any]], options: str = "") -> tuple[pyarrow.Table, Any]:
    project = Project.load(make_project({"models/sources.yml": SOURCE.format(options=options)}))
    table = project.definition.sources[("app", "users")]
    dialect = project.definition.config.dialect
    raw = pyarrow.table({
        "partition": pyarrow.array([0] * len(events), pyarrow.int32()),
        "offset": pyarrow.array(range(len(events)), pyarrow.int64()),
        "timestamp": pyarrow.array([-1] * len(events), pyarrow.int64()),
        "key": pyarrow.array([orjson.dumps({"id": (e["after"] or e["before"])["id"]}) for e in events], pyarrow.binary()),
        "value": pyarrow.array([orjson.dumps(e) for e in events], pyarrow.binary()),
    })
    decoder = duckdb.connect()
    decoder.execute("SET TimeZone = 'UTC'")
    decoder.register(RAW_TABLE, raw)
    decoded = decoder.execute(decode_query(table, dialect).sql(dialect="duckdb")).to_arrow_table()
    decoder.unregister(RAW_TABLE)
    assert decoded.column(ERROR).null_count == decoded.num_rows, decoded.column(ERROR).to_pylist()  # no dead letter
    return decoded, last_changes(decoder, table, landing_tables(table, dialect), decoded)


def _row(key: int, **values: Any) -> dict[str, Any]:
    return {"id": key, "name": "ann", "n": 1, "tags": ["a"], "data": base64.b64encode(b"\x01").decode(), "seen_at": None,
            **values}


def test_each_form_of_the_placeholder_marks_its_column_unchanged(make_project: ProjectFactory) -> None:
    events = [{"op": "u", "before": None, "after": _row(1, name=PLACEHOLDER, n=2, tags=[PLACEHOLDER],
                                                        data=base64.b64encode(PLACEHOLDER.encode()).decode())},
              {"op": "u", "before": None, "after": _row(2, n=PLACEHOLDER)},  # not a TOAST value's type, but told the same way
              # a key's change is a delete and a create, which carries the update's placeholders
              {"op": "c", "before": None, "after": _row(3, name=PLACEHOLDER)},
              {"op": "c", "before": None, "after": _row(4)}]
    decoded, changes = _changes(make_project, events)
    assert decoded.column(UNCHANGED).to_pylist() == [["name", "tags", "data"], ["n"], ["name"], None]
    assert decoded.column("name").to_pylist() == [None, "ann", None, "ann"]
    assert changes.rows.column("id").to_pylist() == [4]
    kept = {columns: rows.column("id").to_pylist() for columns, rows in changes.keeping.items()}
    assert kept == {("name", "tags", "data"): [1], ("n",): [2], ("name",): [3]}
    assert changes.keeping[("n",)].column("name").to_pylist() == ["ann"]  # what the update carries, it sets


@pytest.mark.parametrize("placeholder", ["unavailable!", "__debezium_unavailable_value"])
def test_a_value_left_unchanged_is_the_last_one_the_batch_carries(make_project: ProjectFactory, placeholder: str) -> None:
    options = "" if placeholder == PLACEHOLDER else f"options: {{unavailable_value_placeholder: '{placeholder}'}}"
    events = [
        {"op": "c", "before": None, "after": _row(1, name="first")},
        {"op": "u", "before": None, "after": _row(1, name=placeholder, n=5)},
        {"op": "u", "before": None, "after": _row(1, name=None, n=6)},  # set to NULL: carried, not left unchanged
        {"op": "u", "before": None, "after": _row(1, name=placeholder, n=7)},
        {"op": "c", "before": None, "after": _row(2, name="second")},
        {"op": "d", "before": {"id": 2}, "after": None},
        {"op": "c", "before": None, "after": _row(2, name=None)},
        {"op": "u", "before": None, "after": _row(2, name=placeholder, n=9)},
    ]
    _, changes = _changes(make_project, events, options)
    assert not changes.keeping
    rows = sorted(zip(*(changes.rows.column(c).to_pylist() for c in ("id", "name", "n")), strict=True))
    assert rows == [(1, None, 7), (2, None, 9)]


def test_a_delete_after_an_unchanged_value_deletes(make_project: ProjectFactory) -> None:
    events = [{"op": "u", "before": None, "after": _row(1, name=PLACEHOLDER)},
              {"op": "d", "before": {"id": 1}, "after": None}]
    _, changes = _changes(make_project, events)
    assert not changes.keeping and changes.rows.column("_cdc_op").to_pylist() == ["d"]



@pytest.mark.parametrize(("options", "sent", "stamp"), [
    ("", 1_767_225_601_000_000, "2026-01-01 00:00:01"),  # Debezium's MicroTimestamp
    ("options: {timestamp_unit: milliseconds}", 1_768_225_600_000, "2026-01-12 13:46:40"),  # its Timestamp
])
def test_a_timestamp_sent_as_a_number_counts_the_unit_of_the_option(make_project: ProjectFactory, options: str, sent: int,
                                                                    stamp: str) -> None:
    decoded, _ = _changes(make_project, [{"op": "c", "before": None, "after": _row(1, seen_at=sent)}], options)
    assert decoded.column("seen_at").to_pylist() == [datetime.datetime.fromisoformat(stamp)]
