"""A Salesforce desk: Cases, CaseComments and Files, as a Service Console agent works them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.desks.base import Attached, Desk, Entry, Seen
from tierbridge.core.model import Priority, Status
from tierbridge.emulators.salesforce.agent import SalesforceAgent

__all__ = ["SalesforceDesk"]

#: The default Priority picklist has three values for five canonical levels.
_PRIORITY = {
    Priority.P1: "High",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Low",
}
#: The Case Status picklist values of the shipped mapping. The org has no canceled status,
#: so a canceled ticket is closed.
_STATUS = {
    Status.NEW: "New",
    Status.IN_PROGRESS: "Working",
    Status.PENDING: "On Hold",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
    Status.CANCELED: "Closed",
}
_RESOLVED = ("Resolved", "Closed")
_CASE_FIELDS = "Id, CaseNumber, Status, External_Ref__c"


class _CaseReader(SalesforceAgent):
    """The agent helper plus the case list a person opens in the console."""

    def list_cases(self) -> list[dict[str, Any]]:
        soql = f"SELECT {_CASE_FIELDS} FROM Case ORDER BY CaseNumber"  # noqa: S608 - constant
        page = self._call("GET", "/query", params={"q": soql}).json()
        rows: list[dict[str, Any]] = list(page["records"])
        while not page["done"]:
            locator = page["nextRecordsUrl"].partition("/query/")[2]
            page = self._call("GET", f"/query/{locator}").json()
            rows.extend(page["records"])
        return rows


class SalesforceDesk(Desk):
    """One agent's Cases, signed in through the `agent-console` connected app."""

    system = "salesforce"
    # NOTE: the emulator, like an org, sends no outbound message for a ContentVersion insert,
    # and the connector's poll runs every `poll_interval_seconds`.
    file_notifies = False

    def __init__(self, base_url: str, ca_cert: Path) -> None:
        self._agent = _CaseReader(base_url, ca_cert)

    def _fields(self, values: TicketValues) -> dict[str, str]:
        fields: dict[str, str] = {}
        if values.title is not None:
            fields["Subject"] = values.title
        if values.description is not None:
            fields["Description"] = values.description
        if values.priority is not None:
            fields["Priority"] = _PRIORITY[values.priority]
        if values.status is not None:
            fields["Status"] = _STATUS[values.status]
        if values.reporter is not None:
            fields["SuppliedEmail"] = values.reporter
        return fields

    def native_priority(self, priority: Priority) -> dict[str, Any]:
        return {"Priority": _PRIORITY[priority]}

    def open(self, values: TicketValues) -> str:
        return str(self._agent.create_case(Origin="Web", **self._fields(values))["Id"])

    def change(self, ticket_id: str, values: TicketValues) -> None:
        fields = self._fields(values)
        if fields:
            self._agent.update_case(ticket_id, **fields)

    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        self._agent.add_comment(ticket_id, text, internal=not public)

    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        self._agent.attach(ticket_id, filename, content, content_type)

    def attachments(self, ticket_id: str) -> list[Attached]:
        files = []
        for link in self._agent.list_files(ticket_id):
            document = link["ContentDocument"]
            version_id = str(document["LatestPublishedVersionId"])
            filename = str(document["LatestPublishedVersion"]["PathOnClient"])
            files.append(
                Attached.from_bytes(version_id, filename, self._agent.download(version_id))
            )
        return files

    def _seen(self, row: dict[str, Any]) -> Seen:
        status = str(row.get("Status") or "")
        return Seen(
            id=str(row["Id"]),
            key=str(row["CaseNumber"]),
            correlation=str(row.get("External_Ref__c") or ""),
            resolved=status in _RESOLVED,
            status=status,
        )

    def tickets(self) -> list[Seen]:
        return [self._seen(row) for row in self._agent.list_cases()]

    def read(self, ticket_id: str) -> Seen:
        return self._seen(self._agent.get_case(ticket_id))

    def journal(self, ticket_id: str) -> list[Entry]:
        return [
            Entry(str(row["CommentBody"]), bool(row["IsPublished"]))
            for row in self._agent.list_comments(ticket_id)
        ]

    def take(self, ticket_id: str) -> None:
        if self.read(ticket_id).status != _STATUS[Status.IN_PROGRESS]:
            self._agent.update_case(ticket_id, Status=_STATUS[Status.IN_PROGRESS])

    def resolve(self, ticket_id: str, note: str) -> None:
        self._agent.update_case(ticket_id, Status=_STATUS[Status.RESOLVED])

    def close(self) -> None:
        self._agent.close()
