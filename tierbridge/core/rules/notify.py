"""The `notify` action: POST a signed JSON description of a fired rule to a webhook.

The body is UTF-8 JSON. `X-Tierbridge-Signature` carries `sha256=<hex>`, the HMAC-SHA256
of the exact body bytes under the configured secret. A receiver recomputes it over the raw
body and compares with `hmac.compare_digest`. The body holds `sent_at` and a delivery id
(also in `X-Tierbridge-Delivery`), both covered by the signature, so a receiver can
reject replays by age or by id. It names the ticket and its SLA state but carries no title,
description or comment text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

from tierbridge.core.errors import RejectedError, RetryableError
from tierbridge.core.rules.models import NotifySettings

__all__ = ["SIGNATURE_HEADER", "send_notification", "sign"]

SIGNATURE_HEADER = "X-Tierbridge-Signature"
DELIVERY_HEADER = "X-Tierbridge-Delivery"
_CONNECTOR = "notify"

_log = structlog.get_logger(__name__)


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value of `body`: `sha256=` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_notification(settings: NotifySettings, delivery_id: str, payload: dict[str, Any]) -> int:
    """POST `payload` with its delivery id and signature; return the HTTP status.

    Raises RetryableError on a timeout, a connection failure, 429 or 5xx, and
    RejectedError on another 4xx, since resending the same body cannot help then.
    """
    body = json.dumps({"delivery_id": delivery_id, **payload}, sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(settings.secret.resolve(), body),
        DELIVERY_HEADER: delivery_id,
        "User-Agent": "tierbridge",
    }
    url = str(settings.url)
    log = _log.bind(connector=_CONNECTOR, method="POST", path=urlsplit(url).path or "/")
    started = time.perf_counter()
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=settings.timeout_seconds, verify=True
        )
    except requests.RequestException as exc:
        log.info(
            "api_call", status=None, duration_ms=_elapsed_ms(started), error=type(exc).__name__
        )
        msg = f"webhook call failed ({type(exc).__name__}); it is retried with the event"
        raise RetryableError(msg, connector=_CONNECTOR, operation="notify") from exc

    log.info("api_call", status=response.status_code, duration_ms=_elapsed_ms(started))
    status = response.status_code
    if status == 429 or status >= 500:
        msg = f"the webhook answered HTTP {status}; it is retried with the event"
        raise RetryableError(msg, connector=_CONNECTOR, operation="notify", status=status)
    if status >= 400:
        msg = "the webhook rejected the notification; check its URL and secret"
        raise RejectedError(msg, connector=_CONNECTOR, operation="notify", status=status)
    return status


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
