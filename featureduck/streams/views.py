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

from dataclasses import dataclass, field
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
    _sql: dict[OnlineStore, tuple[str | None, str]] = field(default_factory=dict, init=False, compare=False, repr=False)

    def statements(self, store: OnlineStore) -> tuple[str | None, str]:
        """The DuckDB SQL each batch runs: the projection's view over the batch (None
        without one), then the newest rows encoded for `store`. Written once per stream:
        sqlglot takes milliseconds to write them, which every batch would pay."""
        found = self._sql.get(store)
        if found is None:
            relation = exp.to_table(BATCH_TABLE)
            projection = None
            if self.projection is not None:  # the model's rows for this batch
                relation = exp.table_(exp.to_identifier(f"__fd_projection_{self.online.table}", quoted=True))
                projection = exp.Create(this=relation.copy(), kind="VIEW", replace=True, expression=self.projection.copy(),
                                        properties=exp.Properties(expressions=[exp.TemporaryProperty()])).sql(dialect="duckdb")
            query = latest_rows(self.view, list(self.online.join_keys), relation, None)
            encoded = store.encoding(self.online, query) or query
            found = self._sql[store] = (projection, encoded.sql(dialect="duckdb"))
        return found


def write_views(decoder: duckdb.DuckDBPyConnection, store: OnlineStore, views: list[StreamView], rows: pyarrow.Table) -> int:
    """Upsert each view's newest rows of the batch; how many entity rows the store kept."""
    written = 0
    decoder.register(BATCH_TABLE, rows)
    try:
        for stream_view in views:
            projection, newest_rows = stream_view.statements(store)
            if projection is not None:
                decoder.execute(projection)
            newest = decoder.execute(newest_rows).to_arrow_table()
            written += store.write(stream_view.online, newest, full=False)
    finally:
        decoder.unregister(BATCH_TABLE)
    return written
