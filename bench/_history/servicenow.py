"""The agent in ServiceNow: opens incidents (at L1), edits them, changes states and comments."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar

from bench._history.actors import Actor, Clock, SeenComment, register
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator
from tierbridge.emulators.servicenow.state import ChangeEvent
from tierbridge.emulators.servicenow.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    notice_body,
    sign,
)

__all__ = ["ServiceNowActor"]

_INTEGRATION_USER = "svc.tierbridge"
_AGENT = "agent.l1"
_TABLE = "incident"
_STATES = {"1": "new", "2": "in_progress", "3": "pending", "6": "resolved", "7": "closed"}
_STATES["8"] = "canceled"
_STATE_CODES = {status: code for code, status in _STATES.items()}
#: Impact and urgency that give each priority through the base priority lookup rules.
_IMPACT_URGENCY = {"P1": ("1", "1"), "P2": ("1", "2"), "P3": ("2", "2"), "P4": ("2", "3")}
_IMPACT_URGENCY["P5"] = ("3", "3")
_WEBHOOK_SECRET = "history-snow-webhook-key"  # noqa: S105 - a test value


def _text(value: str) -> str | None:
    return value or None


@register
class ServiceNowActor(Actor):
    """Works incidents as `agent.l1` through the Table API, with display-value input."""

    system: ClassVar[str] = "servicenow"
    secrets: ClassVar[dict[str, str]] = {
        "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS[_INTEGRATION_USER],
        "TIERBRIDGE_SNOW_WEBHOOK_SECRET": _WEBHOOK_SECRET,
    }

    def __init__(self, connector: str, emulator: Any) -> None:
        super().__init__(connector, emulator)
        self.snow: ServiceNowEmulator = emulator
        self.agent = ServiceNowAgent(
            emulator.base_url, emulator.ca_cert, _AGENT, DEFAULT_PASSWORDS[_AGENT]
        )

    @classmethod
    def start_emulator(cls, tls_dir: Path, clock: Clock) -> ServiceNowEmulator:
        return ServiceNowEmulator(tls_dir=tls_dir, clock=clock).start()

    def watch(self) -> None:
        self.emulator.state.listeners.append(self._saw)

    def reset(self) -> None:
        self.snow.reset()

    def settings_overrides(self) -> dict[str, Any]:
        return {"base_url": self.snow.base_url, "ca_bundle": self.snow.ca_cert}

    def close(self) -> None:
        self.agent.close()
        self.snow.stop()

    def _saw(self, event: ChangeEvent) -> None:
        sink = self.sink
        if sink is None or event.table != _TABLE:
            return
        record = event.record
        human = record["sys_updated_by"] != _INTEGRATION_USER
        if event.operation == "insert":
            correlation = _text(record.get("correlation_id", ""))
            sink.journal.note_created(
                self.connector, record["sys_id"], human=human, correlation=correlation
            )
        sink.journal.observe(self.connector, record["sys_id"], _canonical(record), human=human)
        body = notice_body(event)
        signature = sign(_WEBHOOK_SECRET, body)

        def build() -> tuple[dict[str, str], bytes]:
            """Return the business rule's signed notice, with a new delivery id on each call."""
            delivery = f"{self.connector}:{sink.journal.next_seq()}"
            return {DELIVERY_HEADER: delivery, SIGNATURE_HEADER: signature}, body

        sink.deliveries.capture(self.connector, build)

    # -- a person's changes --------------------------------------------------------------

    def open_ticket(self, title: str, description: str, priority: str) -> str:
        impact, urgency = _IMPACT_URGENCY[priority]
        created = self.agent.create_incident(
            short_description=title, description=description, impact=impact, urgency=urgency
        )
        return str(created["sys_id"])

    def set_fields(self, ticket: str, values: dict[str, str]) -> None:
        native: dict[str, str] = {}
        if "title" in values:
            native["short_description"] = values["title"]
        if "description" in values:
            native["description"] = values["description"]
        if "priority" in values:
            native["impact"], native["urgency"] = _IMPACT_URGENCY[values["priority"]]
        self.agent.update_incident(ticket, **native)

    def set_status(
        self, ticket: str, status: str, resolution: str | None, rng: random.Random
    ) -> None:
        native = {"state": _STATE_CODES[status]}
        if status == "resolved":
            native["close_code"] = resolution or "Duplicate"
            native["close_notes"] = "Resolved at the service desk."
        self.agent.update_incident(ticket, **native)

    def comment(self, ticket: str, text: str, *, public: bool) -> str:
        self.agent.add_comment(ticket, text, internal=not public)
        entries = self.snow.state.journal(ticket)
        return str(entries[-1]["sys_id"])

    # -- reads ---------------------------------------------------------------------------

    def tickets(self) -> list[str]:
        return [row["sys_id"] for row in self.snow.state.rows(_TABLE)]

    def fields_of(self, ticket: str) -> dict[str, object]:
        record = self.snow.state.get(_TABLE, ticket)
        return _canonical(record) if record is not None else {}

    def comments_of(self, ticket: str) -> list[SeenComment]:
        return [
            SeenComment(
                row["sys_id"],
                row["value"],
                row["element"] == "comments",
                row["sys_created_by"] != _INTEGRATION_USER,
            )
            for row in self.snow.state.journal(ticket)
            if row["element"] in ("comments", "work_notes")
        ]

    def correlation_of(self, ticket: str) -> str | None:
        record = self.snow.state.get(_TABLE, ticket)
        return _text(record.get("correlation_id", "")) if record is not None else None


def _canonical(record: Any) -> dict[str, object]:
    return {
        "title": _text(record.get("short_description", "")),
        "description": _text(record.get("description", "")),
        "status": _STATES.get(record.get("state", ""), record.get("state")),
        "priority": f"P{record['priority']}" if record.get("priority") else None,
        "resolution_code": _text(record.get("close_code", "")),
    }
