"""Prometheus metrics of the serving API: requests by route and status, latency by route.

Each worker process counts its own requests (run one worker per scrape
target, or scrape each). The labelled children are looked up once per route
and status, so a request costs two increments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from featureduck.streams.progress import read_progress

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    CONTENT_TYPE = CONTENT_TYPE_LATEST

    def __init__(self, target_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        if target_dir is not None:
            self.registry.register(StreamCollector(target_dir))
        self.requests = Counter("fduck_requests", "Requests served", ["route", "status"], registry=self.registry)
        self.cache = Counter("fduck_cache_lookups", "Entities looked up in the hot-key cache", ["result"], registry=self.registry)
        self._hits, self._misses = self.cache.labels("hit"), self.cache.labels("miss")
        self.latency = Histogram(
            "fduck_request_duration_seconds", "Time to answer a request", ["route"], buckets=_BUCKETS, registry=self.registry
        )

    def observer(self, route: str) -> Callable[[int, float], None]:
        timer = self.latency.labels(route)
        counters: dict[int, Counter] = {}

        def observe(status: int, seconds: float) -> None:
            counter = counters.get(status)
            if counter is None:
                counter = counters[status] = self.requests.labels(route, str(status))
            counter.inc()
            timer.observe(seconds)

        return observe

    def cache_lookups(self, hits: int, misses: int) -> None:
        if hits:
            self._hits.inc(hits)
        if misses:
            self._misses.inc(misses)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StreamCollector(Collector):
    """The project's last `fduck stream` report (target/streams.json), read at each scrape."""

    def __init__(self, target_dir: Path) -> None:
        self.target_dir = target_dir

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        report = read_progress(self.target_dir) or {}
        lag = GaugeMetricFamily("fduck_stream_lag", "Messages on the broker past the stream's position", labels=["source", "partition"])
        offset = GaugeMetricFamily("fduck_stream_offset", "The next offset the stream reads", labels=["source", "partition"])
        rows = CounterMetricFamily("fduck_stream_rows", "Rows landed by the running (or last) stream", labels=["source"])
        dead = CounterMetricFamily("fduck_stream_dead_letters", "Messages sent to the dead-letter table", labels=["source"])
        running = GaugeMetricFamily("fduck_stream_running", "1 while the stream runs, 0 once it stopped")
        for source in report.get("sources", []):
            name = str(source["source"])
            for partition, where in source.get("partitions", {}).items():
                lag.add_metric([name, partition], where["lag"])
                offset.add_metric([name, partition], where["next_offset"])
            rows.add_metric([name], source["landed"])
            dead.add_metric([name], source["dead_letters"])
        if report:
            running.add_metric([], 1 if report.get("running") else 0)
        yield from (lag, offset, rows, dead, running)
