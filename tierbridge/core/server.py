"""The daemon's HTTP side: webhook intake, health checks and metrics.

`POST /webhooks/{connector}` checks the signature over the raw body, parses it, commits one
inbox event per change (deduplicated on the delivery id) and only then answers 200. A
rejected request leaves nothing in the store, only a log line.
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

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["MAX_BODY_BYTES", "create_app"]

_log = structlog.get_logger(__name__)

#: Largest webhook body accepted; vendors' payloads for one ticket stay far below this.
MAX_BODY_BYTES = 1024 * 1024


def create_app(
    rt: Runtime, *, metrics: Metrics | None = None, on_event: Callable[[], None] | None = None
) -> FastAPI:
    """Build the ASGI app; `on_event` is called after new events are committed."""
    app = FastAPI(title="tierbridge", docs_url=None, redoc_url=None, openapi_url=None)
    metrics = metrics or Metrics()

    @app.post("/webhooks/{connector}")
    async def receive(connector: str, request: Request) -> Response:
        return await _receive(rt, metrics, connector, request, on_event)

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

    return app


def _reject(
    metrics: Metrics, connector: str, status: int, message: str, **context: object
) -> Response:
    metrics.webhooks.labels(connector=connector, result=str(status)).inc()
    _log.warning("webhook_rejected", connector=connector, status=status, reason=message, **context)
    return JSONResponse({"error": message}, status_code=status)


async def _receive(
    rt: Runtime, metrics: Metrics, name: str, request: Request, on_event: Callable[[], None] | None
) -> Response:
    connector = rt.connectors.get(name)
    if connector is None:
        known = ", ".join(sorted(rt.connectors)) or "(none)"
        return _reject(metrics, name, 404, f"unknown connector {name!r}; configured: {known}")

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _reject(metrics, name, 413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _reject(metrics, name, 413, f"body larger than {MAX_BODY_BYTES} bytes")

    headers = {key.lower(): value for key, value in request.headers.items()}
    return await run_in_threadpool(_accept, rt, metrics, name, headers, body, on_event)


def _accept(
    rt: Runtime,
    metrics: Metrics,
    name: str,
    headers: dict[str, str],
    body: bytes,
    on_event: Callable[[], None] | None,
) -> Response:
    """Verify, parse and commit a webhook; runs in a worker thread since the store blocks."""
    connector = rt.connectors[name]
    try:
        connector.verify_webhook(headers, body)
        events = connector.parse_webhook(headers, body)
    except WebhookError as exc:
        return _reject(metrics, name, exc.status_code, str(exc))

    now = rt.clock()
    stored = 0
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
        stored += new_id is not None

    duplicates = len(events) - stored
    metrics.webhooks.labels(connector=name, result="200").inc()
    _log.info("webhook_accepted", connector=name, events=len(events), duplicates=duplicates)
    if stored and on_event is not None:
        on_event()
    return JSONResponse({"accepted": stored, "duplicates": duplicates})
