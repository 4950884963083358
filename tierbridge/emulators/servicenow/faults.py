"""Injected faults in the Table API's wire format: the error envelope and rate-limit headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi.responses import JSONResponse
from starlette.responses import Response

from tierbridge.emulators._faults import Fault
from tierbridge.emulators.servicenow.envelope import error_body
from tierbridge.emulators.servicenow.guards import RATE_LIMIT

__all__ = ["fault_renderer"]

_JSON = "application/json;charset=UTF-8"


def fault_renderer(clock: Callable[[], datetime], rule_id: str) -> Callable[[Fault], Response]:
    """Return the function that renders a fault as this instance would respond."""

    def render(fault: Fault) -> Response:
        if fault.kind != "throttle":
            body = error_body("Injected fault", "The emulator was set to fail this request.")
            return JSONResponse(body, status_code=fault.status, media_type=_JSON)

        reset = int(clock().timestamp()) + fault.retry_after
        headers = {
            "Retry-After": str(fault.retry_after),
            "X-RateLimit-Limit": RATE_LIMIT,
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Rule": rule_id,
        }
        detail = f"Rate limit of {RATE_LIMIT} requests per hour for Table API exceeded"
        body = error_body("Rate limit exceeded", detail)
        return JSONResponse(body, status_code=429, headers=headers, media_type=_JSON)

    return render
