"""Routes of the status page, behind the `server.status_token` bearer token."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tierbridge.core.errors import ConfigError
from tierbridge.core.ops.status import connector_statuses, queue_status
from tierbridge.core.ops.synclog import LogFilter, recent_rows
from tierbridge.core.statuspage.render import Links, overview_page, ticket_page

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["status_router"]

#: Rows shown in the recent-failures, dead-letter and trail tables.
RECENT_ROWS = 20
TRAIL_ROWS = 200

#: The page contains ticket ids and errors, and its URL may contain the token, so it is never
#: cached, framed or sent on as a referrer, and it runs no script.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


#: The `?token=` query parameter, for browsers that cannot send a bearer header.
Token = Annotated[str | None, Query()]


def _denied(status: int, message: str, **headers: str) -> HTTPException:
    return HTTPException(status, detail=message, headers={**_HEADERS, **headers})


def status_router(rt: Runtime) -> APIRouter:
    """Build the router of `/status` and `/status/ticket/{ref}` for one runtime."""
    router = APIRouter()

    @router.get("/status", response_class=HTMLResponse)
    def overview(request: Request, token: Token = None) -> Response:
        links = Links(_check_token(rt, request, token))
        now = rt.clock()
        page = overview_page(
            connector_statuses(rt.config, rt.store, now),
            queue_status(rt.store, now),
            rt.store.sync_log(outcome="failed", limit=RECENT_ROWS),
            rt.store.list_events(status="dead", limit=RECENT_ROWS),
            now,
            links,
        )
        return HTMLResponse(page, headers=_HEADERS)

    @router.get("/status/ticket")
    def lookup(
        request: Request, ref: Annotated[str, Query(min_length=1)], token: Token = None
    ) -> Response:
        links = Links(_check_token(rt, request, token))
        return RedirectResponse(links.ticket(ref.strip()), status_code=303, headers=_HEADERS)

    @router.get("/status/ticket/{ref}", response_class=HTMLResponse)
    def ticket(request: Request, ref: str, token: Token = None) -> Response:
        links = Links(_check_token(rt, request, token))
        filters = LogFilter(ticket=ref).resolved(rt.store)
        refs = rt.store.refs_of_link(filters.link_id) if filters.link_id is not None else []
        rows = recent_rows(rt.store, filters, TRAIL_ROWS)
        return HTMLResponse(ticket_page(ref, refs, rows, links), headers=_HEADERS)

    return router


def _check_token(rt: Runtime, request: Request, query_token: str | None) -> str | None:
    """Return the query token if one was used; raise HTTPException unless a valid token came."""
    reference = rt.config.server.status_token
    if reference is None:
        raise _denied(404, "the status page is off; set server.status_token to turn it on")
    try:
        expected = reference.resolve()
    except ConfigError as exc:
        raise _denied(503, f"the status token cannot be read: {exc}") from exc

    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    given = bearer.strip() if scheme.lower() == "bearer" else query_token
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _denied(
            401,
            "a valid status token is required",
            **{"WWW-Authenticate": 'Bearer realm="tierbridge status"'},
        )
    return query_token if given == query_token else None
