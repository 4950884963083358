"""Field ownership and conflicts: which changes may be copied, and who wins when both sides
changed the same field since the last sync.

A conflict is a three-way comparison per field: the target's last-synced snapshot (the
base), the target's live value and the source's new value. The target's live value is read
before every write: the inbox cannot tell whether the target changed, because the webhook
of that change may be delayed or lost and the poll that recovers it may not have run yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierbridge.core.engine.fields import copyable_fields
from tierbridge.core.engine.writes import push_fields, save_synced
from tierbridge.core.sync_settings import Ownership

if TYPE_CHECKING:
    from tierbridge.core.model import Ticket
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = [
    "Conflict",
    "copyable_fields",
    "describe_conflicts",
    "settle_conflicts",
    "write_back_kept",
]


#: Policies under which the target's value may win, so that a write must read it first.
_CONTESTED = frozenset({"last_writer", "hold"})


@dataclass(frozen=True)
class Conflict:
    """Both sides changed `field` since the last sync; `winner` is source, target or held."""

    field: str
    policy: Ownership
    winner: str

    def describe(self) -> str:
        outcome = {"source": "source value written", "target": "target value kept"}
        return f"{self.field}: both sides changed it ({self.policy}); {outcome.get(self.winner, 'held for a person')}"


def settle_conflicts(
    rt: Runtime, ticket: Ticket, target: RefRow, names: set[str]
) -> tuple[set[str], list[Conflict]]:
    """Return the fields still to write to `target`, and the conflicts found among `names`.

    A field the target already changed to the source's value is not written again. Its new
    value is saved in the target's snapshot instead.
    """
    ownership = rt.config.sync.ownership
    if not any(ownership[name] in _CONTESTED for name in names):
        # The source owns every field written, so it wins any conflict: no read is needed.
        # NOTE: a target's change to such a field is then overwritten without a conflict row.
        return names, []
    snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
    # Without a snapshot nothing on the target is known to be synced, so every field that
    # differs counts as a conflict.
    base = snapshot.data if snapshot is not None else {}

    connector = rt.connectors[target.connector]
    live_record = rt.policy.call(lambda: connector.get_record(target.ticket_id))
    live = rt.mappers[target.connector].to_ticket(live_record)
    wanted = ticket.snapshot()
    current = live.snapshot()

    agreed = _agreed(names, base, current, wanted)
    if agreed:
        # Both sides moved to the same value: the target's snapshot takes it, as after a
        # write. Writing it anyway can change the target: Dynamics reopens a resolved case
        # to set another resolved status reason.
        save_synced(rt, target, snapshot, live, agreed)
    to_write = set(names) - agreed
    conflicts = []
    for name in sorted(names - agreed):
        # NOTE: a field changed and changed back on the target since the last sync (A to B
        # to A) reads as unchanged here, so the source's value is written over it.
        if (
            name not in current
            or (name in base and current[name] == base[name])
            or current[name] == wanted.get(name)
        ):
            continue
        winner = _winner(ownership[name], ticket, live)
        conflicts.append(Conflict(name, ownership[name], winner))
        if winner != "source":
            to_write.discard(name)
    return to_write, conflicts


def _agreed(
    names: set[str], base: dict[str, Any], current: dict[str, Any], wanted: dict[str, Any]
) -> set[str]:
    """Return the fields the target changed since the last sync to the source's value."""
    return {
        name
        for name in names
        if name in current
        and current[name] == wanted.get(name)
        and (name not in base or base[name] != current[name])
    }


def _winner(policy: Ownership, ticket: Ticket, live: Ticket) -> str:
    if policy == "hold":
        return "held"
    if policy == "last_writer":
        # NOTE: systems report one update time per record, not per field, so the newer
        # record wins each conflicting field even if that field changed earlier.
        if (
            ticket.updated is not None
            and live.updated is not None
            and live.updated > ticket.updated
        ):
            return "target"
        return "source"
    return "source"


def write_back_kept(
    rt: Runtime, ticket: Ticket, source: RefRow, target: RefRow, conflicts: list[Conflict]
) -> set[str]:
    """Write the values `target` kept in `conflicts` to the source and to `ticket`.

    The target's own events would not copy them when its value equals the one last synced
    (changed and changed back), and the two sides would then never agree. The target's
    snapshot takes the values too, so that its next change is seen. Returns the fields
    written.
    """
    names = {conflict.field for conflict in conflicts if conflict.winner == "target"}
    names &= copyable_fields(rt.config.sync.ownership, target.tier, source.tier)
    if not names:
        return set()

    connector = rt.connectors[target.connector]
    record = rt.policy.call(lambda: connector.get_record(target.ticket_id))
    live = rt.mappers[target.connector].to_ticket(record)
    written, _record = push_fields(rt, live, source, names)
    for name in written:
        setattr(ticket, name, getattr(live, name))
    snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
    save_synced(rt, target, snapshot, live, written)
    return written


def describe_conflicts(conflicts: list[Conflict]) -> str:
    """One line for the sync log: field names and outcomes, never the values."""
    return "; ".join(conflict.describe() for conflict in conflicts)
