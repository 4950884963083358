"""Site metadata routes: server info, the caller, fields, priorities, resolutions, users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.render import ApiVersion
from tierbridge.emulators.jira.site import current_user, site_of
from tierbridge.emulators.jira.wire import jira_time

__all__ = ["router"]

router = APIRouter()
User = Annotated[UserProfile, Depends(current_user)]


@router.get("/rest/api/{api}/serverInfo")
def server_info(api: ApiVersion, request: Request) -> dict[str, Any]:
    site = site_of(request)
    return {
        "baseUrl": site.renderer.base_url,
        "displayUrl": site.renderer.base_url,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100280,
        "buildDate": "2026-09-01T00:00:00.000+0000",
        "serverTime": jira_time(site.state.now(), "UTC"),
        "scmInfo": "0000000000000000000000000000000000000000",
        "serverTitle": "Jira",
        "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC",
    }


@router.get("/rest/api/{api}/myself")
def myself(api: ApiVersion, request: Request, user: User) -> dict[str, Any]:
    body = site_of(request).renderer.user(user.account_id, api) or {}
    return {**body, "locale": "en_US"}


@router.get("/rest/api/{api}/field")
def fields(api: ApiVersion, user: User) -> list[dict[str, object]]:
    return [definition.to_json() for definition in catalog.FIELDS]


@router.get("/rest/api/{api}/priority")
def priorities(api: ApiVersion, request: Request, user: User) -> list[dict[str, Any]]:
    renderer = site_of(request).renderer
    return [
        {**renderer.priority(pid, api), "statusColor": "#cccccc", "description": name}
        for pid, name in catalog.PRIORITIES
    ]


@router.get("/rest/api/{api}/resolution")
def resolutions(api: ApiVersion, request: Request, user: User) -> list[dict[str, Any]]:
    renderer = site_of(request).renderer
    return [renderer.resolution(rid, api) or {} for rid, _, _ in catalog.RESOLUTIONS]


@router.get("/rest/api/{api}/user/search")
def search_users(
    api: ApiVersion,
    request: Request,
    user: User,
    query: Annotated[str, Query()] = "",
    start_at: Annotated[int, Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """Match `query` against the start of e-mail addresses and display-name words."""
    site = site_of(request)
    needle = query.lower()
    matches = [
        profile
        for profile in site.state.profiles.values()
        if needle
        and (
            profile.email.lower().startswith(needle)
            or any(word.startswith(needle) for word in profile.display_name.lower().split())
        )
    ]
    page = matches[start_at : start_at + max_results]
    return [site.renderer.user(profile.account_id, api) or {} for profile in page]
