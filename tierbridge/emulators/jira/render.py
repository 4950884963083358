"""Turn stored issues, comments and users into Jira Cloud JSON.

`api="3"` renders rich text as ADF; `api="2"` (and webhooks) render it as wiki markup. Every
timestamp is rendered in the time zone passed in, which is the requesting user's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.adf import adf_to_wiki
from tierbridge.emulators.jira.state import (
    JiraState,
    StoredAttachment,
    StoredComment,
    StoredIssue,
)
from tierbridge.emulators.jira.wire import jira_time, jsm_date

__all__ = ["ApiVersion", "Renderer", "select_fields"]

ApiVersion = Literal["2", "3"]

#: Fields left out of `*navigable`, so they are only sent when asked for or on `*all`.
_NOT_NAVIGABLE = frozenset({"comment", "attachment"})


def select_fields(requested: Iterable[str], default: str) -> frozenset[str] | None:
    """Return the field ids asked for, or None for every field.

    Accepts repeated and comma-separated values, `*all`, `*navigable` and `-name` exclusions.
    """
    names = [part.strip() for value in requested for part in value.split(",") if part.strip()]
    if not names:
        names = [default]
    every = {definition.id for definition in catalog.FIELDS}
    chosen: set[str] = set()
    for name in names:
        if name == "*all":
            chosen |= every
        elif name == "*navigable":
            chosen |= every - _NOT_NAVIGABLE
        elif not name.startswith("-"):
            chosen.add(name)
    chosen -= {name[1:] for name in names if name.startswith("-")}
    return None if chosen == every else frozenset(chosen)


class Renderer:
    """JSON builders bound to the site's base URL and data."""

    def __init__(self, base_url: str, state: JiraState) -> None:
        self.base_url = base_url
        self.state = state

    def user(self, account_id: str | None, api: ApiVersion = "3") -> dict[str, Any] | None:
        if account_id is None:
            return None
        profile = self.state.by_account.get(account_id)
        if profile is None:
            return {"accountId": account_id, "active": False, "displayName": "Former user"}
        avatar = f"{self.base_url}/secure/useravatar?avatarId={account_id[-4:]}"
        return {
            "self": f"{self.base_url}/rest/api/{api}/user?accountId={account_id}",
            "accountId": account_id,
            "emailAddress": profile.email,
            "avatarUrls": {size: avatar for size in ("48x48", "24x24", "16x16", "32x32")},
            "displayName": profile.display_name,
            "active": True,
            "timeZone": profile.time_zone,
            "accountType": profile.account_type,
        }

    def status(self, status_id: str, api: ApiVersion = "3") -> dict[str, Any]:
        status = catalog.STATUSES[status_id]
        category = status.category
        return {
            "self": f"{self.base_url}/rest/api/{api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.base_url}/rest/api/{api}/statuscategory/{category.id}",
                "id": category.id,
                "key": category.key,
                "colorName": category.color_name,
                "name": category.name,
            },
        }

    def priority(self, priority_id: str, api: ApiVersion = "3") -> dict[str, Any]:
        name = dict(catalog.PRIORITIES)[priority_id]
        return {
            "self": f"{self.base_url}/rest/api/{api}/priority/{priority_id}",
            "iconUrl": f"{self.base_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def resolution(self, resolution_id: str | None, api: ApiVersion = "3") -> dict[str, Any] | None:
        for rid, name, description in catalog.RESOLUTIONS:
            if rid == resolution_id:
                return {
                    "self": f"{self.base_url}/rest/api/{api}/resolution/{rid}",
                    "id": rid,
                    "description": description,
                    "name": name,
                }
        return None

    def category_option(self, option_id: str, api: ApiVersion = "3") -> dict[str, Any]:
        """Return one option of the Category select field."""
        return {
            "self": f"{self.base_url}/rest/api/{api}/customFieldOption/{option_id}",
            "value": catalog.CATEGORY_OPTIONS[option_id],
            "id": option_id,
        }

    def project(self, api: ApiVersion = "3") -> dict[str, Any]:
        return {
            "self": f"{self.base_url}/rest/api/{api}/project/{catalog.PROJECT_ID}",
            "id": catalog.PROJECT_ID,
            "key": self.state.project_key,
            "name": f"{self.state.project_key} Support",
            "projectTypeKey": "service_desk",
            "simplified": False,
        }

    def issue(
        self,
        issue: StoredIssue,
        time_zone: str,
        api: ApiVersion = "3",
        fields: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Render an issue with the chosen fields (None = all), or only its id if none remain."""
        every = self._fields(issue, time_zone, api)
        chosen = every if fields is None else {k: v for k, v in every.items() if k in fields}
        if fields is not None and not fields - {"id"}:
            return {"id": str(issue.id)}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": str(issue.id),
            "self": f"{self.base_url}/rest/api/{api}/issue/{issue.id}",
            "key": issue.key,
            "fields": chosen,
        }

    def comment(
        self, comment: StoredComment, issue: StoredIssue, time_zone: str, api: ApiVersion = "3"
    ) -> dict[str, Any]:
        body: Any = comment.body if api == "3" else adf_to_wiki(comment.body)
        return {
            "self": f"{self.base_url}/rest/api/{api}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user(comment.author, api),
            "body": body,
            "updateAuthor": self.user(comment.author, api),
            "created": jira_time(comment.created, time_zone),
            "updated": jira_time(comment.updated, time_zone),
            "jsdPublic": comment.public,
        }

    def comments_page(
        self, issue: StoredIssue, time_zone: str, api: ApiVersion, start_at: int, max_results: int
    ) -> dict[str, Any]:
        page = issue.comments[start_at : start_at + max_results]
        return {
            "self": f"{self.base_url}/rest/api/{api}/issue/{issue.id}/comment",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(issue.comments),
            "comments": [self.comment(item, issue, time_zone, api) for item in page],
        }

    def attachment(
        self, attachment: StoredAttachment, time_zone: str, api: ApiVersion = "3"
    ) -> dict[str, Any]:
        """Render the `Attachment` object of the issue field and the upload response.

        NOTE: Jira adds a `thumbnail` URL for images. The emulator makes no thumbnails and
        never sends the key.
        """
        return {
            "self": f"{self.base_url}/rest/api/{api}/attachment/{attachment.id}",
            "id": str(attachment.id),
            "filename": attachment.filename,
            "author": self.user(attachment.author, api),
            "created": jira_time(attachment.created, time_zone),
            "size": attachment.size,
            "mimeType": attachment.mime_type,
            "content": f"{self.base_url}/rest/api/{api}/attachment/content/{attachment.id}",
        }

    def attachment_metadata(
        self, attachment: StoredAttachment, time_zone: str, api: ApiVersion = "3"
    ) -> dict[str, Any]:
        """Render `GET /attachment/{id}`: the same keys, a numeric `id` and `properties`."""
        return {
            **self.attachment(attachment, time_zone, api),
            "id": attachment.id,
            "properties": {},
        }

    def request_type_value(self, issue: StoredIssue, time_zone: str) -> dict[str, Any] | None:
        """Return the JSM request-type field value: the request type plus the current status."""
        if issue.request_type_id is None:
            return None
        status = catalog.STATUSES[issue.status_id]
        return {
            "requestType": {
                **catalog.REQUEST_TYPE,
                "serviceDeskId": catalog.SERVICE_DESK_ID,
                "issueTypeId": catalog.ISSUE_TYPE["id"],
            },
            "currentStatus": {
                "status": status.name,
                "statusCategory": status.category.key.upper(),
                "statusDate": jsm_date(issue.status_changed, time_zone),
            },
        }

    def _fields(self, issue: StoredIssue, time_zone: str, api: ApiVersion) -> dict[str, Any]:
        description: Any = issue.description if api == "3" else adf_to_wiki(issue.description)
        category = None
        if issue.category_id is not None:
            category = self.category_option(issue.category_id, api)
        resolution_date = issue.resolution_date
        return {
            "summary": issue.summary,
            "description": description,
            "issuetype": {
                **catalog.ISSUE_TYPE,
                "self": f"{self.base_url}/rest/api/{api}/issuetype/10003",
            },
            "project": self.project(api),
            "status": self.status(issue.status_id, api),
            "priority": self.priority(issue.priority_id, api),
            "assignee": self.user(issue.assignee, api),
            "reporter": self.user(issue.reporter, api),
            "creator": self.user(issue.creator, api),
            "resolution": self.resolution(issue.resolution_id, api),
            "resolutiondate": jira_time(resolution_date, time_zone) if resolution_date else None,
            "labels": list(issue.labels),
            "created": jira_time(issue.created, time_zone),
            "updated": jira_time(issue.updated, time_zone),
            "statuscategorychangedate": jira_time(issue.status_changed, time_zone),
            catalog.CORRELATION_FIELD: issue.correlation,
            catalog.CATEGORY_FIELD: category,
            catalog.REQUEST_TYPE_FIELD: self.request_type_value(issue, time_zone),
            "comment": self.comments_page(issue, time_zone, api, 0, len(issue.comments) or 1),
            "attachment": [self.attachment(item, time_zone, api) for item in issue.attachments],
        }
