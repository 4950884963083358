"""Tests of the metrics fed from log lines and from the store, as /metrics serves them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from tests.conftest import Stack
from tests.core.ops.support import escalate
from tierbridge.core.metrics import Metrics
from tierbridge.core.ops.telemetry import StoreCollector, count_log_lines, install_telemetry
from tierbridge.core.server import create_app


def use_info_logging() -> None:
    """Configure structlog as the daemon does at level info, rendering to nowhere."""
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.ReturnLoggerFactory(),
    )


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


class TestLogCounters:
    def test_api_calls_and_429(self, stack: Stack) -> None:
        """Each api_call line counts by connector, method and status; a 429 counts as throttled."""
        use_info_logging()
        metrics = Metrics()
        install_telemetry(stack.rt, metrics)
        log = structlog.get_logger("test")

        log.info("api_call", connector="jsm", method="PUT", path="/x", status=429, duration_ms=3)
        log.info("api_call", connector="jsm", method="PUT", path="/x", status=204, duration_ms=3)
        log.info("api_call", connector="snow", method="GET", path="/x", status=None, duration_ms=3)

        assert (
            sample(
                metrics, "tierbridge_api_calls_total", connector="jsm", method="PUT", status="429"
            )
            == 1
        )
        assert (
            sample(
                metrics, "tierbridge_api_calls_total", connector="snow", method="GET", status="none"
            )
            == 1
        )
        assert sample(metrics, "tierbridge_throttled_total", connector="jsm") == 1

    def test_events_received(self, stack: Stack) -> None:
        """Webhook lines count stored events without duplicates; poll lines count queued ones."""
        use_info_logging()
        metrics = Metrics()
        install_telemetry(stack.rt, metrics)
        log = structlog.get_logger("test")

        log.info("webhook_accepted", connector="snow", events=3, duplicates=1)
        log.info("poll", connector="snow", read=5, queued=2, duration_ms=1.0)

        assert (
            sample(metrics, "tierbridge_events_received_total", connector="snow", source="webhook")
            == 2
        )
        assert (
            sample(metrics, "tierbridge_events_received_total", connector="snow", source="poll")
            == 2
        )

    def test_installed_once(self, stack: Stack) -> None:
        """Installing twice keeps one processor, so a line is counted once."""
        use_info_logging()
        metrics = Metrics()
        install_telemetry(stack.rt, metrics)
        install_telemetry(stack.rt, metrics)

        structlog.get_logger("test").info("api_call", connector="a", method="GET", status=200)

        assert structlog.get_config()["processors"].count(count_log_lines) == 1
        assert (
            sample(metrics, "tierbridge_api_calls_total", connector="a", method="GET", status="200")
            == 1
        )


class TestMetricsEndpoint:
    def test_store_gauges_and_calls(self, stack: Stack) -> None:
        """/metrics serves inbox events by status, lag, dead letters and the API calls made."""
        use_info_logging()
        metrics = Metrics()
        client = TestClient(create_app(stack.rt, metrics=metrics))
        escalate(stack)
        stack.queue("snow", "missing-ticket")
        stack.rt.clock = lambda: (
            stack.rt.store.list_events(limit=10)[-1].received_at + timedelta(seconds=7)
        )

        body = client.get("/metrics").text

        assert 'tierbridge_inbox_events{connector="snow",status="done"} 1.0' in body
        assert 'tierbridge_inbox_events{connector="snow",status="pending"} 1.0' in body
        assert "tierbridge_sync_lag_seconds 7.0" in body
        assert "tierbridge_dead_letters 0.0" in body
        assert 'tierbridge_api_calls_total{connector="jsm",method="POST",status="201"}' in body

    def test_register_runs_no_query(self) -> None:
        """Registering the store gauges queries nothing, so a store outage cannot stop start-up."""

        class UnusableStore:
            def __getattr__(self, name: str) -> object:
                raise AssertionError(f"store.{name} used at registration")

        registry = CollectorRegistry()
        collector = StoreCollector(UnusableStore(), lambda: datetime.now(UTC))  # type: ignore[arg-type]

        registry.register(collector)

        assert [family.name for family in collector.describe()] == [
            "tierbridge_inbox_events",
            "tierbridge_sync_lag_seconds",
            "tierbridge_dead_letters",
        ]
