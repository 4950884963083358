"""Run the actions of a fired rule, each at most once per firing.

Escalate and return check the link's tiers first, and set compares with the ticket, so
running them again after a failed attempt does nothing twice. Notes and notifications
cannot be checked that way. Each is reserved in the outbox under a key naming the rule,
the ticket, the firing and the action's position, and skipped once it is done.
NOTE: a crash after the call and before the outbox marks it done sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierbridge.core.engine.comments import LOCAL_ORIGIN
from tierbridge.core.model import Ticket
from tierbridge.core.rules.conditions import Facts
from tierbridge.core.rules.models import Action, NotifySettings, Rule
from tierbridge.core.rules.notify import send_notification
from tierbridge.core.rules.routing import ActionResult, escalate, return_to

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["Firing", "run_actions"]

_WEBHOOK_TARGET = "webhook"


@dataclass(frozen=True)
class Firing:
    """One rule firing on one ticket; `number` counts the rule's earlier firings there."""

    rule: Rule
    ticket: Ticket
    source: RefRow
    facts: Facts
    matched: list[str]
    number: int

    def key(self, index: int) -> str:
        """Return the outbox key of the action at `index` in this firing."""
        source = self.source
        return f"rule:{self.rule.name}:{source.connector}:{source.ticket_id}:{self.number}:{index}"


def run_actions(rt: Runtime, firing: Firing) -> list[ActionResult]:
    """Run the rule's actions in order and return what each did."""
    return [_run(rt, firing, index, action) for index, action in enumerate(firing.rule.then)]


def _run(rt: Runtime, firing: Firing, index: int, action: Action) -> ActionResult:
    name, ticket, source, now = firing.rule.name, firing.ticket, firing.source, firing.facts.now
    if action.escalate is not None:
        return escalate(rt, name, ticket, source, action.escalate, now)
    if action.return_to is not None:
        return return_to(rt, name, ticket, source, action.return_to, now)
    if action.set is not None:
        return _set_fields(rt, firing, action.set)
    if action.note is not None:
        return _add_note(rt, firing, index, action.note)
    assert action.notify is not None
    return _notify(rt, firing, index, action.notify)


def _set_fields(rt: Runtime, firing: Firing, values: dict[str, Any]) -> ActionResult:
    """Write the values on the evaluated ticket; the echo of the write syncs them onwards."""
    ticket, source = firing.ticket, firing.source
    updated = Ticket.from_snapshot({**ticket.snapshot(), **values})
    before, after = ticket.snapshot(), updated.snapshot()
    names = {name for name in values if before.get(name) != after.get(name)}
    if not names:
        return ActionResult("fields_set", "skipped", "the ticket already has these values", source)

    native = rt.mappers[source.connector].to_native(updated, names)
    if not native:
        detail = f"the mapping of {source.connector} writes none of {sorted(names)}"
        return ActionResult("fields_set", "skipped", detail, source)
    connector = rt.connectors[source.connector]
    rt.policy.call(lambda: connector.update_record(source.ticket_id, native))
    return ActionResult("fields_set", "ok", f"rule {firing.rule.name}", source, sorted(names))


def _add_note(rt: Runtime, firing: Firing, index: int, body: str) -> ActionResult:
    """Add an internal note, recorded as seen so the engine never copies it to other tiers."""
    source, key = firing.source, firing.key(index)
    if _done(rt, key):
        return ActionResult("note_added", "skipped", "added by an earlier attempt", source)

    rt.store.reserve_write(source.link_id, source.connector, "note", key, firing.facts.now)
    connector = rt.connectors[source.connector]
    comment = rt.policy.call(lambda: connector.add_comment(source.ticket_id, body, public=False))
    rt.store.record_comment(
        source.link_id, source.connector, comment.source_id, LOCAL_ORIGIN, f"rule-note:{key}"
    )
    rt.store.complete_write(key, comment.source_id, firing.facts.now)
    return ActionResult("note_added", "ok", f"rule {firing.rule.name}", source)


def _notify(rt: Runtime, firing: Firing, index: int, settings: NotifySettings) -> ActionResult:
    key = firing.key(index)
    if _done(rt, key):
        return ActionResult("notified", "skipped", "sent by an earlier attempt")

    rt.store.reserve_write(firing.source.link_id, _WEBHOOK_TARGET, "notify", key, firing.facts.now)
    status = send_notification(settings, key, _payload(firing))
    rt.store.complete_write(key, str(status), firing.facts.now)
    host = settings.url.host or ""
    return ActionResult("notified", "ok", f"rule {firing.rule.name}: {host} answered {status}")


def _done(rt: Runtime, key: str) -> bool:
    earlier = rt.store.get_write(key)
    return earlier is not None and earlier.status == "done"


def _payload(firing: Firing) -> dict[str, Any]:
    """Describe the firing without any of the ticket's text."""
    ticket, facts = firing.ticket, firing.facts
    return {
        "rule": firing.rule.name,
        "matched": firing.matched,
        "sent_at": facts.now.isoformat(),
        "ticket": {
            "connector": firing.source.connector,
            "id": firing.source.ticket_id,
            "key": firing.source.ticket_key,
            "tier": facts.tier.value,
            "priority": ticket.priority.value if ticket.priority else None,
            "status": ticket.status.value if ticket.status else None,
            "assignment_group": ticket.assignment_group,
        },
        "sla": {
            kind: {"percent_elapsed": clock.percent, "breached": clock.reached(100.0)}
            for kind, clock in facts.clocks.items()
        },
    }
