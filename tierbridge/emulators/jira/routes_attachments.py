"""Attachment routes of the platform API (v3): upload, settings, metadata and download.

An upload is `multipart/form-data` with one part named `file` per file and must carry
`X-Atlassian-Token: no-check`, or Jira responds 403 `XSRF check failed` in plain text. The
download URL responds 303 to the file's bytes, or with the bytes themselves when
`redirect=false` is asked for.

NOTE: on Jira Cloud the 303 leads to the Atlassian media host (`api.media.atlassian.com`),
which reads a `token` in the query instead of the site's credentials. The emulator serves
that step itself, at `/file/{mediaId}/binary` on its own host. The statuses below are the ones
Jira Cloud documents. The texts of the 400, 413 and 415 bodies and of the media errors are
this emulator's own.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.routes_issue import find_issue
from tierbridge.emulators.jira.site import Site, current_user, site_of
from tierbridge.emulators.jira.state import StoredAttachment
from tierbridge.emulators.jira.wire import ApiError

__all__ = ["router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]
#: Maximum number of files in one upload request, as on Jira Cloud.
_MAX_FILES_PER_REQUEST = 60
_XSRF_TOKENS = frozenset({"no-check", "nocheck"})
_DEFAULT_MIME_TYPE = "application/octet-stream"


def _attachment_not_found(attachment_id: str) -> ApiError:
    return ApiError(404, [f"The attachment with id '{attachment_id}' does not exist"])


def _find_attachment(site: Site, attachment_id: str) -> StoredAttachment:
    found = site.state.attachments.get(int(attachment_id)) if attachment_id.isdigit() else None
    if found is None:
        raise _attachment_not_found(attachment_id)
    return found


@dataclass(frozen=True)
class _FilePart:
    filename: str
    content: bytes
    content_type: str


async def _read_files(form: FormData) -> list[_FilePart]:
    uploads = [
        value
        for key, value in form.multi_items()
        if key == "file" and isinstance(value, UploadFile) and value.filename
    ]
    if not uploads:
        raise ApiError(400, ["The request contains no part named 'file' with a file name."])
    if len(uploads) > _MAX_FILES_PER_REQUEST:
        message = f"At most {_MAX_FILES_PER_REQUEST} files can be uploaded in one request."
        raise ApiError(413, [message])
    return [
        _FilePart(upload.filename or "", await upload.read(), upload.content_type or "")
        for upload in uploads
    ]


async def _file_parts(request: Request, max_bytes: int) -> list[_FilePart]:
    """Return the `file` parts of an upload body, or raise the error Jira would respond with."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise ApiError(415, ["The request body must be multipart/form-data."])
    try:
        form = await request.form(max_files=_MAX_FILES_PER_REQUEST + 1)
    except (MultiPartException, ValueError) as exc:
        message = f"The request body is not valid multipart/form-data: {exc}."
        raise ApiError(400, [message]) from exc

    try:
        files = await _read_files(form)
    finally:
        await form.close()
    if any(len(part.content) > max_bytes for part in files):
        message = f"The field file exceeds its maximum permitted size of {max_bytes} bytes."
        raise ApiError(413, [message])
    return files


@router.post("/rest/api/3/issue/{id_or_key}/attachments", response_model=None)
async def add_attachments(
    id_or_key: str, request: Request, user: User
) -> JSONResponse | PlainTextResponse:
    """Attach every `file` part to the issue and return the new attachments in order."""
    site = site_of(request)
    token = request.headers.get("x-atlassian-token", "").strip().lower()
    if token not in _XSRF_TOKENS:
        return PlainTextResponse("XSRF check failed", status_code=403)

    files = await _file_parts(request, site.attachment_max_bytes)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        created = [
            site.state.add_attachment(
                user,
                issue,
                part.filename,
                part.content,
                part.content_type or _DEFAULT_MIME_TYPE,
            )
            for part in files
        ]
        rendered = [site.renderer.attachment(item, user.time_zone) for item in created]
    return JSONResponse(rendered)


@router.get("/rest/api/3/attachment/meta")
def attachment_settings(request: Request, user: User) -> dict[str, Any]:
    """Return whether attachments are enabled and the upload limit in bytes."""
    return {"enabled": True, "uploadLimit": site_of(request).attachment_max_bytes}


@router.get("/rest/api/3/attachment/{attachment_id}")
def attachment_metadata(attachment_id: str, request: Request, user: User) -> dict[str, Any]:
    site = site_of(request)
    with site.state.lock:
        attachment = _find_attachment(site, attachment_id)
        return site.renderer.attachment_metadata(attachment, user.time_zone)


@router.get("/rest/api/3/attachment/content/{attachment_id}")
def attachment_content(
    attachment_id: str, request: Request, user: User, redirect: bool = True
) -> Response:
    """Send the bytes with `redirect=false`, else a 303 to the token-signed media URL.

    NOTE: a `Range` header is ignored, so the emulator never responds 206 or 416.
    """
    site = site_of(request)
    with site.state.lock:
        attachment = _find_attachment(site, attachment_id)
    if not redirect:
        return Response(attachment.content, media_type=attachment.mime_type)

    token = site.media_token(attachment)
    name = quote(attachment.filename, safe="")
    location = (
        f"{site.renderer.base_url}/file/{attachment.media_id}/binary"
        f"?token={token}&dl=true&name={name}"
    )
    return Response(status_code=303, headers={"Location": location})


@router.get("/file/{media_id}/binary")
def media_binary(media_id: str, request: Request, token: str = "") -> Response:
    """Send a file's bytes for a valid redirect token alone, without the site's Basic auth."""
    site = site_of(request)
    with site.state.lock:
        found = next(
            (item for item in site.state.attachments.values() if item.media_id == media_id),
            None,
        )
    if found is None:
        raise ApiError(404, [f"No file with id {media_id}."])
    if not hmac.compare_digest(site.media_token(found).encode(), token.encode()):
        raise ApiError(401, ["The media token is missing or invalid."])
    return Response(found.content, media_type=found.mime_type)
