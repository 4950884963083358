"""Context, authentication, parameters and list headers shared by every route of the emulator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from tierbridge.emulators.servicenow.envelope import api_error
from tierbridge.emulators.servicenow.guards import Authenticator, Throttle
from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = [
    "JSON_MEDIA_TYPE",
    "AppContext",
    "User",
    "check_writable",
    "flag",
    "int_param",
    "link_header",
    "list_headers",
    "respond",
]

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class AppContext:
    """State shared by the routes: the instance data, the authenticator and the throttle."""

    state: ServiceNowState
    auth: Authenticator
    throttle: Throttle


def flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "false").strip().lower() == "true"


def int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise api_error(400, f"Invalid value {raw!r} for parameter {name}", None) from None
    return max(value, 0)


def respond(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(
        payload, status_code=status, headers=dict(headers or {}), media_type=JSON_MEDIA_TYPE
    )


def link_header(request: Request, offset: int, limit: int, total: int) -> str:
    base = str(request.url.remove_query_params(["sysparm_offset", "sysparm_limit"]))
    joiner = "&" if "?" in base else "?"

    def link(at: int, rel: str) -> str:
        query = urlencode({"sysparm_offset": at, "sysparm_limit": limit})
        return f'<{base}{joiner}{query}>;rel="{rel}"'

    last = max((total - 1) // limit * limit, 0) if limit else 0
    links = [link(0, "first")]
    if offset > 0:
        links.append(link(max(offset - limit, 0), "prev"))
    if limit and offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    return ",".join(links)


def list_headers(request: Request, offset: int, limit: int, total: int) -> dict[str, str]:
    """Return `X-Total-Count` and `Link`, unless the request turns them off."""
    params = request.query_params
    headers: dict[str, str] = {}
    if not flag(params, "sysparm_no_count"):
        headers["X-Total-Count"] = str(total)
    if not flag(params, "sysparm_suppress_pagination_header"):
        headers["Link"] = link_header(request, offset, limit, total)
    return headers


def check_writable(state: ServiceNowState, table: str, action: str) -> None:
    """Refuse writes to read-only tables with the 403 an ACL gives."""
    if state.table(table).read_only:
        detail = f"ACL Exception {action} Failed due to security constraints"
        raise api_error(403, "Operation Failed", detail)


def _current_user(request: Request) -> str:
    """Authenticate the request, then apply any injected rate limiting."""
    ctx: AppContext = request.app.state.ctx
    user = ctx.auth.authenticate(request.headers.get("Authorization"))
    ctx.throttle.check()
    return user


User = Annotated[str, Depends(_current_user)]
