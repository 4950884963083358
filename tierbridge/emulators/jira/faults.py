"""Injected faults in Jira Cloud's wire format: `errorMessages` bodies and rate-limit headers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.responses import Response

from tierbridge.emulators._faults import Fault
from tierbridge.emulators.jira.site import Site

__all__ = ["DEFAULT_REASON", "fault_renderer"]

#: The `RateLimit-Reason` of a storm that names none: Jira's per-second burst limit.
DEFAULT_REASON = "jira-burst-based"


def fault_renderer(site: Site) -> Callable[[Fault], Response]:
    """Return the function that renders a fault as this site would respond."""

    def render(fault: Fault) -> Response:
        if fault.kind != "throttle":
            message = "The emulator was set to fail this request (fault injection)."
            body = {"errorMessages": [message], "errors": {}}
            return JSONResponse(body, status_code=fault.status)

        headers = {
            "Retry-After": str(fault.retry_after),
            "X-RateLimit-Reset": site.rate_limit_reset(fault.retry_after),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "RateLimit-Reason": fault.reason or DEFAULT_REASON,
        }
        body = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        return JSONResponse(body, status_code=429, headers=headers)

    return render
