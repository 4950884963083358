"""A Jira Service Management desk: the requests of one project, as its agent works them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.desks.base import Attached, Desk, Entry, Seen
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import CORRELATION_FIELD

__all__ = ["JiraDesk"]

_IN_PROGRESS = "In Progress"
_RESOLVED = ("Resolved", "Closed")


class JiraDesk(Desk):
    """One agent's view of a JSM project. Tickets are named by issue key."""

    system = "jira"

    def __init__(self, base_url: str, ca_cert: Path, email: str, token: str, project: str) -> None:
        self._agent = JiraAgent(base_url, ca_cert, email, token)
        self._project = project

    def open(self, values: TicketValues) -> str:
        # NOTE: no scenario has Jira at L1, so customers' requests are not emulated here.
        msg = "the scenarios use Jira Service Management only as a higher tier"
        raise NotImplementedError(msg)

    def change(self, ticket_id: str, values: TicketValues) -> None:
        msg = "the scenarios use Jira Service Management only as a higher tier"
        raise NotImplementedError(msg)

    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        self._agent.add_comment(ticket_id, text, public=public)

    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        self._agent.attach(ticket_id, filename, content, content_type)

    def attachments(self, ticket_id: str) -> list[Attached]:
        return [
            Attached.from_bytes(
                str(item["id"]), str(item["filename"]), self._agent.download(item["id"])
            )
            for item in self._agent.list_attachments(ticket_id)
        ]

    def _seen(self, issue: dict[str, Any]) -> Seen:
        status = str(issue["fields"]["status"]["name"])
        return Seen(
            id=str(issue["key"]),
            key=str(issue["key"]),
            correlation=str(issue["fields"].get(CORRELATION_FIELD) or ""),
            resolved=status in _RESOLVED,
            status=status,
        )

    def tickets(self) -> list[Seen]:
        issues = self._agent.search(f"project = {self._project} ORDER BY key ASC")
        return [self._seen(issue) for issue in issues]

    def read(self, ticket_id: str) -> Seen:
        return self._seen(self._agent.get_issue(ticket_id))

    def journal(self, ticket_id: str) -> list[Entry]:
        comments = self._agent.get_issue(ticket_id)["fields"]["comment"]["comments"]
        return [
            Entry(adf_to_text(item["body"]) or "", bool(item["jsdPublic"])) for item in comments
        ]

    def take(self, ticket_id: str) -> None:
        if self.read(ticket_id).status != _IN_PROGRESS:
            self._agent.transition_to(ticket_id, _IN_PROGRESS)

    def resolve(self, ticket_id: str, note: str) -> None:
        self._agent.transition_to(ticket_id, "Resolved", resolution="Done")

    def close(self) -> None:
        self._agent.close()
