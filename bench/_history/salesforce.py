"""The L1 agent in Salesforce Service Cloud: opens Cases, edits them, moves them and comments.

Salesforce has no canceled status here: no Case status reads as canceled (see
mappings/salesforce.yaml), so a ticket that another tier cancels is dead-lettered on this
side, a gap the mapping documents. Neither person of a pair with Salesforce cancels, so the
scenario stays within what the sync promises. The Priority picklist has three values, which
read as P2, P3 and P4; a P1 or P5 would read back changed, so people pick only those three.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from bench._history.actors import STATUS_MOVES, Actor, Clock, SeenComment, StatusMoves, register
from tierbridge.emulators.salesforce import (
    DEFAULT_CLIENTS,
    INTEGRATION_USERNAME,
    ChangeEvent,
    SalesforceAgent,
    SalesforceEmulator,
)
from tierbridge.emulators.salesforce.fieldpaths import Record

# NOTE: the outbound messenger takes its private notification records, and no public helper
# builds one message for one change, so this module makes them itself.
from tierbridge.emulators.salesforce.outbound import _Notification

__all__ = ["SalesforceActor"]

_WEBHOOK_TOKEN = "history-sf-outbound-token"  # noqa: S105 - a test value
#: Objects whose changes the org's outbound messages report.
_OUTBOUND_OBJECTS = ("Case", "CaseComment")
_STATUS_NAMES = {
    "new": "New",
    "in_progress": "Working",
    "pending": "On Hold",
    "resolved": "Resolved",
    "closed": "Closed",
}
#: Case Status values as the mapping reads them: Escalated is in progress too.
_STATUSES = {name: status for status, name in _STATUS_NAMES.items()} | {"Escalated": "in_progress"}
_PRIORITY_NAMES = {"P2": "High", "P3": "Medium", "P4": "Low"}
_PRIORITIES = {name: priority for priority, name in _PRIORITY_NAMES.items()}
#: The moves of a system with every status, less those into or out of canceled.
_MOVES: StatusMoves = {
    status: tuple(move for move in targets if move != "canceled")
    for status, targets in STATUS_MOVES.items()
    if status != "canceled"
}


@register
class SalesforceActor(Actor):
    """Works Cases as `agent.sf@example.com` through the REST API, with picklist values."""

    system: ClassVar[str] = "salesforce"
    secrets: ClassVar[dict[str, str]] = {
        "TIERBRIDGE_SF_CLIENT_SECRET": DEFAULT_CLIENTS["tierbridge-client"][0],
        "TIERBRIDGE_SF_WEBHOOK_SECRET": _WEBHOOK_TOKEN,
    }
    priorities: ClassVar[tuple[str, ...]] = tuple(_PRIORITY_NAMES)
    moves: ClassVar[StatusMoves] = _MOVES

    def __init__(self, connector: str, emulator: Any) -> None:
        super().__init__(connector, emulator)
        self.sf: SalesforceEmulator = emulator
        self.agent = self._sign_in()

    def _sign_in(self) -> SalesforceAgent:
        return SalesforceAgent(self.sf.base_url, self.sf.ca_cert)

    @classmethod
    def start_emulator(cls, tls_dir: Path, clock: Clock) -> SalesforceEmulator:
        return SalesforceEmulator(tls_dir=tls_dir, clock=clock).start()

    def watch(self) -> None:
        self.emulator.state.listeners.append(self._saw)

    def reset(self) -> None:
        """Empty the org and sign the agent in again, because the reset ends every session."""
        self.sf.reset()
        self.agent.close()
        self.agent = self._sign_in()

    def settings_overrides(self) -> dict[str, Any]:
        return {
            "base_url": self.sf.base_url,
            "ca_bundle": self.sf.ca_cert,
            "organization_id": self.sf.organization_id,
            "integration_user": INTEGRATION_USERNAME,
        }

    def close(self) -> None:
        self.agent.close()
        self.sf.stop()

    def _integration_id(self) -> str:
        user = self.sf.state.user_by_username(INTEGRATION_USERNAME)
        if user is None:
            raise KeyError(f"user {INTEGRATION_USERNAME} not found in the Salesforce emulator")
        return str(user["Id"])

    def _saw(self, event: ChangeEvent) -> None:
        """Record a Case change and capture its outbound message, under the org's lock."""
        sink = self.sink
        if sink is None or event.object_name not in _OUTBOUND_OBJECTS:
            return
        if event.operation == "delete":
            return
        found = self.sf.state.find(event.record_id)
        if found is None:
            return
        record = found[1]
        if event.object_name == "Case":
            human = record["LastModifiedById"] != self._integration_id()
            if event.operation == "insert":
                correlation = record.get("External_Ref__c") or None
                sink.journal.note_created(
                    self.connector, record["Id"], human=human, correlation=correlation
                )
            sink.journal.observe(self.connector, record["Id"], _canonical(record), human=human)

        action = self.sf.outbound.action_id(event.object_name)
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '""',
            # The intake server passes the endpoint URL's query string under this name.
            ":query": urlencode({"token": _WEBHOOK_TOKEN}),
        }

        def build() -> tuple[dict[str, str], bytes]:
            """Return the outbound message of this change, as a new notification on each call."""
            notification = _Notification(action, self.sf.state.new_id("04l"), event.record_id)
            return headers, self.sf.outbound.envelope(action, [notification])

        sink.deliveries.capture(self.connector, build)

    # -- a person's changes --------------------------------------------------------------

    def open_ticket(self, title: str, description: str, priority: str) -> str:
        created = self.agent.create_case(
            Subject=title,
            Description=description,
            Priority=_PRIORITY_NAMES[priority],
            Status=_STATUS_NAMES["new"],
            Origin="Web",
        )
        return str(created["Id"])

    def set_fields(self, ticket: str, values: dict[str, str]) -> None:
        native: dict[str, str] = {}
        if "title" in values:
            native["Subject"] = values["title"]
        if "description" in values:
            native["Description"] = values["description"]
        if "priority" in values:
            native["Priority"] = _PRIORITY_NAMES[values["priority"]]
        self.agent.update_case(ticket, **native)

    def set_status(
        self, ticket: str, status: str, resolution: str | None, rng: random.Random
    ) -> None:
        """Pick Working or, one time in four, Escalated for in progress."""
        name = _STATUS_NAMES[status]
        if status == "in_progress" and rng.random() < 0.25:
            name = "Escalated"
        self.agent.update_case(ticket, Status=name)

    def comment(self, ticket: str, text: str, *, public: bool) -> str:
        created = self.agent.add_comment(ticket, text, internal=not public)
        return str(created["Id"])

    def resolution(self, rng: random.Random) -> str | None:
        return None

    # -- reads ---------------------------------------------------------------------------

    def tickets(self) -> list[str]:
        return [str(record["Id"]) for record in self.sf.state.rows("Case")]

    def _case(self, ticket: str) -> Record | None:
        found = self.sf.state.find(ticket)
        return found[1] if found is not None and found[0].name == "Case" else None

    def fields_of(self, ticket: str) -> dict[str, object]:
        record = self._case(ticket)
        return _canonical(record) if record is not None else {}

    def comments_of(self, ticket: str) -> list[SeenComment]:
        integration = self._integration_id()
        return [
            SeenComment(
                str(row["Id"]),
                row.get("CommentBody") or "",
                bool(row["IsPublished"]),
                row["CreatedById"] != integration,
            )
            for row in self.sf.state.rows("CaseComment")
            if row["ParentId"] == ticket
        ]

    def correlation_of(self, ticket: str) -> str | None:
        record = self._case(ticket)
        return (record.get("External_Ref__c") or None) if record is not None else None


def _canonical(record: Record) -> dict[str, object]:
    return {
        "title": record.get("Subject") or None,
        "description": record.get("Description") or None,
        "status": _STATUSES.get(record.get("Status") or "", record.get("Status")),
        "priority": _PRIORITIES.get(record.get("Priority") or "", record.get("Priority")),
    }
