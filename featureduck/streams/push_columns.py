"""A push group's online rows worked out column by column in Arrow: the newest row
per entity, the stamp text and the features' JSON text the embedded store keeps.

A group holds hundreds to thousands of rows (every push that arrived during the
previous commit), and per-row Python costs a few microseconds per step: formatting
one timestamp or dumping one small dict each cost more than Arrow takes for the
whole column. Each function here gives exactly what the per-row rule gives
(`online.base.stamp_text`, `orjson.dumps` of each value, the newest-wins
rule of `OnlineStore.write`); the differential tests in
tests/unit/test_push_columns.py hold them to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import pyarrow


def stamp_texts(stamps: pyarrow.Array) -> pyarrow.Array:
    """Naive timestamp[us] values as `stamp_text` writes each (`2026-01-01 10:00:00.5`).
    Arrow writes all six fraction digits, so trimming the zeros, then a point left
    alone, never reaches the seconds (a regex costs three times as much)."""
    import pyarrow
    import pyarrow.compute as pc

    return pc.ascii_rtrim(pc.ascii_rtrim(pc.cast(stamps, pyarrow.string()), "0"), ".")


def json_texts(values: list[Any], scalar: bool, jsonable: Callable[[Any], Any] | None = None) -> pyarrow.Array:
    """Each value's JSON text, as `orjson.dumps(value)`. `scalar`: numbers, booleans and
    nulls only, whose texts hold no comma, so one dump of the whole list splits into them."""
    import pyarrow
    import pyarrow.compute as pc

    if scalar:
        listed = orjson.dumps(values)[1:-1]
        return pc.split_pattern(pyarrow.array([listed], pyarrow.binary()), b",").flatten()
    if jsonable is not None:
        return pyarrow.array([orjson.dumps(jsonable(v)) for v in values], pyarrow.binary())
    return pyarrow.array([orjson.dumps(v) for v in values], pyarrow.binary())


def quoted_texts(texts: pyarrow.Array) -> pyarrow.Array:
    """Texts that need no escapes (stamp texts) as JSON strings, null as `null`."""
    import pyarrow
    import pyarrow.compute as pc

    binary = pyarrow.binary()
    quote = pyarrow.scalar(b'"', binary)
    joined = pc.binary_join_element_wise(quote, pc.cast(texts, binary), quote, pyarrow.scalar(b"", binary))
    return pc.fill_null(joined, pyarrow.scalar(b"null", binary))


def newest_per_entity(keys: pyarrow.Array, stamps: pyarrow.Array, greater: Callable[[int, int], bool]) -> list[int]:
    """The index of each entity's newest row, in the order of the keys' UTF-8 bytes (the
    store's order). Among rows of one entity and one stamp, `greater(index, other)`
    decides; of equal rows the first pushed is kept."""
    import pyarrow
    import pyarrow.compute as pc

    # stable: rows of one key and stamp stay in the order they were pushed
    order = pc.sort_indices(pyarrow.table({"key": keys, "stamp": stamps}),
                            sort_keys=[("key", "ascending"), ("stamp", "descending")])
    if len(order) < 2:
        return order.to_pylist()
    keys, stamps = keys.take(order), stamps.take(order)
    same_key = pc.equal(keys[1:], keys[:-1])
    tied = pc.and_(same_key, pc.equal(stamps[1:], stamps[:-1]))
    first = pyarrow.concat_arrays([pyarrow.array([True]), pc.invert(same_key)])
    if not pc.any(tied).as_py():
        return order.filter(first).to_pylist()
    positions, starts, ties = order.to_pylist(), first.to_pylist(), [False, *tied.to_pylist()]
    chosen: list[int] = []
    on_top = False  # the row is tied with its entity's newest
    for position, index in enumerate(positions):
        if starts[position]:
            chosen.append(index)
            on_top = True
        elif on_top and ties[position]:
            if greater(index, chosen[-1]):
                chosen[-1] = index
        else:
            on_top = False
    return chosen
