"""The FastAPI app: Entra ID endpoints, one Web API route that dispatches OData paths, errors.

OData addresses rows as `incidents(<guid>)` and metadata as
`EntityDefinitions(LogicalName='incident')/...`, which do not fit path templates well, so a
single catch-all route under `/api/data/v9.2/` matches the path against the patterns below.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierbridge.emulators.dynamics.call import API_ROOT, AppContext, Call, respond
from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, error_body, odata_error
from tierbridge.emulators.dynamics.prefer import parse_prefer
from tierbridge.emulators.dynamics.routes_actions import close_incident, status_metadata, who_am_i
from tierbridge.emulators.dynamics.routes_property import get_property
from tierbridge.emulators.dynamics.routes_rows import (
    create_row,
    get_row,
    list_rows,
    related_notes,
    update_row,
)
from tierbridge.emulators.dynamics.schema import TABLES, by_entity_set
from tierbridge.emulators.dynamics.values import parse_guid

__all__ = ["build_app"]

_COLLECTION = re.compile(r"^(?P<set>[a-z_]+)$")
_ROW = re.compile(r"^(?P<set>[a-z_]+)\((?P<id>[^)]+)\)$")
_NOTES = re.compile(r"^incidents\((?P<id>[^)]+)\)/Incident_Annotation$")
_PROPERTY = re.compile(
    r"^(?P<set>[a-z_]+)\((?P<id>[^)]+)\)/(?P<column>[a-z0-9_]+)(?P<raw>/\$value)?$"
)
_STATUS = re.compile(
    r"^EntityDefinitions\(LogicalName='(?P<entity>\w+)'\)/Attributes"
    r"(?P<single>\(LogicalName='statuscode'\))?/Microsoft\.Dynamics\.CRM\.StatusAttributeMetadata$"
)
_WHO_AM_I = re.compile(r"^WhoAmI(\(\))?$")


def _not_found(path: str) -> Exception:
    segment = path.split("/", 1)[0]
    return odata_error(404, NOT_FOUND_SEGMENT, f"Resource not found for the segment '{segment}'.")


def _not_allowed(method: str, path: str) -> Exception:
    return odata_error(
        405, NOT_FOUND_SEGMENT, f"The HTTP method '{method}' is not allowed for '{path}'."
    )


def _row_id(raw: str) -> str:
    row_id = parse_guid(raw)
    if row_id is None:
        raise odata_error(
            400, NOT_FOUND_SEGMENT, f"Bad Request - Error in query syntax: '{raw}' is not a GUID."
        )
    return row_id


async def _dispatch(call: Call, path: str) -> Response:
    method = call.request.method
    if _WHO_AM_I.match(path) and method == "GET":
        return who_am_i(call)
    if path == "CloseIncident":
        if method != "POST":
            raise _not_allowed(method, path)
        return await close_incident(call)
    if match := _STATUS.match(path):
        return status_metadata(call, match["entity"], bool(match["single"]))
    if (match := _NOTES.match(path)) and method == "GET":
        return related_notes(call, TABLES["annotation"], _row_id(match["id"]))
    if (match := _PROPERTY.match(path)) and (table := by_entity_set(match["set"])) is not None:
        if method != "GET":
            raise _not_allowed(method, path)
        row_id = _row_id(match["id"])
        return get_property(call, table, row_id, match["column"], raw=bool(match["raw"]))

    if match := _COLLECTION.match(path):
        table = by_entity_set(match["set"])
        if table is not None and method == "GET":
            return list_rows(call, table, table.entity_set)
        if table is not None and method == "POST":
            return await create_row(call, table)
    elif match := _ROW.match(path):
        table = by_entity_set(match["set"])
        if table is not None and method == "GET":
            return get_row(call, table, _row_id(match["id"]))
        if table is not None and method == "PATCH":
            return await update_row(call, table, _row_id(match["id"]))
    else:
        raise _not_found(path)
    if table is None:
        raise _not_found(path)
    raise _not_allowed(method, path)


def _add_identity_routes(app: FastAPI, ctx: AppContext) -> None:
    @app.get("/{tenant}/v2.0/.well-known/openid-configuration")
    async def openid_configuration(request: Request, tenant: str) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(ctx.identity.openid_configuration(base, tenant))

    @app.post("/{tenant}/oauth2/v2.0/token")
    async def token(request: Request, tenant: str) -> Response:
        base = str(request.base_url).rstrip("/")
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        return JSONResponse(ctx.identity.issue_token(base, tenant, form))


def _add_error_handlers(app: FastAPI) -> None:
    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if not exc.detail:
            return Response(status_code=exc.status_code, headers=headers)
        if isinstance(exc.detail, dict):
            if "error" in exc.detail and isinstance(exc.detail["error"], dict):
                return respond(exc.detail, status=exc.status_code, headers=headers)
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=headers)
        body = error_body(NOT_FOUND_SEGMENT, str(exc.detail))
        return respond(body, status=exc.status_code, headers=headers)

    app.add_exception_handler(StarletteHTTPException, render)
    app.add_exception_handler(HTTPException, render)


def build_app(ctx: AppContext) -> FastAPI:
    """Build the emulator's ASGI app around shared state; every Web API call needs a token."""
    app = FastAPI(title="Dynamics 365 emulator", docs_url=None, redoc_url=None, openapi_url=None)
    _add_identity_routes(app, ctx)

    async def web_api(request: Request, path: str) -> Response:
        base = str(request.base_url).rstrip("/")
        user_id = ctx.identity.authenticate(request.headers.get("Authorization"), base)
        ctx.throttle.check()
        prefer = parse_prefer(request.headers.get("Prefer"))
        call = Call(ctx, request, user_id, prefer, ctx.state.new_guid())
        return await _dispatch(call, path)

    app.add_api_route(
        API_ROOT + "/{path:path}", web_api, methods=["GET", "POST", "PATCH", "DELETE", "PUT"]
    )
    _add_error_handlers(app)
    return app
