"""Stream feature views: a batch's newest row per entity into the online store.

The newest row is chosen by `fduck materialize`'s own query (`latest_rows`:
the latest event time, ties broken by the greatest features in their declared
order, NULL lowest), run by the stream's in-process DuckDB over the batch, and
written incrementally: the store keeps a stored row unless the incoming one is
later, or as late with greater features (OnlineStore.write), so a late, older
event never overwrites a newer value, a batch written twice changes nothing,
and the stream leaves what `materialize --full` of the landing table would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from featureduck.online.base import OnlineStore, OnlineView
from featureduck.online.materialize import latest_rows
from featureduck.project.nodes import FeatureView

if TYPE_CHECKING:
    import duckdb
    import pyarrow

BATCH_TABLE = "__fd_stream_batch"


@dataclass(frozen=True)
class StreamView:
    view: FeatureView
    online: OnlineView
    projection: exp.Select | None = None  # a view over a model: the model's row-wise projection over BATCH_TABLE


def write_views(decoder: duckdb.DuckDBPyConnection, store: OnlineStore, views: list[StreamView], rows: pyarrow.Table) -> int:
    """Upsert each view's newest rows of the batch; how many entity rows the store kept."""
    written = 0
    decoder.register(BATCH_TABLE, rows)
    try:
        for index, stream_view in enumerate(views):
            online = stream_view.online
            relation = exp.to_table(BATCH_TABLE)
            if stream_view.projection is not None:  # the model's rows for this batch
                relation = exp.to_table(f"__fd_projection_{index}")
                view = exp.Create(this=relation.copy(), kind="VIEW", replace=True, expression=stream_view.projection.copy(),
                                  properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
                decoder.execute(view.sql(dialect="duckdb"))
            query = latest_rows(stream_view.view, list(online.join_keys), relation, None)
            encoded = store.encoding(online, query) or query
            newest = decoder.execute(encoded.sql(dialect="duckdb")).to_arrow_table()
            written += store.write(online, newest, full=False)
    finally:
        decoder.unregister(BATCH_TABLE)
    return written
