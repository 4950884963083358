"""A ServiceNow desk: incidents, through the agent helper's Table API and Attachment API calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.desks.base import Attached, Desk, Entry, Seen
from tierbridge.core.model import Priority, Status
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = ["ServiceNowDesk"]

_STATE = {
    Status.NEW: "1",
    Status.IN_PROGRESS: "2",
    Status.PENDING: "3",
    Status.RESOLVED: "6",
    Status.CLOSED: "7",
    Status.CANCELED: "8",
}
#: The base system's Priority Lookup Rules, read backwards: the impact and urgency a person
#: picks for a priority (the same pairs as `priority_to_impact_urgency` in the mapping).
_IMPACT_URGENCY = {
    Priority.P1: ("1", "1"),
    Priority.P2: ("1", "2"),
    Priority.P3: ("2", "2"),
    Priority.P4: ("2", "3"),
    Priority.P5: ("3", "3"),
}
_AWAITING_CALLER = "1"
_CLOSE_CODE = "Solution provided"


class _IncidentReader(ServiceNowAgent):
    """The agent helper plus the incident list a person opens in the UI."""

    def list_incidents(self) -> list[dict[str, Any]]:
        params = {"sysparm_exclude_reference_link": "true", "sysparm_query": "ORDERBYnumber"}
        rows: list[dict[str, Any]] = self._call("GET", "/api/now/table/incident", params)
        return rows


class ServiceNowDesk(Desk):
    """One agent's incidents. `directory` adds the groups and people a log names, as an
    admin's directory import would before the agent types them."""

    system = "servicenow"

    def __init__(
        self, base_url: str, ca_cert: Path, login: str, password: str, directory: ServiceNowState
    ) -> None:
        self._agent = _IncidentReader(base_url, ca_cert, login, password)
        self._directory = directory

    def _fields(self, values: TicketValues) -> dict[str, str]:
        fields: dict[str, str] = {}
        if values.title is not None:
            fields["short_description"] = values.title
        if values.description is not None:
            fields["description"] = values.description
        if values.priority is not None:
            fields["impact"], fields["urgency"] = _IMPACT_URGENCY[values.priority]
        if values.group is not None:
            fields["assignment_group"] = self._directory.ensure_group(values.group)["name"]
        if values.reporter is not None:
            fields["caller_id"] = self._directory.ensure_user(values.reporter)["name"]
        if values.status is not None:
            fields["state"] = _STATE[values.status]
            fields["hold_reason"] = _AWAITING_CALLER if values.status is Status.PENDING else ""
            if values.status.is_final:
                fields["close_code"] = _CLOSE_CODE
                fields["close_notes"] = values.resolution_notes or "Resolved by the service desk."
        return fields

    def native_priority(self, priority: Priority) -> dict[str, Any]:
        impact, urgency = _IMPACT_URGENCY[priority]
        return {"impact": impact, "urgency": urgency}

    def open(self, values: TicketValues) -> str:
        return str(self._agent.create_incident(**self._fields(values))["sys_id"])

    def change(self, ticket_id: str, values: TicketValues) -> None:
        fields = self._fields(values)
        if fields:
            self._agent.update_incident(ticket_id, **fields)

    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        self._agent.add_comment(ticket_id, text, internal=not public)

    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        self._agent.attach(ticket_id, filename, content, content_type)

    def attachments(self, ticket_id: str) -> list[Attached]:
        return [
            Attached.from_bytes(
                str(row["sys_id"]), str(row["file_name"]), self._agent.download(row["sys_id"])
            )
            for row in self._agent.list_attachments(ticket_id)
        ]

    def _seen(self, row: dict[str, Any]) -> Seen:
        state = str(row.get("state") or "")
        return Seen(
            id=str(row["sys_id"]),
            key=str(row["number"]),
            correlation=str(row.get("correlation_id") or ""),
            resolved=state in (_STATE[Status.RESOLVED], _STATE[Status.CLOSED]),
            status=state,
        )

    def tickets(self) -> list[Seen]:
        return [self._seen(row) for row in self._agent.list_incidents()]

    def read(self, ticket_id: str) -> Seen:
        return self._seen(self._agent.get_incident(ticket_id))

    def journal(self, ticket_id: str) -> list[Entry]:
        return [
            Entry(str(row["value"]), row["element"] == "comments")
            for row in self._agent.list_journal(ticket_id)
        ]

    def take(self, ticket_id: str) -> None:
        if self.read(ticket_id).status != _STATE[Status.IN_PROGRESS]:
            self._agent.update_incident(ticket_id, state=_STATE[Status.IN_PROGRESS])

    def resolve(self, ticket_id: str, note: str) -> None:
        self._agent.update_incident(
            ticket_id, state=_STATE[Status.RESOLVED], close_code=_CLOSE_CODE, close_notes=note
        )

    def hand_on(self, ticket_id: str, group: str) -> None:
        name = self._directory.ensure_group(group)["name"]
        self._agent.update_incident(ticket_id, assignment_group=name)

    def close(self) -> None:
        self._agent.close()
