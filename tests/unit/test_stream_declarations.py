"""Stream sources and stream feature views as YAML declares them: what loads, and the
errors (naming the file) for what cannot be streamed."""

from __future__ import annotations

import pytest

from featureduck.api import Project
from featureduck.errors import FeatureDuckError
from featureduck.project.nodes import MESSAGE_TIMESTAMP
from tests.conftest import OFFLINE_PROFILES, ProjectFactory

SOURCE = """
sources:
  - name: clicks
    type: kafka
    connection: {{bootstrap_servers: "{{{{ env_var('KAFKA_BOOTSTRAP', 'localhost:9092') }}}}", security_protocol: plaintext}}
    tables:
      - name: events
        {table}
"""
TYPED = "columns: {user_id: bigint, event_ts: timestamp, amount: double}\n        key: [user_id]"
VIEW = """
entities: [{{name: user, join_keys: [user_id]}}]
feature_views:
  - {{name: clicks, entity: user, {reads}, timestamp_field: event_ts, {flags}, features: [{{name: amount, dtype: double}}]}}
"""


def _load(make_project: ProjectFactory, table: str, view: str = "") -> Project:
    return Project.load(make_project({"models/sources.yml": SOURCE.format(table=table) + view}))


def test_a_kafka_table_lands_typed_columns_from_its_topic(make_project: ProjectFactory) -> None:
    project = _load(make_project, TYPED + "\n        topic: clicks.events\n        timestamp_field: event_ts",
                    VIEW.format(reads="source: clicks.events", flags="stream: true, online: true"))
    table = project.definition.sources[("clicks", "events")]
    assert table.stream is not None and table.stream.topic == "clicks.events" and table.stream.key == ("user_id",)
    assert table.stream.format == "json" and "{{" in table.stream.settings["bootstrap_servers"]  # rendered when streaming
    assert [(c.name, c.data_type) for c in table.columns.values()] == [("user_id", "bigint"), ("event_ts", "timestamp"),
                                                                        ("amount", "double")]
    view = next(iter(project.definition.feature_views.values()))
    assert view.source == ("clicks", "events") and view.stream and view.model is None


def test_without_a_timestamp_field_rows_are_stamped_with_the_message_time(make_project: ProjectFactory) -> None:
    table = _load(make_project, TYPED).definition.sources[("clicks", "events")]
    assert table.timestamp_field == MESSAGE_TIMESTAMP and table.stream is not None and table.stream.topic == "events"


@pytest.mark.parametrize(("table", "view", "message"), [
    ("columns: {user_id: bigint, amount: }", "", "column 'amount' has no type"),
    ("key: [user_id]", "", "declares no columns"),
    (TYPED.replace("key: [user_id]", "key: [id]"), "", "key column 'id' is not among its columns"),
    (TYPED + "\n        timestamp_field: ts", "", "timestamp_field 'ts' is not among its columns"),
    (TYPED + "\n        format: protobuf", "", "sources.0.tables.0.format"),
    (TYPED + "\n        format: avro", "", "reads Avro messages: give their schema"),
    (TYPED + "\n        path: data/x.json", "", "is a stream: it takes a topic"),
    (TYPED, VIEW.format(reads="source: clicks.nothing", flags="stream: true, online: true"), "unknown source 'clicks.nothing'"),
    (TYPED, VIEW.format(reads="source: clicks.events", flags="stream: true"), "is `stream: true` but not online"),
    (TYPED, VIEW.format(reads="model: m, source: clicks.events", flags="online: true"), "names both a model and a source"),
    (TYPED, VIEW.format(reads="source: clicks", flags="online: true"), "is not `<source>.<table>`"),
    (TYPED + "\n        options: {timestamp_unit: milliseconds}", "", "option 'timestamp_unit' is not read for format json"),
    (TYPED + "\n        format: debezium\n        options: {timestamp_unit: seconds}", "", "option timestamp_unit is 'seconds'"),
    (TYPED + "\n        format: debezium\n        options: {unavailable: x}", "", "option 'unavailable' is not read for format debezium"),
])
def test_what_cannot_be_streamed_is_an_error_naming_the_file(make_project: ProjectFactory, table: str, view: str, message: str) -> None:
    with pytest.raises(FeatureDuckError) as raised:
        _load(make_project, table, view)
    assert message in str(raised.value) and "sources.yml" in str(raised.value)


def test_a_kafka_source_needs_its_bootstrap_servers(make_project: ProjectFactory) -> None:
    text = SOURCE.format(table=TYPED).replace("bootstrap_servers: ", "servers: ")
    with pytest.raises(FeatureDuckError, match="has no connection.bootstrap_servers"):
        Project.load(make_project({"models/sources.yml": text}))


def test_a_view_over_a_source_that_is_not_a_stream_is_an_error(make_project: ProjectFactory) -> None:
    files = {"models/sources.yml": "sources: [{name: raw, tables: [{name: events}]}]\n" + VIEW.format(
        reads="source: raw.events", flags="online: true")}
    with pytest.raises(FeatureDuckError, match="source 'raw.events', which is not a stream source"):
        Project.load(make_project(files))


def test_a_target_that_cannot_land_streams_is_refused_before_connecting(make_project: ProjectFactory) -> None:
    root = make_project({"models/sources.yml": SOURCE.format(table=TYPED), "profiles.yml": OFFLINE_PROFILES})
    with pytest.raises(FeatureDuckError, match="a spark target cannot land streams"):
        Project.load(root, target="spark").stream(until_idle=0)
