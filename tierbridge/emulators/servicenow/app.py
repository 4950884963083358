"""The FastAPI app: Table API routes, the OAuth token endpoint and the error envelope.

The Attachment API routes are in `attachments.py`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierbridge.emulators.servicenow.attachments import add_attachment_routes
from tierbridge.emulators.servicenow.envelope import NOT_FOUND_DETAIL, api_error, error_body
from tierbridge.emulators.servicenow.render import DisplayMode, RenderOptions, render_record
from tierbridge.emulators.servicenow.routing import (
    AppContext,
    User,
    check_writable,
    flag,
    int_param,
    list_headers,
    respond,
)
from tierbridge.emulators.servicenow.state import ServiceNowState
from tierbridge.emulators.servicenow.writes import user_zone

__all__ = ["AppContext", "build_app"]

_DEFAULT_LIMIT = 10000
_TABLE = "/api/now/table/{table}"
_RECORD = "/api/now/table/{table}/{sys_id}"


def _render_options(request: Request, state: ServiceNowState, user: str) -> RenderOptions:
    params = request.query_params
    display = params.get("sysparm_display_value", "false").strip().lower()
    mode: DisplayMode = "false"
    if display in ("true", "all"):
        mode = "all" if display == "all" else "true"
    raw_fields = params.get("sysparm_fields", "")
    fields = [name.strip() for name in raw_fields.split(",") if name.strip()] or None
    return RenderOptions(
        display=mode,
        exclude_link=flag(params, "sysparm_exclude_reference_link"),
        fields=fields,
        base_url=str(request.base_url).rstrip("/"),
        zone=user_zone(state, user),
    )


async def _json_object(request: Request) -> dict[str, Any]:
    """Parse the body; a JSON array is cut to its first record, as the Table API does."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise api_error(
            400, "Exception while reading request", "The payload is not valid JSON."
        ) from None
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        raise api_error(400, "Exception while reading request", "The payload is not valid JSON.")
    return body


def _add_table_routes(app: FastAPI, state: ServiceNowState) -> None:

    @app.get(_TABLE)
    async def list_records(request: Request, table: str, user: User) -> Response:
        params = request.query_params
        rows = state.select(table, params.get("sysparm_query", ""))
        limit = int_param(params, "sysparm_limit", _DEFAULT_LIMIT)
        offset = int_param(params, "sysparm_offset", 0)
        options = _render_options(request, state, user)
        page = [render_record(state, table, row, options) for row in rows[offset : offset + limit]]

        headers = list_headers(request, offset, limit, len(rows))
        return respond({"result": page}, headers=headers)

    @app.get(_RECORD)
    async def get_record(request: Request, table: str, sys_id: str, user: User) -> Response:
        state.table(table)
        record = state.get(table, sys_id)
        if record is None:
            raise api_error(404, "No Record found", NOT_FOUND_DETAIL)
        return respond(
            {"result": render_record(state, table, record, _render_options(request, state, user))}
        )

    @app.post(_TABLE)
    async def insert_record(request: Request, table: str, user: User) -> Response:
        check_writable(state, table, "Insert")
        body = await _json_object(request)
        display_input = flag(request.query_params, "sysparm_input_display_value")
        record = state.insert(table, body, user=user, display_input=display_input)
        location = f"{str(request.base_url).rstrip('/')}/api/now/table/{table}/{record['sys_id']}"
        rendered = render_record(state, table, record, _render_options(request, state, user))
        return respond({"result": rendered}, status=201, headers={"Location": location})

    async def update_record(request: Request, table: str, sys_id: str, user: User) -> Response:
        check_writable(state, table, "Update")
        body = await _json_object(request)
        display_input = flag(request.query_params, "sysparm_input_display_value")
        record = state.update(table, sys_id, body, user=user, display_input=display_input)
        if request.headers.get("X-no-response-body", "").lower() == "true":
            return Response(status_code=204)
        return respond(
            {"result": render_record(state, table, record, _render_options(request, state, user))}
        )

    app.add_api_route(_RECORD, update_record, methods=["PATCH", "PUT"])

    @app.delete(_RECORD)
    async def delete_record(table: str, sys_id: str, user: User) -> Response:
        check_writable(state, table, "Delete")
        state.delete(table, sys_id)
        return Response(status_code=204)


def _add_error_handlers(app: FastAPI) -> None:
    async def envelope(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if isinstance(exc.detail, dict):
            return respond(exc.detail, status=exc.status_code, headers=headers)
        if exc.status_code == 404:
            body = error_body("Requested URI does not represent any resource", None)
            return respond(body, status=400, headers=headers)
        return respond(error_body(str(exc.detail), None), status=exc.status_code, headers=headers)

    app.add_exception_handler(StarletteHTTPException, envelope)
    app.add_exception_handler(HTTPException, envelope)


def build_app(ctx: AppContext) -> FastAPI:
    """Build the emulator's ASGI app around shared state; every route needs authentication."""
    app = FastAPI(title="ServiceNow emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    _add_table_routes(app, ctx.state)
    add_attachment_routes(app, ctx.state)

    @app.post("/oauth_token.do")
    async def oauth_token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        return respond(ctx.auth.issue_token(form))

    _add_error_handlers(app)
    return app
