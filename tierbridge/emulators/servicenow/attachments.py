"""The Attachment API routes: list, read, download and upload the files attached to records.

* `GET /api/now/attachment?sysparm_query=…` lists sys_attachment rows, paged as the Table API
  pages (`sysparm_limit`, 1000 by default, `sysparm_offset`, `X-Total-Count`, `Link`).
* `GET /api/now/attachment/{sys_id}` returns the metadata of one file.
* `GET /api/now/attachment/{sys_id}/file` returns its bytes under its own Content-Type.
* `POST /api/now/attachment/file?table_name=…&table_sys_id=…&file_name=…` stores the raw body
  under the request's Content-Type and responds 201 with the metadata and a `Location`.

Every route needs authentication and counts against the injected rate limit, as the Table
API's routes do. Values are strings, `size_bytes` included.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

from tierbridge.emulators.servicenow.envelope import NOT_FOUND_DETAIL, api_error
from tierbridge.emulators.servicenow.routing import (
    User,
    check_writable,
    int_param,
    list_headers,
    respond,
)
from tierbridge.emulators.servicenow.schema import TABLES
from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = ["add_attachment_routes", "render_attachment"]

_LIST = "/api/now/attachment"
_ONE = "/api/now/attachment/{sys_id}"
_FILE = "/api/now/attachment/{sys_id}/file"
_UPLOAD = "/api/now/attachment/file"
#: The Attachment API's default `sysparm_limit`.
_DEFAULT_LIMIT = 1000
_UPLOAD_PARAMS = ("table_name", "table_sys_id", "file_name")
_STORED_FIELDS = (
    "sys_id",
    "file_name",
    "content_type",
    "size_bytes",
    "size_compressed",
    "compressed",
    "table_name",
    "table_sys_id",
    "image_width",
    "image_height",
    "average_image_color",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
)


def render_attachment(
    state: ServiceNowState, row: Mapping[str, str], base_url: str
) -> dict[str, str]:
    """Render a sys_attachment row as the Attachment API's metadata object."""
    rendered = {name: row.get(name, "") for name in _STORED_FIELDS}
    rendered["sys_tags"] = ""
    rendered["download_link"] = f"{base_url}/api/now/attachment/{row['sys_id']}/file"
    rendered["created_by_name"] = _full_name(state, row.get("sys_created_by", ""))
    rendered["updated_by_name"] = _full_name(state, row.get("sys_updated_by", ""))
    return rendered


def _full_name(state: ServiceNowState, user_name: str) -> str:
    user = state.user_by_name(user_name)
    return user["name"] if user is not None else user_name


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _not_found() -> HTTPException:
    return api_error(404, "No Record found", NOT_FOUND_DETAIL)


def _stored(state: ServiceNowState, sys_id: str) -> dict[str, str]:
    row = state.get("sys_attachment", sys_id)
    if row is None:
        raise _not_found()
    return row


def _upload_target(request: Request, state: ServiceNowState) -> tuple[str, str, str, str]:
    """Read (table, sys_id, file name, content type) from an upload, or raise its 4xx error.

    NOTE: the documentation gives the statuses (400 for a missing parameter, 404 for a
    record that does not exist or is hidden) but not the wording of the 400s.
    """
    params = request.query_params
    missing = [name for name in _UPLOAD_PARAMS if not params.get(name)]
    if missing:
        detail = f"Missing mandatory parameter: {', '.join(missing)}"
        raise api_error(400, "Failed to create the attachment", detail)
    content_type = request.headers.get("Content-Type", "").strip()
    if not content_type:
        detail = "The Content-Type header, the file's content type, is mandatory"
        raise api_error(400, "Failed to create the attachment", detail)

    table = params["table_name"]
    if table not in TABLES:
        raise _not_found()
    check_writable(state, table, "Insert")
    return table, params["table_sys_id"], params["file_name"], content_type


def add_attachment_routes(app: FastAPI, state: ServiceNowState) -> None:
    """Add the Attachment API's routes to the app."""

    @app.get(_LIST)
    async def list_attachments(request: Request, user: User) -> Response:
        params = request.query_params
        rows = state.select("sys_attachment", params.get("sysparm_query", ""))
        limit = int_param(params, "sysparm_limit", _DEFAULT_LIMIT)
        offset = int_param(params, "sysparm_offset", 0)
        base = _base_url(request)
        page = [render_attachment(state, row, base) for row in rows[offset : offset + limit]]
        return respond({"result": page}, headers=list_headers(request, offset, limit, len(rows)))

    @app.post(_UPLOAD)
    async def upload_attachment(request: Request, user: User) -> Response:
        table, sys_id, file_name, content_type = _upload_target(request, state)
        content = await request.body()
        row = state.add_attachment(table, sys_id, file_name, content, content_type, user=user)

        base = _base_url(request)
        location = f"{base}/api/now/attachment/{row['sys_id']}"
        result = render_attachment(state, row, base)
        return respond({"result": result}, status=201, headers={"Location": location})

    @app.get(_ONE)
    async def get_attachment(request: Request, sys_id: str, user: User) -> Response:
        row = _stored(state, sys_id)
        return respond({"result": render_attachment(state, row, _base_url(request))})

    @app.get(_FILE)
    async def download_attachment(sys_id: str, user: User) -> Response:
        row = _stored(state, sys_id)
        content = state.attachment_content(sys_id)
        if content is None:
            raise _not_found()
        # Set as a header: Starlette would append a charset to a text/* media type.
        content_type = row["content_type"] or "application/octet-stream"
        return Response(content, headers={"Content-Type": content_type})
