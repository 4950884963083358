"""The emulator's FastAPI application: routers, Jira-shaped errors and injected faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tierbridge.emulators.jira import (
    routes_attachments,
    routes_issue,
    routes_meta,
    routes_search,
    routes_servicedesk,
    routes_transitions,
)
from tierbridge.emulators.jira.site import Site
from tierbridge.emulators.jira.wire import ApiError

__all__ = ["build_app"]


def build_app(site: Site) -> FastAPI:
    """Return the ASGI app serving `site`."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.site = site
    for module in (
        routes_meta,
        routes_issue,
        routes_attachments,
        routes_transitions,
        routes_search,
        routes_servicedesk,
    ):
        app.include_router(module.router)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.middleware("http")(_inject_faults)
    return app


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.to_response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = {
        ".".join(str(part) for part in error["loc"][1:]) or "request": error["msg"]
        for error in exc.errors()
    }
    return ApiError(400, [], errors).to_response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"No resource found at {request.url.path}."
        return ApiError(404, [message]).to_response()
    return ApiError(exc.status_code, [str(exc.detail)]).to_response()


async def _inject_faults(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    site: Site = request.app.state.site
    fault = site.faults.take()
    if fault is None:
        return await call_next(request)
    if fault.status != 429:
        message = "The emulator was set to fail this request (inject_error)."
        return JSONResponse({"errorMessages": [message], "errors": {}}, status_code=fault.status)
    retry_after = fault.retry_after or 1
    headers = {
        "Retry-After": str(retry_after),
        "X-RateLimit-Reset": site.rate_limit_reset(retry_after),
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "RateLimit-Reason": "jira-burst-based",
    }
    body = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    return JSONResponse(body, status_code=429, headers=headers)
