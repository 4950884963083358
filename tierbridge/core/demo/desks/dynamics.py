"""A Dynamics 365 desk: cases, notes, files and portal comments, through the Dataverse Web API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.desks.base import Attached, Desk, Entry, Seen
from tierbridge.core.model import Priority, Status
from tierbridge.emulators.dynamics.agent import DynamicsAgent

__all__ = ["DynamicsDesk"]

#: prioritycode has three values (1 High, 2 Normal, 3 Low) for five canonical levels.
_PRIORITY = {Priority.P1: 1, Priority.P2: 1, Priority.P3: 2, Priority.P4: 3, Priority.P5: 3}
#: Status reasons of the Active state (statecode 0): 1 In Progress, 2 On Hold. Cases have
#: no New status, so a new case is in progress.
_ACTIVE_REASON = {Status.NEW: 1, Status.IN_PROGRESS: 1, Status.PENDING: 2}
_ACTIVE, _RESOLVED, _CANCELED = 0, 1, 2
_CANCELED_REASON = 6
_CASE_COLUMNS = "incidentid,ticketnumber,statecode,statuscode,new_externalref"


class _CaseReader(DynamicsAgent):
    """The agent helper plus the case list and the portal comments a person reads."""

    def list_cases(self) -> list[dict[str, Any]]:
        page = self._call("GET", f"incidents?$select={_CASE_COLUMNS}&$orderby=ticketnumber asc")
        rows: list[dict[str, Any]] = list(page["value"])
        while page.get("@odata.nextLink"):
            page = self._call("GET", str(page["@odata.nextLink"]).partition("/v9.2/")[2])
            rows.extend(page["value"])
        return rows

    def list_portal_comments(self, incident_id: str) -> list[dict[str, Any]]:
        path = (
            f"adx_portalcomments?$filter=_regardingobjectid_value eq {incident_id}"
            "&$orderby=createdon asc"
        )
        rows: list[dict[str, Any]] = self._call("GET", path)["value"]
        return rows

    def add_portal_comment(self, incident_id: str, text: str) -> None:
        body = {
            "subject": text.splitlines()[0][:100] if text.strip() else "Comment",
            "description": text,
            "regardingobjectid_incident@odata.bind": f"/incidents({incident_id})",
        }
        self._call("POST", "adx_portalcomments", body=body)


class DynamicsDesk(Desk):
    """One agent's cases. New cases are opened for the account `customer_account`.

    Notes are internal; a public comment is a portal comment (`adx_portalcomment`), which
    is what the shipped demo config's `public_notes_as` names. A file is a note with a
    document, and the journal leaves out file notes without text, as the connector does.
    """

    system = "dynamics"
    # NOTE: the emulator's webhook steps cover cases and notes only, and the connector's poll
    # reads cases, so a portal comment reaches the daemon with the case's next change.
    public_comment_notifies = False

    def __init__(self, base_url: str, ca_cert: Path, customer_account: str) -> None:
        self._agent = _CaseReader(base_url, ca_cert)
        self._customer = f"/accounts({customer_account})"

    def _columns(self, values: TicketValues) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if values.title is not None:
            columns["title"] = values.title
        if values.description is not None:
            columns["description"] = values.description
        if values.priority is not None:
            columns["prioritycode"] = _PRIORITY[values.priority]
        return columns

    def native_priority(self, priority: Priority) -> dict[str, Any]:
        return {"prioritycode": _PRIORITY[priority]}

    def open(self, values: TicketValues) -> str:
        columns = {**self._columns(values), "customerid_account@odata.bind": self._customer}
        case_id = str(self._agent.create_incident(**columns)["incidentid"])
        if values.status is not None and values.status not in (Status.NEW, Status.IN_PROGRESS):
            self._set_status(case_id, values.status, _ACTIVE)
        return case_id

    def change(self, ticket_id: str, values: TicketValues) -> None:
        state = int(self._agent.get_incident(ticket_id)["statecode"])
        columns = self._columns(values)
        reopen = values.status is not None and not values.status.is_final and state != _ACTIVE
        if reopen and values.status is not None:
            columns.update(statecode=_ACTIVE, statuscode=_ACTIVE_REASON[values.status])
            state = _ACTIVE
        if columns and state == _ACTIVE:
            self._agent.update_incident(ticket_id, **columns)
        if values.status is not None and not reopen:
            self._set_status(ticket_id, values.status, state)

    def _set_status(self, case_id: str, status: Status, state: int) -> None:
        """Move an active case to `status`; a resolved or canceled case stays as it is."""
        if state != _ACTIVE:
            return
        if status in (Status.RESOLVED, Status.CLOSED):
            self._agent.resolve(case_id)
        elif status is Status.CANCELED:
            self._agent.update_incident(case_id, statecode=_CANCELED, statuscode=_CANCELED_REASON)
        else:
            self._agent.update_incident(case_id, statuscode=_ACTIVE_REASON[status])

    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        if public:
            self._agent.add_portal_comment(ticket_id, text)
        else:
            self._agent.add_note(ticket_id, text)

    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        self._agent.attach(ticket_id, filename, content, content_type)

    def attachments(self, ticket_id: str) -> list[Attached]:
        return [
            Attached.from_bytes(
                str(row["annotationid"]),
                str(row["filename"]),
                self._agent.download(str(row["annotationid"])),
            )
            for row in self._agent.list_attachments(ticket_id)
        ]

    def _seen(self, row: dict[str, Any]) -> Seen:
        return Seen(
            id=str(row["incidentid"]),
            key=str(row["ticketnumber"]),
            correlation=str(row.get("new_externalref") or ""),
            resolved=int(row["statecode"]) == _RESOLVED,
            status=str(row["statuscode"]),
        )

    def tickets(self) -> list[Seen]:
        return [self._seen(row) for row in self._agent.list_cases()]

    def read(self, ticket_id: str) -> Seen:
        return self._seen(self._agent.get_incident(ticket_id))

    def journal(self, ticket_id: str) -> list[Entry]:
        notes = [
            (str(row["createdon"]), Entry(str(row.get("notetext") or ""), public=False))
            for row in self._agent.list_notes(ticket_id)
            if not row.get("isdocument") or str(row.get("notetext") or "").strip()
        ]
        portal = [
            (str(row["createdon"]), Entry(str(row.get("description") or ""), public=True))
            for row in self._agent.list_portal_comments(ticket_id)
        ]
        return [entry for _, entry in sorted(notes + portal, key=lambda item: item[0])]

    def take(self, ticket_id: str) -> None:
        row = self._agent.get_incident(ticket_id)
        if int(row["statecode"]) == _ACTIVE and int(row["statuscode"]) != 1:
            self._agent.update_incident(ticket_id, statuscode=1)

    def resolve(self, ticket_id: str, note: str) -> None:
        self._agent.resolve(ticket_id, subject=note[:200])

    def close(self) -> None:
        self._agent.close()
