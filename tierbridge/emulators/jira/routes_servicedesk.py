"""JSM `servicedeskapi` routes: service desks, customer requests and request comments.

These endpoints take plain (wiki) text rather than ADF, and return errors as
`{"errorMessage": ..., "i18nErrorMessage": ...}` instead of the platform's shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.adf import adf_to_wiki, text_to_adf
from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.fields import parse_fields
from tierbridge.emulators.jira.site import Site, current_user, site_of
from tierbridge.emulators.jira.state import StoredComment, StoredIssue
from tierbridge.emulators.jira.wire import ApiError, issue_not_found, jsm_date, read_json

__all__ = ["router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]

#: Fields of the "Report a system problem" request type, with their portal labels.
_REQUEST_FIELDS = {
    "summary": "Summary",
    "description": "Description",
    "priority": "Priority",
    "labels": "Labels",
    catalog.CORRELATION_FIELD: "External reference",
    catalog.CATEGORY_FIELD: "Category",
}


def _desk_json(site: Site) -> dict[str, Any]:
    base = site.renderer.base_url
    return {
        "id": catalog.SERVICE_DESK_ID,
        "projectId": catalog.PROJECT_ID,
        "projectName": f"{site.state.project_key} Support",
        "projectKey": site.state.project_key,
        "_links": {"self": f"{base}/rest/servicedeskapi/servicedesk/{catalog.SERVICE_DESK_ID}"},
    }


def _paged(values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": len(values), "start": 0, "limit": 50, "isLastPage": True, "values": values}


@router.get("/rest/servicedeskapi/servicedesk")
def list_service_desks(request: Request, user: User) -> dict[str, Any]:
    return _paged([_desk_json(site_of(request))])


@router.get("/rest/servicedeskapi/servicedesk/{desk_id}")
def get_service_desk(desk_id: str, request: Request, user: User) -> dict[str, Any]:
    if desk_id != catalog.SERVICE_DESK_ID:
        raise ApiError(404, [f"Service desk {desk_id} does not exist."], servicedesk=True)
    return _desk_json(site_of(request))


@router.get("/rest/servicedeskapi/servicedesk/{desk_id}/requesttype")
def list_request_types(desk_id: str, user: User) -> dict[str, Any]:
    if desk_id != catalog.SERVICE_DESK_ID:
        raise ApiError(404, [f"Service desk {desk_id} does not exist."], servicedesk=True)
    request_type = {
        **catalog.REQUEST_TYPE,
        "serviceDeskId": desk_id,
        "issueTypeId": catalog.ISSUE_TYPE["id"],
        "description": "",
        "helpText": "",
    }
    return _paged([request_type])


@router.post("/rest/servicedeskapi/request", status_code=201)
async def create_request(request: Request, user: User) -> JSONResponse:
    site = site_of(request)
    body = await read_json(request, servicedesk=True)
    _check_desk_and_type(body)
    raw_values = body.get("requestFieldValues")
    if not isinstance(raw_values, dict):
        raise ApiError(400, ["requestFieldValues must be an object."], servicedesk=True)
    with site.state.lock:
        values = _request_values(site, raw_values)
        reporter = _on_behalf_of(site, body.get("raiseOnBehalfOf"))
        if reporter is not None:
            values["reporter"] = reporter
        issue = site.state.create_issue(user, values, catalog.REQUEST_TYPE["id"])
        return JSONResponse(_request_json(site, issue, user), status_code=201)


def _check_desk_and_type(body: dict[str, Any]) -> None:
    if str(body.get("serviceDeskId")) != catalog.SERVICE_DESK_ID:
        message = "The service desk you are trying to raise a request in does not exist."
        raise ApiError(400, [message], servicedesk=True)
    if str(body.get("requestTypeId")) != catalog.REQUEST_TYPE["id"]:
        message = "The request type you are trying to raise a request with does not exist."
        raise ApiError(400, [message], servicedesk=True)


def _request_values(site: Site, raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(_REQUEST_FIELDS))
    if unknown:
        message = f"These fields are not valid for this request type: {', '.join(unknown)}."
        raise ApiError(400, [message], servicedesk=True)
    fields = {"summary": None, **raw}
    description = fields.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise ApiError(400, ["Description must be text."], servicedesk=True)
        fields["description"] = text_to_adf(description) if description.strip() else None
    return parse_fields(site.state, fields, servicedesk=True)


def _on_behalf_of(site: Site, email_or_account: object) -> str | None:
    if email_or_account is None:
        return None
    for profile in site.state.profiles.values():
        if email_or_account in (profile.email, profile.account_id):
            return profile.account_id
    raise ApiError(400, [f"The user '{email_or_account}' does not exist."], servicedesk=True)


def _jsm_user(site: Site, account_id: str | None, time_zone: str) -> dict[str, Any] | None:
    body = site.renderer.user(account_id)
    if body is None:
        return None
    return {
        key: body[key]
        for key in ("accountId", "emailAddress", "displayName", "active", "timeZone")
        if key in body
    }


def _request_json(site: Site, issue: StoredIssue, viewer: UserProfile) -> dict[str, Any]:
    zone = viewer.time_zone
    base = site.renderer.base_url
    status = catalog.STATUSES[issue.status_id]
    field_values = [
        {"fieldId": "summary", "label": "Summary", "value": issue.summary},
        {"fieldId": "description", "label": "Description", "value": adf_to_wiki(issue.description)},
    ]
    if issue.correlation is not None:
        field_values.append(
            {
                "fieldId": catalog.CORRELATION_FIELD,
                "label": "External reference",
                "value": issue.correlation,
            }
        )
    return {
        "_expands": [
            "participant",
            "status",
            "sla",
            "requestType",
            "serviceDesk",
            "attachment",
            "action",
            "comment",
        ],
        "issueId": str(issue.id),
        "issueKey": issue.key,
        "requestTypeId": catalog.REQUEST_TYPE["id"],
        "serviceDeskId": catalog.SERVICE_DESK_ID,
        "createdDate": jsm_date(issue.created, zone),
        "reporter": _jsm_user(site, issue.reporter, zone),
        "requestFieldValues": field_values,
        "currentStatus": {
            "status": status.name,
            "statusCategory": status.category.key.upper(),
            "statusDate": jsm_date(issue.status_changed, zone),
        },
        "_links": {
            "web": f"{base}/servicedesk/customer/portal/{catalog.SERVICE_DESK_ID}/{issue.key}",
            "self": f"{base}/rest/servicedeskapi/request/{issue.id}",
        },
    }


@router.post("/rest/servicedeskapi/request/{id_or_key}/comment", status_code=201)
async def add_request_comment(id_or_key: str, request: Request, user: User) -> JSONResponse:
    site = site_of(request)
    body = await read_json(request, servicedesk=True)
    text = body.get("body")
    public = body.get("public", True)
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, ["Comment body can not be empty."], servicedesk=True)
    if not isinstance(public, bool):
        raise ApiError(400, ["'public' must be true or false."], servicedesk=True)
    with site.state.lock:
        issue = site.state.find(id_or_key)
        if issue is None:
            raise issue_not_found(id_or_key, servicedesk=True)
        comment = site.state.add_comment(user, issue, text_to_adf(text), public=public)
        return JSONResponse(_comment_json(site, issue, comment, user), status_code=201)


def _comment_json(
    site: Site, issue: StoredIssue, comment: StoredComment, viewer: UserProfile
) -> dict[str, Any]:
    base = site.renderer.base_url
    return {
        "id": str(comment.id),
        "body": adf_to_wiki(comment.body),
        "public": comment.public,
        "author": _jsm_user(site, comment.author, viewer.time_zone),
        "created": jsm_date(comment.created, viewer.time_zone),
        "_links": {"self": f"{base}/rest/servicedeskapi/request/{issue.id}/comment/{comment.id}"},
    }
