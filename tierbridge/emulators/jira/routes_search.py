"""`/rest/api/{2,3}/search/jql`: the Cloud search with opaque `nextPageToken` paging.

As on Jira Cloud: no `total`, `isLast` on every page, only issue ids unless `fields` is given,
50 issues per page by default. The emulator caps pages at 100 issues whatever `maxResults` requests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.jql import parse_jql
from tierbridge.emulators.jira.render import ApiVersion, select_fields
from tierbridge.emulators.jira.site import current_user, site_of
from tierbridge.emulators.jira.wire import ApiError, read_json

__all__ = ["router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]

DEFAULT_PAGE = 50
MAX_PAGE = 100


def _digest(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def _make_token(jql: str, offset: int) -> str:
    raw = json.dumps({"o": offset, "q": _digest(jql)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(jql: str, token: str) -> int:
    invalid = ApiError(400, ["The provided next page token is invalid or expired."])
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not isinstance(data, dict) or data.get("q") != _digest(jql):
        raise invalid
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise invalid
    return offset


def _search(
    request: Request,
    user: UserProfile,
    api: ApiVersion,
    jql: str,
    fields: list[str],
    max_results: int,
    token: str | None,
) -> dict[str, Any]:
    if max_results < 0:
        raise ApiError(400, ["maxResults must not be negative."])
    site = site_of(request)
    with site.state.lock:
        query = parse_jql(jql, site.state, user.time_zone)
        offset = _read_token(jql, token) if token else 0
        size = min(max_results, MAX_PAGE)
        matched = query.run(site.state.issues.values())
        page = matched[offset : offset + size]
        chosen = select_fields(fields, "id")
        body: dict[str, Any] = {
            "issues": [site.renderer.issue(issue, user.time_zone, api, chosen) for issue in page]
        }
        end = offset + len(page)
        if end < len(matched) and page:
            body["nextPageToken"] = _make_token(jql, end)
        body["isLast"] = "nextPageToken" not in body
        return body


@router.get("/rest/api/{api}/search/jql")
def search_get(
    api: ApiVersion,
    request: Request,
    user: User,
    jql: str = "",
    fields: Annotated[list[str] | None, Query()] = None,
    max_results: Annotated[int, Query(alias="maxResults")] = DEFAULT_PAGE,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    return _search(request, user, api, jql, fields or [], max_results, next_page_token)


@router.post("/rest/api/{api}/search/jql")
async def search_post(api: ApiVersion, request: Request, user: User) -> dict[str, Any]:
    body = await read_json(request)
    fields = body.get("fields") or []
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        raise ApiError(400, ["'fields' must be an array of field names."])
    max_results = body.get("maxResults", DEFAULT_PAGE)
    if not isinstance(max_results, int):
        raise ApiError(400, ["'maxResults' must be an integer."])
    token = body.get("nextPageToken")
    return _search(
        request,
        user,
        api,
        str(body.get("jql") or ""),
        fields,
        max_results,
        str(token) if token else None,
    )
