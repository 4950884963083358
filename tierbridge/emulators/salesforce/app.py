"""The FastAPI app: OAuth token endpoint, SOQL query, sObject rows, limits and error arrays.

Every `/services/data/vXX.X/...` route needs a bearer token, counts against the org's API
allocation, and carries `Sforce-Limit-Info`, errors included. The versions root
`/services/data/` needs neither and carries no limit header, as in an org. A JSON body longer
than `max_request_bytes` is rejected as an org rejects one over 50 MB, which caps a file sent
as base64 in JSON at about 37.5 MB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tierbridge.emulators.salesforce.cursors import QueryCursors
from tierbridge.emulators.salesforce.errors import NOT_FOUND_MESSAGE, api_error, error_entry
from tierbridge.emulators.salesforce.fieldpaths import find_field, render_field
from tierbridge.emulators.salesforce.guards import ApiLimits, Authenticator
from tierbridge.emulators.salesforce.query import run_query
from tierbridge.emulators.salesforce.schema import OBJECTS, FieldType, ObjectDef
from tierbridge.emulators.salesforce.soql import parse_soql
from tierbridge.emulators.salesforce.soql_syntax import SoqlError
from tierbridge.emulators.salesforce.state import SalesforceState

__all__ = ["SUPPORTED_VERSIONS", "AppContext", "build_app"]

#: API versions the emulator serves, oldest first.
SUPPORTED_VERSIONS = tuple(f"{number}.0" for number in range(31, 67))
_DATA_PREFIX = re.compile(r"^/services/data/v\d+\.\d+(/|$)")
_CALL_OPTIONS = "Sforce-Call-Options"
#: An org's largest JSON request body: 50 MB of 2**20 bytes.
MAX_REQUEST_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class AppContext:
    """State shared by the routes: the org, the authenticator, the allocation and locators."""

    state: SalesforceState
    auth: Authenticator
    limits: ApiLimits
    cursors: QueryCursors
    max_request_bytes: int = MAX_REQUEST_BYTES


def _respond(payload: Any, status: int = 200) -> Response:
    return JSONResponse(payload, status_code=status)


def _check_version(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise api_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def _caller(request: Request, version: str) -> str:
    """Authenticate the request and count it; return the caller's user id."""
    ctx: AppContext = request.app.state.ctx
    _check_version(version)
    user_id = ctx.auth.authenticate(request.headers.get("Authorization"))
    ctx.limits.admit()
    return user_id


Caller = Annotated[str, Depends(_caller)]


def _object(name: str, *, operation: str | None = None) -> ObjectDef:
    definition = OBJECTS.get(name)
    if definition is None:
        raise api_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
    if operation is not None and operation not in definition.operations:
        message = f"entity type {name} does not support {operation}"
        raise api_error(400, "INVALID_TYPE_FOR_OPERATION", message)
    return definition


def _client(request: Request) -> str | None:
    """Return the `client=` of Sforce-Call-Options, which change events report."""
    for item in request.headers.get(_CALL_OPTIONS, "").split(","):
        name, _, value = item.strip().partition("=")
        if name.strip() == "client" and value.strip():
            return value.strip()
    return None


async def _json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > max_bytes:
        message = f"Maximum size of request reached. Maximum size of request is {max_bytes} bytes."
        raise api_error(400, "JSON_PARSER_ERROR", message)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise api_error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise api_error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _render_row(definition: ObjectDef, record: dict[str, Any], version: str, fields: str) -> Any:
    url = f"/services/data/v{version}/sobjects/{definition.name}/{record['Id']}"
    names = [name.strip() for name in fields.split(",") if name.strip()] or list(definition.fields)
    out: dict[str, Any] = {"attributes": {"type": definition.name, "url": url}}
    for name in names:
        if name not in definition.fields:
            message = f"No such column '{name}' on sobject of type {definition.name}"
            raise api_error(400, "INVALID_FIELD", message, [name])
        out[name] = render_field(definition, record, definition.fields[name], version)
    return out


def _unmodified_since(request: Request) -> datetime | None:
    header = request.headers.get("If-Unmodified-Since")
    if header is None:
        return None
    try:
        return parsedate_to_datetime(header)
    except (TypeError, ValueError):
        raise api_error(
            400, "INVALID_HEADER_TYPE", "If-Unmodified-Since is not an HTTP date"
        ) from None


def _run_query(ctx: AppContext, request: Request, version: str, resource: str) -> Response:
    text = request.query_params.get("q")
    if not text:
        raise api_error(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        query = parse_soql(text)
        rows = run_query(query, ctx.state, version=version, include_deleted=resource == "queryAll")
    except SoqlError as exc:
        raise api_error(400, exc.code, exc.message) from None
    batch = ctx.cursors.batch_size(request.headers.get("Sforce-Query-Options"))
    return _respond(ctx.cursors.first_page(rows, batch, version, resource))


def _add_query_routes(app: FastAPI, ctx: AppContext, resource: str) -> None:
    """Serve `query` or `queryAll` (which includes deleted rows) and their later batches."""
    base = f"/services/data/v{{version}}/{resource}"

    async def first(request: Request, version: str, _: Caller) -> Response:
        return _run_query(ctx, request, version, resource)

    async def more(version: str, locator: str, _: Caller) -> Response:
        return _respond(ctx.cursors.next_page(locator, version, resource))

    app.add_api_route(base, first, methods=["GET"])
    app.add_api_route(base + "/", first, methods=["GET"])
    app.add_api_route(base + "/{locator}", more, methods=["GET"])


def _add_sobject_routes(app: FastAPI, ctx: AppContext) -> None:
    rows = "/services/data/v{version}/sobjects/{name}"
    row = rows + "/{record_id}"

    async def create(request: Request, version: str, name: str, user: Caller) -> Response:
        definition = _object(name, operation="create")
        values = await _json_object(request, ctx.max_request_bytes)
        values.pop("attributes", None)
        record = ctx.state.insert(definition.name, values, user_id=user, client=_client(request))
        return _respond({"id": record["Id"], "success": True, "errors": []}, status=201)

    async def read(
        request: Request, version: str, name: str, record_id: str, _: Caller
    ) -> Response:
        definition = _object(name)
        record = ctx.state.get(definition.name, record_id)
        fields = request.query_params.get("fields", "")
        return _respond(_render_row(definition, record, version, fields))

    async def update(
        request: Request, version: str, name: str, record_id: str, user: Caller
    ) -> Response:
        definition = _object(name, operation="update")
        values = await _json_object(request, ctx.max_request_bytes)
        values.pop("attributes", None)
        ctx.state.update(
            definition.name,
            record_id,
            values,
            user_id=user,
            client=_client(request),
            unmodified_since=_unmodified_since(request),
        )
        return Response(status_code=204)

    async def delete(version: str, name: str, record_id: str, user: Caller) -> Response:
        definition = _object(name, operation="delete")
        ctx.state.delete(definition.name, record_id, user_id=user)
        return Response(status_code=204)

    async def blob(version: str, name: str, record_id: str, field: str, _: Caller) -> Response:
        """Serve the raw bytes of a blob field, such as ContentVersion VersionData."""
        definition = _object(name)
        record = ctx.state.get(definition.name, record_id)
        found = find_field(definition, field)
        if found is None or found.type is not FieldType.BASE64:
            raise api_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        content = record.get(found.name) or b""
        return Response(content, media_type="application/octet-stream")

    app.add_api_route(rows, create, methods=["POST"])
    app.add_api_route(rows + "/", create, methods=["POST"])
    app.add_api_route(row, read, methods=["GET"])
    app.add_api_route(row, update, methods=["PATCH"])
    app.add_api_route(row, delete, methods=["DELETE"])
    app.add_api_route(row + "/{field}", blob, methods=["GET"])


def _add_org_routes(app: FastAPI, ctx: AppContext) -> None:
    @app.get("/services/data/")
    @app.get("/services/data")
    async def versions() -> Response:
        listed = [
            {"label": f"API {version}", "url": f"/services/data/v{version}", "version": version}
            for version in SUPPORTED_VERSIONS
        ]
        return JSONResponse(listed)

    @app.get("/services/data/v{version}/")
    @app.get("/services/data/v{version}")
    async def resources(version: str, _: Caller) -> Response:
        prefix = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits")
        return _respond({name: f"{prefix}/{name}" for name in names})

    @app.get("/services/data/v{version}/limits")
    @app.get("/services/data/v{version}/limits/")
    async def limits(version: str, _: Caller) -> Response:
        allocation = ctx.limits.allocation
        remaining = max(allocation - ctx.limits.used, 0)
        return _respond({"DailyApiRequests": {"Max": allocation, "Remaining": remaining}})

    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        return _respond(ctx.auth.issue_token(form, request.headers.get("Authorization")))


def _add_error_handlers(app: FastAPI, ctx: AppContext) -> None:
    async def render(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if isinstance(exc.detail, list | dict):
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=headers)
        if exc.status_code == 405:
            body = [error_entry("METHOD_NOT_ALLOWED", "HTTP Method not allowed for this resource")]
            return JSONResponse(body, status_code=405, headers=headers)
        body = [error_entry("NOT_FOUND", NOT_FOUND_MESSAGE)]
        return JSONResponse(body, status_code=404, headers=headers)

    async def limit_header(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if _DATA_PREFIX.match(request.url.path):
            response.headers["Sforce-Limit-Info"] = ctx.limits.header()
        return response

    app.add_exception_handler(StarletteHTTPException, render)
    app.add_exception_handler(HTTPException, render)
    app.middleware("http")(limit_header)


def build_app(ctx: AppContext) -> FastAPI:
    """Build the emulator's ASGI app around one org."""
    app = FastAPI(title="Salesforce emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    _add_org_routes(app, ctx)
    _add_query_routes(app, ctx, "query")
    _add_query_routes(app, ctx, "queryAll")
    _add_sobject_routes(app, ctx)
    _add_error_handlers(app, ctx)
    return app
