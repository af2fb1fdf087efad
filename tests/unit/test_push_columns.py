"""A push group's column-wise encoding against the per-row rules it replaces, on
seeded random values: `stamp_text` per timestamp, `orjson.dumps` per value and per
row's features, and a brute-force maximum per entity for the newest rows."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import orjson
import pyarrow
import pytest

from featureduck.online.base import OnlineView, stamp_text
from featureduck.online.embedded import ENCODED_KEY, ENCODED_VALUE, EmbeddedStore
from featureduck.streams.push_columns import json_texts, newest_per_entity, quoted_texts, stamp_texts

SEEDS = [11, 12, 13]
VIEW = OnlineView("clicks@1", "clicks", 1, ("user_id",), (), ())


def _moment(rng: random.Random) -> datetime.datetime:
    moment = datetime.datetime(rng.choice([1, 999, 1970, 2026, 9999]), rng.randrange(1, 13), rng.randrange(1, 29),
                               rng.randrange(24), rng.randrange(60), rng.randrange(60))
    return moment.replace(microsecond=rng.choice([0, 0, 500000, 100, 120000, 999999, rng.randrange(10 ** 6)]))


def _number(rng: random.Random) -> Any:
    return rng.choice([None, 0.0, -0.0, 1.0, 5e-324, 1.7976931348623157e308, 0.1, -2.5e-7, 1e16, 123456789.125,
                       rng.uniform(-1e6, 1e6), rng.randrange(-2 ** 63, 2 ** 63), rng.randrange(10), True, False])


def _text(rng: random.Random) -> Any:
    return rng.choice([None, "", "a,b", '"q"', "back\\slash", "é😀", "line\nbreak", "\x00\x1f", "},{", "null"])


@pytest.mark.parametrize("seed", SEEDS)
def test_stamp_texts_are_stamp_text_of_each(seed: int) -> None:
    rng = random.Random(seed)
    moments = [None if rng.random() < 0.05 else _moment(rng) for _ in range(3000)]
    texts = stamp_texts(pyarrow.array(moments, pyarrow.timestamp("us"))).to_pylist()
    assert texts == [None if m is None else stamp_text(m) for m in moments]
    quoted = quoted_texts(pyarrow.array(texts, pyarrow.string())).to_pylist()
    assert quoted == [orjson.dumps(t) for t in texts]


@pytest.mark.parametrize("seed", SEEDS)
def test_json_texts_are_each_value_dumped(seed: int) -> None:
    rng = random.Random(seed)
    numbers = [_number(rng) for _ in range(3000)]
    assert json_texts(numbers, scalar=True).to_pylist() == [orjson.dumps(v) for v in numbers]
    texts = [_text(rng) for _ in range(3000)]
    assert json_texts(texts, scalar=False).to_pylist() == [orjson.dumps(v) for v in texts]
    assert json_texts(numbers[:1], scalar=True).to_pylist() == [orjson.dumps(numbers[0])]


@pytest.mark.parametrize("seed", SEEDS)
def test_encoded_values_are_each_rows_stamp_and_features_dumped(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    store = EmbeddedStore({}, tmp_path)
    names = ["amount", 'say "hi"', "naïve", "n"]
    rows = [{"amount": _number(rng), 'say "hi"': _text(rng), "naïve": _text(rng), "n": _number(rng)} for _ in range(2000)]
    stamps = [stamp_text(_moment(rng)) for _ in rows]
    keys = [str(rng.randrange(10 ** 6)) for _ in rows]
    for count in (0, 1, len(names)):  # a view of no feature too
        fields = [(name, json_texts([row[name] for row in rows], scalar=name in ("amount", "n"))) for name in names[:count]]
        encoded = store.encode_rows(VIEW, pyarrow.array(keys), pyarrow.array(stamps), fields)
        assert encoded[ENCODED_KEY].to_pylist() == [key.encode() for key in keys]
        dumped = [orjson.dumps({name: row[name] for name in names[:count]}) for row in rows]
        assert encoded[ENCODED_VALUE].to_pylist() == [stamp.encode() + b"|" + text for stamp, text in zip(stamps, dumped, strict=True)]


def _newest_by_maximum(keys: list[str], stamps: list[int], values: list[int]) -> list[int]:
    """Brute force: each entity's rows, the greatest by (stamp, value, earliest pushed),
    the entities in the order of their keys' UTF-8 bytes."""
    rows: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        rows.setdefault(key, []).append(index)
    return [max(rows[key], key=lambda index: (stamps[index], values[index], -index)) for key in sorted(rows, key=str.encode)]


@pytest.mark.parametrize("seed", SEEDS)
def test_newest_per_entity_is_the_per_row_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        count = rng.choice([1, 2, 3, 50, 1600])
        keys = [rng.choice(["a", "b", "ab", "é", "z", "10", "9", "ä"]) + str(rng.randrange(count // 10 + 1)) for _ in range(count)]
        stamps = [rng.randrange(4) for _ in range(count)]  # many ties of one entity and one stamp
        values = [rng.randrange(3) for _ in range(count)]  # and of equal values: the first pushed stays
        chosen = newest_per_entity(keys, stamps, lambda index, other, values=values: values[index] > values[other])
        assert chosen == _newest_by_maximum(keys, stamps, values)
