"""Stream feature views: a batch's newest row per entity into the online store.

The newest row is chosen by `fduck materialize`'s own query (`latest_rows`:
the latest event time, ties broken by the greatest features in their declared
order, NULL lowest), run by the stream's in-process DuckDB over the batch.
Against what the store holds the same rule decides: an incoming row replaces
the stored one only when it is later, or as late with greater features, so a
late, older event never overwrites a newer value, a batch written twice
changes nothing, and the stream leaves what `materialize --full` of the
landing table would.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlglot import exp

from featureduck.online.base import FEATURE_TS, OnlineRow, OnlineStore, OnlineView, entity_key_expression
from featureduck.online.materialize import latest_rows
from featureduck.project.nodes import FeatureView

if TYPE_CHECKING:
    import duckdb
    import pyarrow

BATCH_TABLE, NEWEST_TABLE = "__fd_stream_batch", "__fd_stream_newest"
_KEY, _FEATURES = "__fd_key_text", "__fd_features_json"


@dataclass(frozen=True)
class StreamView:
    view: FeatureView
    online: OnlineView


def write_views(decoder: duckdb.DuckDBPyConnection, store: OnlineStore, views: list[StreamView], rows: pyarrow.Table) -> int:
    """Upsert each view's newest rows of the batch that win over the stored ones; how
    many entity rows were written."""
    written = 0
    decoder.register(BATCH_TABLE, rows)
    try:
        for stream_view in views:
            winners = _winners(decoder, store, stream_view, rows)
            if winners.num_rows:
                decoder.register(NEWEST_TABLE, winners)
                try:
                    query = exp.select("*").from_(NEWEST_TABLE)
                    encoded = store.encoding(stream_view.online, query)
                    ready = decoder.execute(encoded.sql(dialect="duckdb")).to_arrow_table() if encoded is not None else winners
                finally:
                    decoder.unregister(NEWEST_TABLE)
                written += store.write(stream_view.online, ready, full=False)
    finally:
        decoder.unregister(BATCH_TABLE)
    return written


def _winners(decoder: duckdb.DuckDBPyConnection, store: OnlineStore, stream_view: StreamView, rows: pyarrow.Table) -> pyarrow.Table:
    """The batch's newest row per entity, without those the stored row beats."""
    import pyarrow

    online = stream_view.online
    newest = latest_rows(stream_view.view, list(online.join_keys), exp.to_table(BATCH_TABLE), None)
    struct = exp.func("struct_pack", *[
        exp.PropertyEQ(this=exp.to_identifier(f, quoted=True), expression=exp.column(f, quoted=True)) for f in online.features
    ])
    described = exp.select(
        "*", exp.alias_(entity_key_expression(list(online.join_keys)), _KEY),
        exp.alias_(exp.cast(exp.func("to_json", struct), "VARCHAR"), _FEATURES),
    ).from_(newest.subquery("newest"))
    table = decoder.execute(described.sql(dialect="duckdb")).to_arrow_table()
    stored = store.read(online, table.column(_KEY).to_pylist())
    stamps, features = table.column(FEATURE_TS).to_pylist(), table.column(_FEATURES).to_pylist()
    keep = [_wins(stamp, feats, held, online.features) for stamp, feats, held in zip(stamps, features, stored, strict=True)]
    return table.filter(pyarrow.array(keep, pyarrow.bool_())).drop_columns([_KEY, _FEATURES])


def _wins(stamp: datetime.datetime, features: str, held: OnlineRow | None, names: tuple[str, ...]) -> bool:
    """Whether a row replaces the stored one: it is later, or as late with greater features."""
    if held is None:
        return True
    held_stamp = datetime.datetime.fromisoformat(held.feature_ts)
    if stamp != held_stamp:
        return stamp > held_stamp
    if features == held.features:  # the same row again (a retried batch): nothing to write
        return False
    return _order(orjson.loads(features), names) > _order(orjson.loads(held.features), names)


def _order(values: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    """The features in declared order, NULL lowest: the tie rule of `latest_rows`.
    Values that do not compare with each other (lists, objects) compare as JSON text."""
    return tuple((0,) if values.get(n) is None else (1, _comparable(values[n])) for n in names)


def _comparable(value: Any) -> Any:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if isinstance(value, (list, dict)) else value
