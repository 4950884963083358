"""Read what an instance allows: field names, choice values, priorities, statuses, transitions.

The readers use the connectors' own HTTP clients, so calls carry the same auth, timeouts,
CA bundle, rate limit and `api_call` log lines as a sync, and fail with the same errors.

ServiceNow: columns come from `sys_dictionary`, for the table and the `task` table that
incidents and cases extend. Where the integration user cannot read the dictionary, they come
from the newest record. Choice values come from `sys_choice`.

Jira: field ids from `/field`, priority and resolution names, and the project's statuses
from `/project/{key}/statuses`. Where that list cannot be read, the statuses seen are those
of the project's newest issues and the targets of the transitions available from them,
which may miss some; `statuses_complete` says which. The transitions from the newest
issues' statuses also give the fields each transition requires. The edit screen of the
newest issue (`/issue/{id}/editmeta`) tells whether an edit may set the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from tierbridge.core.errors import NotFoundError, RejectedError

if TYPE_CHECKING:
    from tierbridge.connectors.jira.client import JiraClient
    from tierbridge.connectors.jira.settings import JiraSettings
    from tierbridge.connectors.servicenow.client import TableClient
    from tierbridge.connectors.servicenow.settings import ServiceNowSettings

__all__ = [
    "JiraMetadata",
    "ServiceNowMetadata",
    "Transition",
    "read_jira_metadata",
    "read_servicenow_metadata",
]

_log = structlog.get_logger(__name__)

#: Issues whose statuses seed the walk of the workflow's transitions.
ISSUE_SAMPLE = 50


@dataclass(frozen=True)
class ServiceNowMetadata:
    """Columns of one table, and its choice values by column. `columns_from` names the source."""

    table: str
    columns: frozenset[str]
    columns_from: str
    choices: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Transition:
    """A workflow transition seen from one status, and the screen fields it requires."""

    name: str
    source: str
    target: str
    required: tuple[str, ...]


@dataclass(frozen=True)
class JiraMetadata:
    """A Jira site's fields, priorities and resolutions, and one project's reachable statuses."""

    field_ids: frozenset[str]
    priorities: frozenset[str]
    resolutions: frozenset[str]
    issues_read: int
    statuses: frozenset[str]
    statuses_complete: bool
    transitions: list[Transition] = field(default_factory=list)
    #: Whether the newest issue's edit screen contains the Resolution field. None when the
    #: project has no issue or the edit screen cannot be read.
    resolution_on_edit_screen: bool | None = None


def read_servicenow_metadata(
    client: TableClient, settings: ServiceNowSettings
) -> ServiceNowMetadata:
    """Read the configured table's columns and choice lists."""
    table = settings.table
    columns, source = _servicenow_columns(client, table)
    rows = client.query(
        "sys_choice",
        f"name={table}^inactive=false",
        ["element", "value", "label"],
        operation="read choices",
    )
    choices: dict[str, dict[str, str]] = {}
    for row in rows:
        choices.setdefault(row["element"], {})[row["value"]] = row.get("label", "")
    return ServiceNowMetadata(table, columns, source, choices)


def _servicenow_columns(client: TableClient, table: str) -> tuple[frozenset[str], str]:
    try:
        rows = client.query(
            "sys_dictionary", f"nameIN{table},task", ["element"], operation="read dictionary"
        )
    except (RejectedError, NotFoundError) as exc:
        # An instance may refuse the dictionary to the integration user; a record still shows
        # the columns it can read.
        _log.info("dictionary_unreadable", table=table, error=str(exc))
        rows = []
    columns = frozenset(row["element"] for row in rows if row.get("element"))
    if columns:
        return columns, "sys_dictionary"

    page = client.page(
        table, "ORDERBYDESCsys_updated_on", [], operation="read a record", limit=1, offset=0
    )
    if not page.rows:
        return frozenset(), "no record to read"
    return frozenset(page.rows[0]), "the newest record"


def read_jira_metadata(client: JiraClient, settings: JiraSettings) -> JiraMetadata:
    """Read the site's fields, priorities and resolutions, and the project's workflow."""
    fields = _get_list(client, "/rest/api/3/field", "read fields")
    priorities = _get_list(client, "/rest/api/3/priority", "read priorities")
    resolutions = _get_list(client, "/rest/api/3/resolution", "read resolutions")

    jql = f'project = "{settings.project}" ORDER BY updated DESC'
    page = client.search_page(jql, ["status"], ISSUE_SAMPLE, None)
    issues = page.get("issues", [])
    by_status: dict[str, str] = {}
    for issue in issues:
        status = (issue.get("fields", {}).get("status") or {}).get("name")
        if status:
            by_status.setdefault(status, str(issue["id"]))

    transitions = [
        _transition(status, item)
        for status, issue_id in sorted(by_status.items())
        for item in client.transitions(issue_id)
    ]
    listed = _project_statuses(client, settings.project)
    walked = frozenset(by_status) | {t.target for t in transitions}
    return JiraMetadata(
        field_ids=frozenset(str(item["id"]) for item in fields),
        priorities=frozenset(str(item["name"]) for item in priorities),
        resolutions=frozenset(str(item["name"]) for item in resolutions),
        issues_read=len(issues),
        statuses=listed if listed is not None else walked,
        statuses_complete=listed is not None,
        transitions=transitions,
        resolution_on_edit_screen=_resolution_on_edit_screen(client, issues),
    )


def _project_statuses(client: JiraClient, project: str) -> frozenset[str] | None:
    """Return the statuses of every issue type of the project, or None if not readable."""
    try:
        issue_types = _get_list(client, f"/rest/api/3/project/{project}/statuses", "read statuses")
    except (NotFoundError, RejectedError) as exc:
        _log.info("project_statuses_unreadable", project=project, error=str(exc))
        return None
    return frozenset(
        str(status["name"])
        for issue_type in issue_types
        for status in issue_type.get("statuses", [])
        if status.get("name")
    )


def _resolution_on_edit_screen(client: JiraClient, issues: list[dict[str, Any]]) -> bool | None:
    """Return whether the newest issue's edit screen contains Resolution, or None if unknown.

    NOTE: one issue's screen is taken as the project's. Issue types with another edit screen,
    and statuses whose workflow makes issues read-only, may differ from it.
    """
    if not issues:
        return None
    issue_id = str(issues[0]["id"])
    try:
        screen = client.edit_screen(issue_id)
    except (NotFoundError, RejectedError) as exc:
        _log.info("edit_screen_unreadable", issue=issue_id, error=str(exc))
        return None
    return "resolution" in screen


def _transition(source: str, item: dict[str, Any]) -> Transition:
    screen = item.get("fields") or {}
    required = tuple(sorted(name for name, spec in screen.items() if spec.get("required")))
    target = str((item.get("to") or {}).get("name", ""))
    return Transition(str(item.get("name", "")), source, target, required)


def _get_list(client: JiraClient, path: str, operation: str) -> list[dict[str, Any]]:
    """GET a Jira list endpoint through the client's session, with its error translation.

    NOTE: JiraClient has no method for these reads, so this uses its private `_send`.
    """
    from tierbridge.connectors.jira.client import translate_errors

    with translate_errors(client.connector, operation):
        body = client._send("GET", path).json()
    if not isinstance(body, list):
        msg = f"{path} returned {type(body).__name__}, not a list; check for a proxy in between"
        raise RejectedError(msg, connector=client.connector, operation=operation)
    return body
