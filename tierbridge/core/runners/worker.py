"""Entry points of the procrastinate runner: a worker node, and a webhook node.

`tierbridge worker` runs `run_worker`: it executes jobs from every node's queue until
SIGTERM or SIGINT, then waits for its running jobs. `tierbridge run` with
`runner: procrastinate` runs `serve_webhooks`: the webhook server alone, which stores
each event and defers its ticket's job. Any number of either may run against one store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.runners.connection import ensure_job_schema
from tierbridge.core.runners.context import RUNTIME_KEY
from tierbridge.core.runners.deferral import defer_tickets, defer_timer
from tierbridge.core.runners.procrastinate_app import build_app
from tierbridge.core.sla.timers import subscribe

if TYPE_CHECKING:
    from procrastinate import App

    from tierbridge.core.runtime import Runtime
    from tierbridge.core.server import StoredEvent
    from tierbridge.core.store.sla_rows import TimerRow

__all__ = ["DRAIN_SECONDS", "run_worker", "serve_webhooks", "stored_event_deferrer"]

_log = structlog.get_logger(__name__)

#: Time SIGTERM gives a worker's running jobs to finish. Jobs still running then are
#: abandoned; their events' leases run out and the ticket's next job takes them again.
DRAIN_SECONDS = 8.0
#: Pool connections beyond one per concurrent job: the listener, heartbeats, periodic defers.
_SPARE_CONNECTIONS = 3


def run_worker(rt: Runtime, *, concurrency: int = 1, name: str | None = None) -> None:
    """Run a procrastinate worker with `concurrency` jobs at a time, until SIGTERM or SIGINT.

    Tasks are synchronous, so each concurrent job runs on its own thread.
    """
    config = rt.config
    settings = config.procrastinate
    ensure_job_schema(config)
    app = build_app(config, max_connections=concurrency + _SPARE_CONNECTIONS)
    unsubscribe = subscribe(rt.store, _timer_deferrer(app))
    _log.info(
        "worker_started",
        concurrency=concurrency,
        job_schema=settings.job_schema,
        connectors=sorted(rt.connectors),
    )
    try:
        app.run_worker(
            name=name,
            concurrency=concurrency,
            additional_context={RUNTIME_KEY: rt},
            update_heartbeat_interval=settings.heartbeat_seconds,
            stalled_worker_timeout=settings.stalled_after_seconds,
            shutdown_graceful_timeout=DRAIN_SECONDS,
            fetch_job_polling_interval=settings.fetch_interval_seconds,
        )
    finally:
        unsubscribe()
        _log.info("worker_stopped")


def _timer_deferrer(app: App) -> Callable[[list[TimerRow], list[int]], None]:
    """Return a timer listener that defers a fire job at each armed timer's due time.

    Canceled timers keep their jobs, which find them no longer pending and do nothing.
    """

    def on_timers(armed: list[TimerRow], _canceled: list[int]) -> None:
        for timer in armed:
            defer_timer(app, timer.id, timer.due_at)

    return on_timers


def stored_event_deferrer(app: App) -> Callable[[list[StoredEvent]], None]:
    """Return the webhook server's `on_stored` callback: one ticket job per stored event.

    A failed defer is logged and not raised: the event is committed already, and the
    sweep defers a job for it within `sweep_seconds`.
    """

    def on_stored(stored: list[StoredEvent]) -> None:
        try:
            defer_tickets(app, [(connector, ticket, event) for event, connector, ticket in stored])
        except Exception as exc:  # the sweep covers the event; the webhook still succeeds
            _log.warning(
                "job_defer_failed", event_ids=[event for event, _, _ in stored], error=str(exc)
            )

    return on_stored


def serve_webhooks(rt: Runtime) -> None:
    """Serve the webhook endpoints on `server.host:port` until SIGTERM or SIGINT.

    This node polls nothing and handles no event; workers do both.
    """
    import uvicorn

    from tierbridge.core.server import create_app

    config = rt.config
    ensure_job_schema(config)
    app = build_app(config, max_connections=8)
    app.open()
    try:
        web = create_app(rt, on_stored=stored_event_deferrer(app))
        _log.info(
            "webhook_node_started",
            host=config.server.host,
            port=config.server.port,
            job_schema=config.procrastinate.job_schema,
        )
        uvicorn.run(
            web,
            host=config.server.host,
            port=config.server.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    finally:
        app.close()
        _log.info("webhook_node_stopped")
