"""The daemon's HTTP side: webhook intake, health checks and metrics.

`POST /webhooks/{connector}` checks the media type (415) and size (413), the signature over
the raw body (401) and, where the source signs a delivery time, the replay window (401). It
then parses the body (400), commits one inbox event per change (deduplicated on the
delivery id) and only then responds 200. A rejected request leaves nothing in the store,
only a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from tierbridge.core.errors import WebhookError
from tierbridge.core.metrics import Metrics
from tierbridge.core.webhook_auth import (
    accepted_media_types,
    check_replay_window,
    media_type_problem,
)

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["MAX_BODY_BYTES", "StoredEvent", "create_app"]

_log = structlog.get_logger(__name__)

#: Largest webhook body accepted; vendors' payloads for one ticket stay far below this.
MAX_BODY_BYTES = 1024 * 1024

#: (inbox event id, connector, ticket id) of an event a webhook stored.
StoredEvent = tuple[int, str, str]


def create_app(
    rt: Runtime,
    *,
    metrics: Metrics | None = None,
    on_event: Callable[[], None] | None = None,
    on_stored: Callable[[list[StoredEvent]], None] | None = None,
) -> FastAPI:
    """Build the ASGI app. After new events are committed, `on_event` is called, and then
    `on_stored` with those events (the embedded runner wakes one worker per event, and the
    procrastinate runner defers their jobs)."""
    app = FastAPI(title="tierbridge", docs_url=None, redoc_url=None, openapi_url=None)
    metrics = metrics or Metrics()

    def notify(stored: list[StoredEvent]) -> None:
        if on_event is not None:
            on_event()
        if on_stored is not None:
            on_stored(stored)

    @app.post("/webhooks/{connector}")
    async def receive(connector: str, request: Request) -> Response:
        return await _receive(rt, metrics, connector, request, notify)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            depth = rt.store.pending_count()
        except Exception as exc:  # the probe reports the failure instead of raising it
            return JSONResponse(
                {"status": "store unavailable", "error": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ready", "queue_depth": depth})

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        metrics.queue_depth.set(rt.store.pending_count())
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    _add_operator_views(app, rt, metrics)
    return app


def _add_operator_views(app: FastAPI, rt: Runtime, metrics: Metrics) -> None:
    """Feed the log- and store-based metrics, and mount the token-protected /status page."""
    from tierbridge.core.ops.telemetry import install_telemetry
    from tierbridge.core.statuspage import status_router

    install_telemetry(rt, metrics)
    app.include_router(status_router(rt))


def _reject(
    metrics: Metrics, connector: str, status: int, message: str, **context: object
) -> Response:
    metrics.webhooks.labels(connector=connector, result=str(status)).inc()
    _log.warning("webhook_rejected", connector=connector, status=status, reason=message, **context)
    return JSONResponse({"error": message}, status_code=status)


async def _receive(
    rt: Runtime,
    metrics: Metrics,
    name: str,
    request: Request,
    on_event: Callable[[list[StoredEvent]], None],
) -> Response:
    connector = rt.connectors.get(name)
    if connector is None:
        known = ", ".join(sorted(rt.connectors)) or "(none)"
        return _reject(metrics, name, 404, f"unknown connector {name!r}; configured: {known}")

    accepted = accepted_media_types(connector.system)
    problem = media_type_problem(request.headers.get("content-type"), accepted)
    if problem is not None:
        return _reject(metrics, name, 415, problem)

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _reject(metrics, name, 413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _reject(metrics, name, 413, f"body larger than {MAX_BODY_BYTES} bytes")

    headers = {key.lower(): value for key, value in request.headers.items()}
    # Some vendors authenticate webhooks with a query parameter (Dynamics' WebhookKey sends
    # `code=`); connectors read the query string from this pseudo-header, which no HTTP/1.1
    # client can send itself.
    headers[":query"] = request.url.query
    return await run_in_threadpool(_accept, rt, metrics, name, headers, body, on_event)


def _accept(
    rt: Runtime,
    metrics: Metrics,
    name: str,
    headers: dict[str, str],
    body: bytes,
    on_event: Callable[[list[StoredEvent]], None],
) -> Response:
    """Verify, parse and commit a webhook; runs in a worker thread since the store blocks."""
    connector = rt.connectors[name]
    webhook = rt.config.connectors[name].webhook
    try:
        connector.verify_webhook(headers, body)
        if webhook is not None:
            check_replay_window(
                connector.system,
                headers,
                body,
                now=rt.clock(),
                window_seconds=webhook.replay_window_seconds,
            )
        events = connector.parse_webhook(headers, body)
    except WebhookError as exc:
        return _reject(metrics, name, exc.status_code, str(exc))

    now = rt.clock()
    stored_events: list[StoredEvent] = []
    for event in events:
        new_id = rt.store.add_event(
            name,
            event.delivery_id,
            event.ticket_id,
            event.kind,
            event.version,
            dict(event.payload),
            now,
        )
        if new_id is not None:
            stored_events.append((new_id, name, event.ticket_id))

    stored = len(stored_events)
    duplicates = len(events) - stored
    metrics.webhooks.labels(connector=name, result="200").inc()
    _log.info("webhook_accepted", connector=name, events=len(events), duplicates=duplicates)
    if stored:
        on_event(stored_events)
    acknowledgement = connector.webhook_response(events)
    if acknowledgement is not None:
        content, media_type = acknowledgement
        return Response(content, media_type=media_type)
    return JSONResponse({"accepted": stored, "duplicates": duplicates})
