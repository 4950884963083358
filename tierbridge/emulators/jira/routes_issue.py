"""Platform API issue routes (v3, ADF): read, create, edit, the edit screen, and comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.adf import AdfError, check_adf
from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.fields import apply_update_operations, edit_metadata, parse_fields
from tierbridge.emulators.jira.render import select_fields
from tierbridge.emulators.jira.site import Site, current_user, site_of
from tierbridge.emulators.jira.state import StoredIssue
from tierbridge.emulators.jira.wire import ApiError, issue_not_found, read_json

__all__ = ["find_issue", "parse_comment_body", "router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]
_MAX_COMMENTS_PAGE = 100


def find_issue(site: Site, id_or_key: str) -> StoredIssue:
    issue = site.state.find(id_or_key)
    if issue is None:
        raise issue_not_found(id_or_key)
    return issue


@router.get("/rest/api/3/issue/{id_or_key}")
def get_issue(
    id_or_key: str,
    request: Request,
    user: User,
    fields: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    site = site_of(request)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        chosen = select_fields(fields or [], "*all")
        return site.renderer.issue(issue, user.time_zone, "3", chosen)


@router.post("/rest/api/3/issue", status_code=201)
async def create_issue(request: Request, user: User) -> dict[str, str]:
    site = site_of(request)
    body = await read_json(request)
    with site.state.lock:
        fields = dict(body.get("fields") or {})
        _check_project_and_type(site, fields.pop("project", None), fields.pop("issuetype", None))
        fields.setdefault("summary", None)
        values = parse_fields(site.state, fields)
        issue = site.state.create_issue(user, values)
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{site.renderer.base_url}/rest/api/3/issue/{issue.id}",
        }


def _check_project_and_type(site: Site, project: object, issue_type: object) -> None:
    errors = {}
    project_ok = isinstance(project, dict) and (
        project.get("key") == site.state.project_key or project.get("id") == catalog.PROJECT_ID
    )
    if not project_ok:
        errors["project"] = "Specify a valid project ID or key"
    type_ok = isinstance(issue_type, dict) and (
        issue_type.get("id") == catalog.ISSUE_TYPE["id"]
        or issue_type.get("name") == catalog.ISSUE_TYPE["name"]
    )
    if not type_ok:
        errors["issuetype"] = "Specify an issue type"
    if errors:
        raise ApiError(400, [], errors)


@router.put("/rest/api/3/issue/{id_or_key}", status_code=204)
async def edit_issue(id_or_key: str, request: Request, user: User) -> Response:
    site = site_of(request)
    body = await read_json(request)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        fields = dict(body.get("fields") or {})
        update_fields, comments = apply_update_operations(issue, body.get("update") or {})
        both = sorted(set(fields) & set(update_fields))
        if both:
            message = "Field cannot be set in both 'fields' and 'update'."
            raise ApiError(400, [], dict.fromkeys(both, message))
        values = parse_fields(
            site.state, {**fields, **update_fields}, resolution=site.resolution_on_edit_screen
        )
        if "resolution" in values:
            _check_done(issue)
        bodies = [parse_comment_body(raw) for raw in comments]
        site.state.edit_issue(user, issue, values)
        for comment_body in bodies:
            site.state.add_comment(user, issue, comment_body, public=True)
    return Response(status_code=204)


def _check_done(issue: StoredIssue) -> None:
    """Reject a resolution on an issue whose status is not done, where only a transition sets it."""
    status = catalog.STATUSES[issue.status_id]
    if status.category.key != "done":
        message = (
            f"Resolution can only be set on an issue in a done status; "
            f"'{status.name}' is not one. Resolve the issue with a transition."
        )
        raise ApiError(400, [], {"resolution": message})


@router.get("/rest/api/3/issue/{id_or_key}/editmeta")
def edit_meta(id_or_key: str, request: Request, user: User) -> dict[str, Any]:
    """Return the fields of the issue's edit screen, which are the fields an edit accepts."""
    site = site_of(request)
    with site.state.lock:
        find_issue(site, id_or_key)
        fields = edit_metadata(site.renderer, resolution=site.resolution_on_edit_screen)
    return {"fields": fields}


@router.get("/rest/api/3/issue/{id_or_key}/comment")
def list_comments(
    id_or_key: str,
    request: Request,
    user: User,
    start_at: Annotated[int, Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int, Query(alias="maxResults", ge=0)] = _MAX_COMMENTS_PAGE,
    order_by: Annotated[str, Query(alias="orderBy")] = "created",
    expand: str = "",
) -> dict[str, Any]:
    site = site_of(request)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        size = min(max_results, _MAX_COMMENTS_PAGE)
        page = site.renderer.comments_page(issue, user.time_zone, "3", start_at, size)
        if order_by == "-created":
            ordered = list(reversed(issue.comments))[start_at : start_at + size]
            page["comments"] = [
                site.renderer.comment(item, issue, user.time_zone) for item in ordered
            ]
        if "properties" in expand.split(","):
            _add_visibility_properties(page["comments"])
        return page


def _add_visibility_properties(comments: list[dict[str, Any]]) -> None:
    for comment in comments:
        internal = not comment["jsdPublic"]
        comment["properties"] = [{"key": "sd.public.comment", "value": {"internal": internal}}]


@router.post("/rest/api/3/issue/{id_or_key}/comment", status_code=201)
async def add_comment(id_or_key: str, request: Request, user: User) -> JSONResponse:
    site = site_of(request)
    body = await read_json(request)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        comment_body = parse_comment_body(body.get("body"))
        public = not _is_internal(body.get("properties"))
        comment = site.state.add_comment(user, issue, comment_body, public=public)
        rendered = site.renderer.comment(comment, issue, user.time_zone)
    return JSONResponse(rendered, status_code=201)


def parse_comment_body(raw: object) -> dict[str, Any]:
    try:
        body = check_adf(raw)
    except AdfError as exc:
        raise ApiError(400, [], {"comment": str(exc)}) from exc
    if not body["content"]:
        raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
    return body


def _is_internal(properties: object) -> bool:
    """Read `sd.public.comment`; like Jira, only a JSON boolean `internal: true` counts."""
    if not isinstance(properties, list):
        return False
    for entry in properties:
        if isinstance(entry, dict) and entry.get("key") == "sd.public.comment":
            value = entry.get("value")
            return isinstance(value, dict) and value.get("internal") is True
    return False
