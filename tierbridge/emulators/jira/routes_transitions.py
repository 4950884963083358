"""Workflow routes: list the transitions available from an issue's status, and perform one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.catalog import Transition, UserProfile
from tierbridge.emulators.jira.fields import (
    FieldError,
    apply_update_operations,
    not_settable,
    resolution_id,
)
from tierbridge.emulators.jira.render import Renderer
from tierbridge.emulators.jira.routes_issue import find_issue, parse_comment_body
from tierbridge.emulators.jira.site import current_user, site_of
from tierbridge.emulators.jira.state import StoredIssue
from tierbridge.emulators.jira.wire import ApiError, read_json

__all__ = ["available_transitions", "router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]


def available_transitions(issue: StoredIssue) -> list[Transition]:
    return [item for item in catalog.TRANSITIONS if issue.status_id in item.sources]


@router.get("/rest/api/3/issue/{id_or_key}/transitions")
def list_transitions(
    id_or_key: str,
    request: Request,
    user: User,
    expand: str = "",
    transition_id: Annotated[str | None, Query(alias="transitionId")] = None,
) -> dict[str, Any]:
    site = site_of(request)
    with_fields = "transitions.fields" in expand.split(",")
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        listed = [
            _transition_json(site.renderer, item, with_fields)
            for item in available_transitions(issue)
            if transition_id is None or item.id == transition_id
        ]
    return {"expand": "transitions", "transitions": listed}


def _transition_json(renderer: Renderer, item: Transition, with_fields: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "to": renderer.status(item.target.id),
        "hasScreen": item.resolution in ("required", "optional"),
        "isGlobal": False,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "looped": False,
    }
    if with_fields:
        body["fields"] = _screen_fields(renderer, item)
    return body


def _screen_fields(renderer: Renderer, item: Transition) -> dict[str, Any]:
    if item.resolution not in ("required", "optional"):
        return {}
    allowed = [renderer.resolution(rid) for rid, _, _ in catalog.RESOLUTIONS]
    return {
        "resolution": {
            "required": item.resolution == "required",
            "schema": {"type": "resolution", "system": "resolution"},
            "name": "Resolution",
            "key": "resolution",
            "operations": ["set"],
            "allowedValues": allowed,
        }
    }


@router.post("/rest/api/3/issue/{id_or_key}/transitions", status_code=204)
async def do_transition(id_or_key: str, request: Request, user: User) -> Response:
    site = site_of(request)
    body = await read_json(request)
    with site.state.lock:
        issue = find_issue(site, id_or_key)
        transition = _chosen_transition(issue, body.get("transition"))
        update_fields, comments = apply_update_operations(issue, body.get("update") or {})
        fields = {**dict(body.get("fields") or {}), **update_fields}
        resolution_id = _resolution_from(transition, fields)
        bodies = [parse_comment_body(raw) for raw in comments]
        site.state.transition(user, issue, transition, resolution_id)
        for comment_body in bodies:
            site.state.add_comment(user, issue, comment_body, public=True)
    return Response(status_code=204)


def _chosen_transition(issue: StoredIssue, reference: object) -> Transition:
    if not isinstance(reference, dict) or not reference.get("id"):
        raise ApiError(400, ["Missing 'transition' identifier"])
    requested_id = str(reference["id"])
    for item in available_transitions(issue):
        if item.id == requested_id:
            return item
    raise ApiError(400, [f"Transition id '{requested_id}' is not valid for this issue."])


def _resolution_from(transition: Transition, fields: dict[str, Any]) -> str | None:
    """Return the resolution id to set; enforce the screen's required and allowed fields."""
    takes_resolution = transition.resolution in ("required", "optional")
    errors = {
        name: not_settable(name) for name in fields if name != "resolution" or not takes_resolution
    }
    if errors:
        raise ApiError(400, [], errors)
    raw = fields.get("resolution")
    if raw is None:
        if transition.resolution == "required":
            raise ApiError(400, [], {"resolution": "Resolution is required."})
        raw = {"name": transition.default_resolution} if transition.default_resolution else None
    try:
        return resolution_id(raw)
    except FieldError as exc:
        raise ApiError(400, [], {"resolution": str(exc)}) from exc
