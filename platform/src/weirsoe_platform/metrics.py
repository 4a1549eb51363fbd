"""Prometheus metrics of one process (``prometheus-client``), served at ``/metrics``.

``/metrics`` is off unless the operator turns it on: with ``metrics_token`` set, it answers a
request that carries ``Authorization: Bearer <token>``; with ``metrics_public`` it answers
anyone (for a scrape port that only the monitoring network reaches). Otherwise it is 404.

Every process has its own registry (no module globals: tests build many apps in one process).
Counters are incremented where things happen; room and worker gauges are read at scrape time.
See docs/operations.md for each metric, a sample Grafana dashboard and the alerts that matter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "LATENESS_BUCKETS", "Metrics", "http_metrics_middleware"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.rooms = Gauge(
            "weirsoe_rooms",
            "Rooms with at least one socket on this process, by cartridge and status",
            ["cartridge", "status"],
            registry=r,
        )
        self.sockets = Gauge(
            "weirsoe_sockets", "Open game sockets on this process, by role", ["role"], registry=r
        )
        self.transitions = Counter(
            "weirsoe_transitions",
            "State transitions committed (compare-and-set won), by cartridge",
            ["cartridge"],
            registry=r,
        )
        self.cas_conflicts = Counter(
            "weirsoe_cas_conflicts",
            "Compare-and-set attempts lost to a concurrent writer (each one is retried)",
            registry=r,
        )
        self.cas_exhausted = Counter(
            "weirsoe_cas_exhausted",
            "Transitions given up after every retry (the client got 409 conflict)",
            registry=r,
        )
        self.deliveries = _PlainCounter(
            "weirsoe_deliveries", "Frames sent to game sockets", registry=r
        )
        self.direct_writes = _PlainCounter(
            "weirsoe_direct_writes",
            "Of the frames sent to game sockets, those written straight to the socket's "
            "transport instead of through ASGI",
            registry=r,
        )
        self.unpublished = _PlainCounter(
            "weirsoe_unpublished_commits",
            "Redis commits whose frame went to no other process: this one delivered it to its "
            "own sockets, and no other process listened to the room",
            registry=r,
        )
        self.dropped = Counter(
            "weirsoe_dropped",
            "Frames dropped: a client too slow to read its backlog (slow_client)",
            ["reason"],
            registry=r,
        )
        self.lateness = Histogram(
            "weirsoe_timer_lateness_seconds",
            "How late a deadline fired (fired minus due), for firings that changed state",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "weirsoe_rate_limited",
            "Requests refused by a rate limit, by rule (unknown_code, join)",
            ["rule"],
            registry=r,
        )
        self.redis_errors = Counter(
            "weirsoe_redis_errors",
            "Redis calls that failed, by component (store, timer_pump)",
            ["component"],
            registry=r,
        )
        self.redis_reconnects = Counter(
            "weirsoe_redis_reconnects",
            "Recoveries after Redis failures, by component",
            ["component"],
            registry=r,
        )
        self.worker_heartbeats = Counter(
            "weirsoe_worker_heartbeats",
            "Heartbeats written by a timer worker running in this process (--with-worker)",
            registry=r,
        )
        self.workers = Gauge(
            "weirsoe_timer_workers",
            "Timer workers with a live heartbeat in Redis (1 in embedded mode: in-process)",
            registry=r,
        )
        self.http_responses = Counter(
            "weirsoe_http_responses",
            "HTTP responses by status class (2xx, 3xx, 4xx, 5xx)",
            ["code"],
            registry=r,
        )
        self._transitions: dict[str, Any] = {}

    def transitions_of(self, cartridge: str) -> Any:
        """``transitions`` for one cartridge: the labelled child, looked up once."""
        child = self._transitions.get(cartridge)
        if child is None:
            child = self._transitions[cartridge] = self.transitions.labels(cartridge)
        return child

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


class _PlainCounter(Collector):
    """A counter without labels kept in a plain integer, read at scrape time: for the one
    counted once per frame sent, where ``Counter.inc`` (a lock each time) showed in profiles.
    The event loop is its only writer."""

    def __init__(self, name: str, documentation: str, *, registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0
        registry.register(self)

    def inc(self, amount: int = 1) -> None:
        self.value += amount

    def collect(self) -> Any:
        yield CounterMetricFamily(self.name, self.documentation, value=self.value)


Scope = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]


def http_metrics_middleware(metrics: Metrics) -> Callable[[Any], Any]:
    """An ASGI middleware factory that counts HTTP responses by status class."""

    def wrap(app: ASGIApp) -> ASGIApp:
        def middleware(
            scope: Scope,
            receive: Callable[[], Awaitable[Any]],
            send: Callable[[Any], Awaitable[None]],
        ) -> Awaitable[None]:
            # No coroutine of its own: a WebSocket would keep one suspended here for as long
            # as it is open (docs/performance.md, section 56).
            if scope["type"] != "http":
                return app(scope, receive, send)

            async def counted(message: Any) -> None:
                if message["type"] == "http.response.start":
                    metrics.http_responses.labels(f"{int(message['status']) // 100}xx").inc()
                await send(message)

            return app(scope, receive, counted)

        return middleware

    return wrap
