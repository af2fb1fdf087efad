"""Prometheus metrics of the serving API: requests by route and status, latency by route.

Each worker process counts its own requests (run one worker per scrape
target, or scrape each). The labelled children are looked up once per route
and status, so a request costs two increments.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    CONTENT_TYPE = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
