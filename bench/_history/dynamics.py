"""The L1 agent in Dynamics 365 Customer Service: opens cases, edits, moves and notes them.

Cases have no New or Closed status and three priorities (read as P2, P3 and P4; see
mappings/dynamics.yaml), so people in a pair with Dynamics never pick the others.

Two limits of the sync contract shape what the person here does:

* A new note leaves the case's `modifiedon` as it was, so no poll finds it: the daemon
  learns of it from the annotation webhook step, or from a later change to the case. A
  note's webhook may arrive late or twice, but it is never dropped, since a note that is
  the last change of a case would then never be copied.
* A public comment goes to an activity table (`adx_portalcomment`) that no webhook step
  watches and no poll reads, so the person posts only notes. Public comments from the other
  tier are still written there and judged.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, ClassVar

from bench._history.actors import STATUS_MOVES, Actor, Clock, SeenComment, StatusMoves, register
from tierbridge.emulators.dynamics import ChangeEvent, DynamicsAgent, DynamicsEmulator
from tierbridge.emulators.dynamics.emulator import TIERBRIDGE_CLIENT
from tierbridge.emulators.dynamics.schema import ORGANIZATION_NAME
from tierbridge.emulators.dynamics.values import Ref
from tierbridge.emulators.dynamics.webhooks import DEFAULT_HEADER, context_body

__all__ = ["DynamicsActor"]

_WEBHOOK_KEY = "history-dynamics-webhook-key"
#: The webhook steps the emulator registers: (table, message).
_STEPS = {("incident", "Create"), ("incident", "Update"), ("annotation", "Create")}
_PUBLIC_TABLE = "adx_portalcomment"
#: Values of the case's statecode.
_ACTIVE, _CANCELED = 0, 2
#: The status reasons a person picks from for each canonical status, the first most often.
#: Merged (2000) is left out: merging cases sets it, not a cancel.
_STATUS_CODES = {"in_progress": (1, 4), "pending": (2, 3), "resolved": (5, 1000), "canceled": (6,)}
#: Status reasons as the mapping reads them.
_STATUSES = {1: "in_progress", 2: "pending", 3: "pending", 4: "in_progress", 5: "resolved"}
_STATUSES |= {1000: "resolved", 6: "canceled", 2000: "canceled"}
_PRIORITY_CODES = {"P2": 1, "P3": 2, "P4": 3}
_PRIORITIES = {code: priority for priority, code in _PRIORITY_CODES.items()}
#: The moves of a system with every status, less those into or out of New.
_MOVES: StatusMoves = {
    status: tuple(move for move in targets if move != "new")
    for status, targets in STATUS_MOVES.items()
    if status != "new"
}


@register
class DynamicsActor(Actor):
    """Works cases as `Alex Doe` through the Web API, with option-set integers."""

    system: ClassVar[str] = "dynamics"
    secrets: ClassVar[dict[str, str]] = {
        "TIERBRIDGE_DYNAMICS_CLIENT_SECRET": TIERBRIDGE_CLIENT[1],
        "TIERBRIDGE_DYNAMICS_WEBHOOK_KEY": _WEBHOOK_KEY,
    }
    priorities: ClassVar[tuple[str, ...]] = tuple(_PRIORITY_CODES)
    moves: ClassVar[StatusMoves] = _MOVES
    public_comments: ClassVar[bool] = False

    def __init__(self, connector: str, emulator: Any) -> None:
        super().__init__(connector, emulator)
        self.dyn: DynamicsEmulator = emulator
        self.agent = DynamicsAgent(emulator.base_url, emulator.ca_cert)

    @classmethod
    def start_emulator(cls, tls_dir: Path, clock: Clock) -> DynamicsEmulator:
        return DynamicsEmulator(tls_dir=tls_dir, clock=clock).start()

    def watch(self) -> None:
        self.emulator.state.listeners.append(self._saw)

    def reset(self) -> None:
        """Empty the organisation and sign the agent in again.

        Tokens are drawn from the organisation's seeded GUIDs, which start over on reset, so
        an old token could come back issued to another user: every token is dropped first.
        """
        self.dyn.reset()
        self.dyn.expire_tokens()
        self.agent.close()
        self.agent = DynamicsAgent(self.dyn.base_url, self.dyn.ca_cert)

    def settings_overrides(self) -> dict[str, Any]:
        seed = self.dyn.state.seed
        return {
            "base_url": self.dyn.base_url,
            "ca_bundle": self.dyn.ca_cert,
            "authority_host": self.dyn.base_url,
            "tenant_id": self.dyn.tenant_id,
            "integration_user": seed.integration_user,
            "default_customer": f"/accounts({seed.account})",
        }

    def close(self) -> None:
        self.agent.close()
        self.dyn.stop()

    def _human(self, user_id: str) -> bool:
        return user_id != self.dyn.state.seed.integration_user

    def _saw(self, event: ChangeEvent) -> None:
        """Record a case change and capture the step's webhook, under the state's lock."""
        sink = self.sink
        if sink is None:
            return
        if event.table == "incident":
            row = event.row
            human = self._human(event.user_id)
            if event.message == "Create":
                correlation = row.get("new_externalref") or None
                sink.journal.note_created(
                    self.connector, row["incidentid"], human=human, correlation=correlation
                )
            sink.journal.observe(self.connector, row["incidentid"], _canonical(row), human=human)
        if (event.table, event.message) not in _STEPS:
            return

        new_guid = self.dyn.state.new_guid

        def build() -> tuple[dict[str, str], bytes]:
            """Return the step's RemoteExecutionContext, as a new system job on each call."""
            # NOTE: the emulator's endpoint sets these headers inside its listener and has no
            # helper that returns them, so they are repeated here. The body is its own.
            headers = {
                "Content-Type": "application/json",
                "x-ms-dynamics-organization": f"{ORGANIZATION_NAME}.crm.dynamics.com",
                "x-ms-dynamics-entity-name": event.table,
                "x-ms-dynamics-request-name": event.message,
                "x-ms-correlation-request-id": new_guid(),
                DEFAULT_HEADER: _WEBHOOK_KEY,
            }
            return headers, json.dumps(context_body(event, new_guid)).encode("utf-8")

        droppable = event.table != "annotation"
        sink.deliveries.capture(self.connector, build, droppable=droppable)

    # -- a person's changes --------------------------------------------------------------

    def open_ticket(self, title: str, description: str, priority: str) -> str:
        account = self.dyn.state.seed.account
        created = self.agent.create_incident(
            title=title,
            description=description,
            prioritycode=_PRIORITY_CODES[priority],
            **{"customerid_account@odata.bind": f"/accounts({account})"},
        )
        return str(created["incidentid"])

    def set_fields(self, ticket: str, values: dict[str, str]) -> None:
        native: dict[str, object] = {}
        if "title" in values:
            native["title"] = values["title"]
        if "description" in values:
            native["description"] = values["description"]
        if "priority" in values:
            native["prioritycode"] = _PRIORITY_CODES[values["priority"]]
        self.agent.update_incident(ticket, **native)

    def editable(self, ticket: str) -> bool:
        """Tell whether the case is active: a resolved or canceled case is read-only."""
        row = self.dyn.state.get("incident", ticket)
        return row is not None and row.get("statecode") == _ACTIVE

    def set_status(
        self, ticket: str, status: str, resolution: str | None, rng: random.Random
    ) -> None:
        """Resolve through CloseIncident, cancel or (re)activate with an update, as the app does."""
        codes = _STATUS_CODES[status]
        code = codes[0] if len(codes) == 1 or rng.random() < 0.75 else codes[1]
        if status == "resolved":
            self.agent.resolve(ticket, status=code)
        elif status == "canceled":
            self.agent.update_incident(ticket, statecode=_CANCELED, statuscode=code)
        else:
            self.agent.update_incident(ticket, statecode=_ACTIVE, statuscode=code)

    def comment(self, ticket: str, text: str, *, public: bool) -> str:
        if public:
            raise NotImplementedError("a person in Dynamics posts only notes in this checker")
        created = self.agent.add_note(ticket, text)
        return str(created["annotationid"])

    def resolution(self, rng: random.Random) -> str | None:
        return None

    # -- reads ---------------------------------------------------------------------------

    def tickets(self) -> list[str]:
        return [str(row["incidentid"]) for row in self.dyn.state.rows("incident")]

    def fields_of(self, ticket: str) -> dict[str, object]:
        row = self.dyn.state.get("incident", ticket)
        return _canonical(row) if row is not None else {}

    def comments_of(self, ticket: str) -> list[SeenComment]:
        case = Ref("incident", ticket.lower())
        notes = [
            (row["createdon"], self._seen(row, "annotationid", "notetext", public=False))
            for row in self.dyn.state.notes(ticket)
            if not row.get("isdocument") or row.get("notetext")
        ]
        activities = [
            (row["createdon"], self._seen(row, "activityid", "description", public=True))
            for row in self.dyn.state.rows(_PUBLIC_TABLE)
            if row.get("regardingobjectid") == case
        ]
        return [seen for _, seen in sorted(notes + activities, key=lambda pair: pair[0])]

    def _seen(self, row: dict[str, Any], id_column: str, text: str, *, public: bool) -> SeenComment:
        creator = row.get("createdby")
        human = not isinstance(creator, Ref) or self._human(creator.id)
        return SeenComment(str(row[id_column]), row.get(text) or "", public, human)

    def correlation_of(self, ticket: str) -> str | None:
        row = self.dyn.state.get("incident", ticket)
        return (row.get("new_externalref") or None) if row is not None else None


def _canonical(row: Any) -> dict[str, object]:
    status = row.get("statuscode")
    priority = row.get("prioritycode")
    return {
        "title": row.get("title") or None,
        "description": row.get("description") or None,
        "status": _STATUSES.get(status, status) if isinstance(status, int) else status,
        "priority": _PRIORITIES.get(priority, priority) if isinstance(priority, int) else priority,
    }
