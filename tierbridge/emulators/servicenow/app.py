"""The FastAPI app: Table API routes, the OAuth token endpoint and the error envelope."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierbridge.emulators.servicenow.envelope import NOT_FOUND_DETAIL, api_error, error_body
from tierbridge.emulators.servicenow.guards import Authenticator, Throttle
from tierbridge.emulators.servicenow.render import DisplayMode, RenderOptions, render_record
from tierbridge.emulators.servicenow.state import ServiceNowState
from tierbridge.emulators.servicenow.writes import user_zone

__all__ = ["AppContext", "build_app"]

_JSON = "application/json;charset=UTF-8"
_DEFAULT_LIMIT = 10000
_TABLE = "/api/now/table/{table}"
_RECORD = "/api/now/table/{table}/{sys_id}"


@dataclass(frozen=True)
class AppContext:
    """State shared by the routes: the instance data, the authenticator and the throttle."""

    state: ServiceNowState
    auth: Authenticator
    throttle: Throttle


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "false").strip().lower() == "true"


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise api_error(400, f"Invalid value {raw!r} for parameter {name}", None) from None
    return max(value, 0)


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
        exclude_link=_flag(params, "sysparm_exclude_reference_link"),
        fields=fields,
        base_url=str(request.base_url).rstrip("/"),
        zone=user_zone(state, user),
    )


def _respond(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(payload, status_code=status, headers=dict(headers or {}), media_type=_JSON)


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


def _link_header(request: Request, offset: int, limit: int, total: int) -> str:
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


def _current_user(request: Request) -> str:
    """Authenticate the request, then apply any injected rate limiting."""
    ctx: AppContext = request.app.state.ctx
    user = ctx.auth.authenticate(request.headers.get("Authorization"))
    ctx.throttle.check()
    return user


User = Annotated[str, Depends(_current_user)]


def _add_table_routes(app: FastAPI, state: ServiceNowState) -> None:

    @app.get(_TABLE)
    async def list_records(request: Request, table: str, user: User) -> Response:
        params = request.query_params
        rows = state.select(table, params.get("sysparm_query", ""))
        limit = _int_param(params, "sysparm_limit", _DEFAULT_LIMIT)
        offset = _int_param(params, "sysparm_offset", 0)
        options = _render_options(request, state, user)
        page = [render_record(state, table, row, options) for row in rows[offset : offset + limit]]

        headers: dict[str, str] = {}
        if not _flag(params, "sysparm_no_count"):
            headers["X-Total-Count"] = str(len(rows))
        if not _flag(params, "sysparm_suppress_pagination_header"):
            headers["Link"] = _link_header(request, offset, limit, len(rows))
        return _respond({"result": page}, headers=headers)

    @app.get(_RECORD)
    async def get_record(request: Request, table: str, sys_id: str, user: User) -> Response:
        state.table(table)
        record = state.get(table, sys_id)
        if record is None:
            raise api_error(404, "No Record found", NOT_FOUND_DETAIL)
        return _respond(
            {"result": render_record(state, table, record, _render_options(request, state, user))}
        )

    @app.post(_TABLE)
    async def insert_record(request: Request, table: str, user: User) -> Response:
        _check_writable(state, table, "Insert")
        body = await _json_object(request)
        display_input = _flag(request.query_params, "sysparm_input_display_value")
        record = state.insert(table, body, user=user, display_input=display_input)
        location = f"{str(request.base_url).rstrip('/')}/api/now/table/{table}/{record['sys_id']}"
        rendered = render_record(state, table, record, _render_options(request, state, user))
        return _respond({"result": rendered}, status=201, headers={"Location": location})

    async def update_record(request: Request, table: str, sys_id: str, user: User) -> Response:
        _check_writable(state, table, "Update")
        body = await _json_object(request)
        display_input = _flag(request.query_params, "sysparm_input_display_value")
        record = state.update(table, sys_id, body, user=user, display_input=display_input)
        if request.headers.get("X-no-response-body", "").lower() == "true":
            return Response(status_code=204)
        return _respond(
            {"result": render_record(state, table, record, _render_options(request, state, user))}
        )

    app.add_api_route(_RECORD, update_record, methods=["PATCH", "PUT"])

    @app.delete(_RECORD)
    async def delete_record(table: str, sys_id: str, user: User) -> Response:
        _check_writable(state, table, "Delete")
        state.delete(table, sys_id)
        return Response(status_code=204)


def _check_writable(state: ServiceNowState, table: str, action: str) -> None:
    """Refuse writes to read-only tables with the 403 an ACL gives."""
    if state.table(table).read_only:
        detail = f"ACL Exception {action} Failed due to security constraints"
        raise api_error(403, "Operation Failed", detail)


def _add_error_handlers(app: FastAPI) -> None:
    async def envelope(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if isinstance(exc.detail, dict):
            return _respond(exc.detail, status=exc.status_code, headers=headers)
        if exc.status_code == 404:
            body = error_body("Requested URI does not represent any resource", None)
            return _respond(body, status=400, headers=headers)
        return _respond(error_body(str(exc.detail), None), status=exc.status_code, headers=headers)

    app.add_exception_handler(StarletteHTTPException, envelope)
    app.add_exception_handler(HTTPException, envelope)


def build_app(ctx: AppContext) -> FastAPI:
    """Build the emulator's ASGI app around shared state; every route needs authentication."""
    app = FastAPI(title="ServiceNow emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    _add_table_routes(app, ctx.state)

    @app.post("/oauth_token.do")
    async def oauth_token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        return _respond(ctx.auth.issue_token(form))

    _add_error_handlers(app)
    return app
