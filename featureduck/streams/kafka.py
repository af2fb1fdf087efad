"""Reading a stream source's topic with confluent-kafka, from offsets featureduck keeps.

The consumer never joins a consumer group and never commits to the broker:
its partitions are assigned at the offsets recorded in the target with the
rows they produced (`streams.offsets`), so where it resumes is exactly what
the landing table holds. A recorded offset the broker no longer has (retention,
a recreated topic) stops the stream with an error instead of skipping ahead.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from featureduck.config.profiles import render_env_vars
from featureduck.errors import ConnectionFailure, StreamError
from featureduck.project.nodes import SourceTable
from featureduck.utils.secrets import remember_secret

if TYPE_CHECKING:
    import pyarrow

_SECRET_SETTINGS = ("password", "secret", "token", "key")
# librdkafka's own log lines (a broker it cannot reach is retried and logged every 50 ms) stay out of the
# terminal unless --debug (FDUCK_DEBUG): what stops the stream is told once, as an error naming the source
_LOG = logging.getLogger("featureduck.kafka")
_LOG.addHandler(logging.StreamHandler() if os.environ.get("FDUCK_DEBUG") else logging.NullHandler())
_LOG.propagate = False
METADATA_TIMEOUT = 10.0


@dataclass(frozen=True)
class RawBatch:
    """Messages as they came: `table` has partition, offset, timestamp (the message's,
    milliseconds), key and value; `ends` is the next offset of each partition read,
    `highs` the broker's high offsets as last fetched."""

    table: pyarrow.Table
    ends: dict[int, int]
    highs: dict[int, int]


def client_settings(table: SourceTable) -> dict[str, str]:
    """librdkafka's settings from the source's connection: `bootstrap_servers` is
    `bootstrap.servers`, and so on; env_var() rendered, secrets masked in output."""
    assert table.stream is not None
    location = table.stream.settings_location
    settings: dict[str, str] = {}
    for name, written in table.stream.settings.items():
        value = str(render_env_vars(written, location.file, location.line or 0))
        if any(word in name.lower() for word in _SECRET_SETTINGS) and "location" not in name.lower():
            remember_secret(value, bare=True)
        settings[name.replace("_", ".")] = value
    return settings


class TopicReader:
    """One consumer over the topic of one stream source table."""

    def __init__(self, table: SourceTable, group: str) -> None:
        assert table.stream is not None
        self.table = table
        self.topic = table.stream.topic
        self.group = group
        self.settings_location = table.stream.settings_location
        self.partitions: list[int] = []
        self._consumer: Any = None

    def open(self, starts: dict[int, int]) -> None:
        """Assign every partition at its recorded next offset, the earliest the broker holds
        where none is (asked outright: librdkafka's own lookup of OFFSET_BEGINNING took half
        a second longer on the brokers measured)."""
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        settings = {
            **client_settings(self.table), "group.id": self.group, "enable.auto.commit": False, "enable.auto.offset.store": False,
            # a recorded offset the broker lacks is an error, never a silent jump
            "auto.offset.reset": "error", "enable.partition.eof": False,
            "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760, "queued.min.messages": 500000,
            "fetch.wait.max.ms": 50,
        }
        try:
            self._consumer = Consumer(settings, logger=_LOG)
            metadata = self._consumer.list_topics(self.topic, timeout=METADATA_TIMEOUT)
        except KafkaException as err:
            raise ConnectionFailure(f"stream source '{self._name}': {err.args[0].str()}", self.settings_location) from None
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise StreamError(f"stream source '{self._name}': topic '{self.topic}' does not exist on the broker", self.table.location,
                              "create it, or correct `topic:`")
        self.partitions = sorted(topic.partitions)
        try:
            earliest = {p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=METADATA_TIMEOUT)[0]
                        for p in self.partitions if p not in starts}
        except KafkaException as err:
            raise ConnectionFailure(f"stream source '{self._name}': {err.args[0].str()}", self.settings_location) from None
        self._consumer.assign([TopicPartition(self.topic, p, starts[p] if p in starts else earliest[p]) for p in self.partitions])

    @property
    def _name(self) -> str:
        return f"{self.table.source_name}.{self.table.name}"

    def poll(self, most: int, timeout: float) -> RawBatch | None:
        """Up to `most` messages, waiting at most `timeout` seconds for the first."""
        import pyarrow
        from confluent_kafka import KafkaError

        deadline = time.monotonic() + timeout
        messages: list[Any] = []
        while len(messages) < most:
            left = deadline - time.monotonic()
            got = self._consumer.consume(most - len(messages), max(left, 0.0) if not messages else 0.0)
            if not got:
                if messages or left <= 0:
                    break
                continue
            failed = [m for m in got if m.error() is not None]
            for message in failed:
                error = message.error()
                if error.code() != KafkaError._PARTITION_EOF:
                    raise StreamError(f"stream source '{self._name}', partition {message.partition()}: {error.str()}",
                                      self.table.location, _hint(error))
            messages += [m for m in got if m.error() is None] if failed else got
        if not messages:
            return None
        partitions = [m.partition() for m in messages]
        offsets = [m.offset() for m in messages]
        # a partition's messages come in offset order: its last one is where it ends
        ends = {partition: offset + 1 for partition, offset in dict(zip(partitions, offsets, strict=True)).items()}
        table = pyarrow.table({
            "partition": pyarrow.array(partitions, pyarrow.int32()),
            "offset": pyarrow.array(offsets, pyarrow.int64()),
            # milliseconds since the epoch; -1 when the message has none (decode reads it as NULL)
            "timestamp": pyarrow.array([m.timestamp()[1] for m in messages], pyarrow.int64()),
            "key": pyarrow.array([m.key() for m in messages], pyarrow.binary()),
            "value": pyarrow.array([m.value() for m in messages], pyarrow.binary()),
        })
        return RawBatch(table, ends, self.highs())

    def highs(self) -> dict[int, int]:
        """Each partition's high offset (the next one the broker will write), as the
        fetches brought it (no round trip); a partition not fetched yet is left out.
        Called by the thread that polls: the consumer is not shared between threads."""
        from confluent_kafka import TopicPartition

        found = {}
        for partition in self.partitions:
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, partition), cached=True)
            except Exception:  # noqa: BLE001 - not fetched yet: unknown
                continue
            if high >= 0:
                found[partition] = high
        return found

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def _hint(error: Any) -> str | None:
    from confluent_kafka import KafkaError

    if error.code() == KafkaError._AUTO_OFFSET_RESET:
        return ("the broker no longer holds the offset recorded in the target (retention, or the topic was recreated); "
                "`fduck stream --reset` starts the source over from the earliest message")
    return None
