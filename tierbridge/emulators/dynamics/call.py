"""What every Web API handler gets: the shared context and one authenticated request."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.guards import Identity, Throttle
from tierbridge.emulators.dynamics.prefer import Preferences
from tierbridge.emulators.dynamics.state import DynamicsState

__all__ = ["API_ROOT", "AppContext", "Call", "Faults", "respond"]

API_ROOT = "/api/data/v9.2"
_JSON = "application/json; odata.metadata=minimal"


@dataclass
class Faults:
    """Misbehaviour tests can switch on, each for the next `count` requests it applies to."""

    #: List pages that repeat the link that led to them as their next link.
    repeat_next_link: int = 0
    #: Files posted on notes that are stored without their last byte.
    truncate_files: int = 0


@dataclass(frozen=True)
class AppContext:
    """State shared by the routes."""

    state: DynamicsState
    identity: Identity
    throttle: Throttle
    faults: Faults = field(default_factory=Faults)


@dataclass(frozen=True)
class Call:
    """One authenticated Web API request: who makes it, what it prefers, where it came in."""

    ctx: AppContext
    request: Request
    user_id: str
    prefer: Preferences
    correlation_id: str

    @property
    def org_url(self) -> str:
        """The organisation URL, `https://host:port`, without a trailing slash."""
        return str(self.request.base_url).rstrip("/")

    @property
    def api_url(self) -> str:
        """The Web API root, `<org url>/api/data/v9.2`."""
        return self.org_url + API_ROOT

    @property
    def params(self) -> Mapping[str, str]:
        return self.request.query_params

    async def json_object(self) -> dict[str, Any]:
        """Parse the body as a JSON object; raise the Web API's 400 if it is not one."""
        try:
            body = json.loads(await self.request.body())
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise odata_error(
                400, NOT_FOUND_SEGMENT, "The request body is not a valid JSON object."
            )
        return body


def respond(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Return a JSON response with the OData headers every Web API response carries."""
    return JSONResponse(
        payload,
        status_code=status,
        headers={"OData-Version": "4.0", **(headers or {})},
        media_type=_JSON,
    )
