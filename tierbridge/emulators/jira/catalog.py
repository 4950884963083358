"""Fixed configuration of the emulated Jira Cloud site: users, workflow, priorities and fields.

The shapes follow a Jira Service Management project built from the IT incident template: one
service desk, one request type, the "[System] Incident" issue type and a six-status workflow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AGENT_USER",
    "CATEGORY_FIELD",
    "CATEGORY_OPTIONS",
    "CORRELATION_FIELD",
    "DEFAULT_PRIORITY_ID",
    "DEFAULT_TOKENS",
    "FIELDS",
    "INTEGRATION_USER",
    "ISSUE_TYPE",
    "PRIORITIES",
    "PROJECT_ID",
    "REQUEST_TYPE",
    "REQUEST_TYPE_FIELD",
    "RESOLUTIONS",
    "SERVICE_DESK_ID",
    "STATUSES",
    "TRANSITIONS",
    "WAITING_FOR_SUPPORT",
    "FieldDef",
    "Status",
    "StatusCategory",
    "Transition",
    "UserProfile",
    "build_profiles",
]


@dataclass(frozen=True)
class UserProfile:
    """One Atlassian account; `time_zone` decides how timestamps and JQL dates are read."""

    account_id: str
    email: str
    display_name: str
    time_zone: str
    account_type: str = "atlassian"


INTEGRATION_USER = UserProfile(
    "5b6a1c3e9d8f7a0012340001",
    "svc.tierbridge@example.com",
    "tierbridge integration",
    "Europe/Berlin",
)
AGENT_USER = UserProfile(
    "5b6a1c3e9d8f7a0012340002", "agent.l2@example.com", "Asha Rao", "Asia/Kolkata"
)
_KNOWN_PROFILES = {user.email: user for user in (INTEGRATION_USER, AGENT_USER)}

#: API tokens of the two built-in accounts, used when the emulator is given no `users`.
DEFAULT_TOKENS: Mapping[str, str] = {
    INTEGRATION_USER.email: "svc-api-token",
    AGENT_USER.email: "agent-api-token",
}


def build_profiles(emails: list[str]) -> dict[str, UserProfile]:
    """Return a profile per e-mail: the built-in ones as defined, others in UTC with a hashed id."""
    profiles: dict[str, UserProfile] = {}
    for email in emails:
        known = _KNOWN_PROFILES.get(email)
        if known is not None:
            profiles[email] = known
            continue
        account_id = hashlib.sha256(email.encode()).hexdigest()[:24]
        display_name = email.split("@", 1)[0].replace(".", " ").title()
        profiles[email] = UserProfile(account_id, email, display_name, "UTC")
    return profiles


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    color_name: str
    name: str


_NEW = StatusCategory(2, "new", "blue-gray", "To Do")
_INDETERMINATE = StatusCategory(4, "indeterminate", "yellow", "In Progress")
_DONE = StatusCategory(3, "done", "green", "Done")


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: StatusCategory


WAITING_FOR_SUPPORT = Status("10001", "Waiting for support", _NEW)
_IN_PROGRESS = Status("3", "In Progress", _INDETERMINATE)
_WAITING_FOR_CUSTOMER = Status("10002", "Waiting for customer", _INDETERMINATE)
_RESOLVED = Status("10005", "Resolved", _DONE)
_CLOSED = Status("6", "Closed", _DONE)
_CANCELED = Status("10006", "Canceled", _DONE)

STATUSES: Mapping[str, Status] = {
    status.id: status
    for status in (
        WAITING_FOR_SUPPORT,
        _IN_PROGRESS,
        _WAITING_FOR_CUSTOMER,
        _RESOLVED,
        _CLOSED,
        _CANCELED,
    )
}


@dataclass(frozen=True)
class Transition:
    """A workflow transition; `event` is the `issue_event_type_name` its webhook carries.

    `resolution` is "required" (the screen demands it), "optional" (the screen offers it),
    "clear" (the target is not done, so the resolution is removed) or "keep".
    """

    id: str
    name: str
    sources: frozenset[str]
    target: Status
    resolution: str
    event: str
    #: Resolution name set by a post function when the caller supplies none.
    default_resolution: str | None = None


_OPEN = frozenset({WAITING_FOR_SUPPORT.id, _IN_PROGRESS.id, _WAITING_FOR_CUSTOMER.id})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "11",
        "Start progress",
        frozenset({WAITING_FOR_SUPPORT.id, _WAITING_FOR_CUSTOMER.id}),
        _IN_PROGRESS,
        "clear",
        "issue_work_started",
    ),
    Transition(
        "21",
        "Pending",
        frozenset({WAITING_FOR_SUPPORT.id, _IN_PROGRESS.id}),
        _WAITING_FOR_CUSTOMER,
        "clear",
        "issue_generic",
    ),
    Transition(
        "31",
        "Respond to support",
        frozenset({_WAITING_FOR_CUSTOMER.id}),
        WAITING_FOR_SUPPORT,
        "clear",
        "issue_generic",
    ),
    Transition(
        "41",
        "Return to queue",
        frozenset({_IN_PROGRESS.id}),
        WAITING_FOR_SUPPORT,
        "clear",
        "issue_generic",
    ),
    Transition("51", "Resolve this issue", _OPEN, _RESOLVED, "required", "issue_resolved"),
    Transition(
        "61",
        "Cancel request",
        _OPEN,
        _CANCELED,
        "optional",
        "issue_generic",
        default_resolution="Won't Do",
    ),
    Transition("71", "Close", frozenset({_RESOLVED.id}), _CLOSED, "keep", "issue_closed"),
    Transition(
        "81",
        "Reopen",
        frozenset({_RESOLVED.id, _CANCELED.id}),
        _IN_PROGRESS,
        "clear",
        "issue_reopened",
    ),
)

#: (id, name) in Jira's default order, highest first.
PRIORITIES: tuple[tuple[str, str], ...] = (
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
)
DEFAULT_PRIORITY_ID = "3"

#: (id, name, description)
RESOLUTIONS: tuple[tuple[str, str, str], ...] = (
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
)

PROJECT_ID = "10000"
SERVICE_DESK_ID = "1"
ISSUE_TYPE: Mapping[str, object] = {
    "id": "10003",
    "name": "[System] Incident",
    "subtask": False,
    "hierarchyLevel": 0,
    "description": "For system outages or incidents. Created by Jira Service Management.",
}
REQUEST_TYPE: Mapping[str, str] = {"id": "10", "name": "Report a system problem"}

CORRELATION_FIELD = "customfield_10060"
CATEGORY_FIELD = "customfield_10050"
REQUEST_TYPE_FIELD = "customfield_10010"

#: Options of the Category select field, by option id.
CATEGORY_OPTIONS: Mapping[str, str] = {
    "10100": "Hardware",
    "10101": "Network",
    "10102": "Software",
    "10103": "Access",
}


@dataclass(frozen=True)
class FieldDef:
    """One entry of `GET /rest/api/3/field`."""

    id: str
    name: str
    schema: Mapping[str, object]
    clause_names: tuple[str, ...]
    custom: bool = False

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "custom": self.custom,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": list(self.clause_names),
            "schema": dict(self.schema),
        }
        if self.custom:
            number = int(self.id.removeprefix("customfield_"))
            body["untranslatedName"] = self.name
            body["schema"] = {**self.schema, "customId": number}
        return body


def _system(
    field_id: str, name: str, kind: str, *clauses: str, items: str | None = None
) -> FieldDef:
    schema: dict[str, object] = {"type": kind, "system": field_id}
    if items:
        schema["items"] = items
    return FieldDef(field_id, name, schema, clauses or (field_id,))


def _custom(field_id: str, name: str, kind: str, plugin: str) -> FieldDef:
    number = field_id.removeprefix("customfield_")
    schema = {"type": kind, "custom": f"com.atlassian.{plugin}"}
    return FieldDef(field_id, name, schema, (f"cf[{number}]", name), custom=True)


FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "string"),
    _system("description", "Description", "string"),
    _system("status", "Status", "status"),
    _system("priority", "Priority", "priority"),
    _system("assignee", "Assignee", "user"),
    _system("reporter", "Reporter", "user"),
    _system("creator", "Creator", "user"),
    _system("resolution", "Resolution", "resolution"),
    _system("resolutiondate", "Resolved", "datetime", "resolved", "resolutiondate"),
    _system("labels", "Labels", "array", items="string"),
    _system("created", "Created", "datetime", "created", "createdDate"),
    _system("updated", "Updated", "datetime", "updated", "updatedDate"),
    _system(
        "statuscategorychangedate",
        "Status Category Changed",
        "datetime",
        "statusCategoryChangedDate",
    ),
    _system("issuetype", "Issue Type", "issuetype", "issuetype", "type"),
    _system("project", "Project", "project"),
    _system("comment", "Comment", "comments-page", "comment"),
    _system("attachment", "Attachment", "array", "attachments", items="attachment"),
    _custom(
        CORRELATION_FIELD,
        "External reference",
        "string",
        "jira.plugin.system.customfieldtypes:textfield",
    ),
    _custom(CATEGORY_FIELD, "Category", "option", "jira.plugin.system.customfieldtypes:select"),
    _custom(REQUEST_TYPE_FIELD, "Request Type", "sd-customerrequesttype", "servicedesk:vp-origin"),
)
