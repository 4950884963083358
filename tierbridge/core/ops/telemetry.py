"""Metrics fed from log lines and from the store, served with the daemon's own at `/metrics`.

Counters come from a structlog processor that reads the lines the code already writes:
`api_call` (connector, method, status) from every connector, `webhook_accepted` from the
server and `poll` from the poller. Gauges come from a collector that queries the store at
each scrape: inbox events per connector and status, the sync lag and the dead letters.

NOTE: structlog drops lines below the configured level before any processor runs, so with
`logging.level: warning` or higher the log-fed counters stay at zero.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tierbridge.core.ops.status import queue_status

if TYPE_CHECKING:
    from tierbridge.core.metrics import Metrics
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import Store

__all__ = ["StoreCollector", "count_log_lines", "install_telemetry"]

_sinks: weakref.WeakSet[Metrics] = weakref.WeakSet()
_registered: weakref.WeakSet[Metrics] = weakref.WeakSet()
_lock = threading.Lock()


def count_log_lines(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Count `api_call`, `webhook_accepted` and `poll` lines in every installed Metrics."""
    name = event.get("event")
    if name not in ("api_call", "webhook_accepted", "poll"):
        return event
    for metrics in list(_sinks):
        _count(metrics, name, event)
    return event


def _count(metrics: Metrics, name: str, event: MutableMapping[str, Any]) -> None:
    connector = str(event.get("connector", ""))
    if name == "api_call":
        status = event.get("status")
        method = str(event.get("method", ""))
        metrics.api_calls.labels(connector, method, "none" if status is None else str(status)).inc()
        if status == 429:
            metrics.throttled.labels(connector).inc()
    elif name == "webhook_accepted":
        stored = int(event.get("events", 0)) - int(event.get("duplicates", 0))
        metrics.events_received.labels(connector, "webhook").inc(max(stored, 0))
    else:
        metrics.events_received.labels(connector, "poll").inc(int(event.get("queued", 0)))


def _ensure_processor() -> None:
    """Put `count_log_lines` into structlog's chain, before the renderer, once."""
    processors = list(structlog.get_config()["processors"])
    if count_log_lines in processors:
        return
    processors.insert(max(len(processors) - 1, 0), count_log_lines)
    structlog.configure(processors=processors)


class StoreCollector(Collector):
    """Gauges read from the store at each scrape."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Described without samples, so registering the collector makes no query.
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        inbox, lag, dead = self._families()
        queue = queue_status(self._store, self._clock())
        for (connector, status), count in _inbox_by_connector(self._store).items():
            inbox.add_metric([connector, status], count)
        lag.add_metric([], queue.lag_seconds)
        dead.add_metric([], queue.dead_letters)
        yield from (inbox, lag, dead)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "tierbridge_inbox_events",
                "Inbox events by connector and status: done is processed, dead is failed.",
                labels=["connector", "status"],
            ),
            GaugeMetricFamily(
                "tierbridge_sync_lag_seconds",
                "Seconds since the oldest unfinished inbox event arrived; 0 when none waits.",
            ),
            GaugeMetricFamily(
                "tierbridge_dead_letters", "Inbox events parked as dead, waiting for a person."
            ),
        )


def _inbox_by_connector(store: Store) -> dict[tuple[str, str], int]:
    from tierbridge.core.ops.queries import inbox_counts

    return {(count.connector, count.status): count.count for count in inbox_counts(store)}


def install_telemetry(rt: Runtime, metrics: Metrics) -> None:
    """Feed `metrics` from log lines and register the store's gauges on its registry, once."""
    with _lock:
        _ensure_processor()
        _sinks.add(metrics)
        if metrics not in _registered:
            metrics.registry.register(StoreCollector(rt.store, lambda: rt.clock()))
            _registered.add(metrics)
