"""A batch of JSON messages as the Kafka reader hands it to the decoder, decoded by
the query a source table's declaration compiles to: the unit tests of stream values
check what that query makes of each encoding without a broker."""

from __future__ import annotations

from typing import Any

import duckdb
import orjson
import pyarrow

from featureduck.api import Project
from featureduck.streams.decode import RAW_TABLE, decode_query
from tests.conftest import ProjectFactory


def decoded_batch(make_project: ProjectFactory, sources_yaml: str, table: str, messages: list[dict[str, Any]]) -> pyarrow.Table:
    """The rows `messages` decode to as values of the `app` source's `table`, read in UTC."""
    project = Project.load(make_project({"models/sources.yml": sources_yaml}))
    declared = project.definition.sources[("app", table)]
    raw = pyarrow.table({
        "partition": pyarrow.array([0] * len(messages), pyarrow.int32()),
        "offset": pyarrow.array(range(len(messages)), pyarrow.int64()),
        "timestamp": pyarrow.array([-1] * len(messages), pyarrow.int64()),
        "key": pyarrow.array([b"k"] * len(messages), pyarrow.binary()),
        "value": pyarrow.array([orjson.dumps(m) for m in messages], pyarrow.binary()),
    })
    with duckdb.connect() as decoder:
        decoder.execute("SET TimeZone = 'UTC'")
        decoder.register(RAW_TABLE, raw)
        query = decode_query(declared, project.definition.config.dialect).sql(dialect="duckdb")
        return decoder.execute(query).to_arrow_table()
