"""Prometheus metrics of the daemon, on one registry served at `/metrics`."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]


class Metrics:
    """The daemon's counters and gauges; one instance per process (or per test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "tierbridge_webhooks_total",
            "Webhook requests by connector and result.",
            ["connector", "result"],
            registry=self.registry,
        )
        self.events = Counter(
            "tierbridge_events_total",
            "Inbox events settled, by connector and outcome (done, retry, dead).",
            ["connector", "outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "tierbridge_queue_depth",
            "Inbox events waiting to be processed.",
            registry=self.registry,
        )
        self.event_seconds = Histogram(
            "tierbridge_event_seconds",
            "Time to process one inbox event.",
            ["connector"],
            registry=self.registry,
        )
        self.polls = Counter(
            "tierbridge_polls_total",
            "Polls by connector and result.",
            ["connector", "result"],
            registry=self.registry,
        )
        # The counters below are fed from log lines by `tierbridge.core.ops.telemetry`.
        self.events_received = Counter(
            "tierbridge_events_received_total",
            "Inbox events stored, by connector and source (webhook, poll); duplicates excluded.",
            ["connector", "source"],
            registry=self.registry,
        )
        self.api_calls = Counter(
            "tierbridge_api_calls_total",
            "Outbound API calls by connector, method and HTTP status ('none' without a response).",
            ["connector", "method", "status"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "tierbridge_throttled_total",
            "HTTP 429 answers from ticketing systems, by connector.",
            ["connector"],
            registry=self.registry,
        )
