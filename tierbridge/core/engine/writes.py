"""Writes to a target system: create-once counterparts and confirmed field updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierbridge.core.engine.fields import copyable_fields, differs_from
from tierbridge.core.errors import RejectedError
from tierbridge.core.model import Status, Ticket, Tier

if TYPE_CHECKING:
    from tierbridge.core.connector import NativeRecord
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["create_counterpart", "create_fields", "push_fields"]

_FINAL_STATUSES = {Status.RESOLVED.value, Status.CLOSED.value, Status.CANCELED.value}


#: A counterpart starts in its own system's initial state, unresolved.
_NOT_ON_CREATE = frozenset({"status", "resolution_code", "resolution_notes"})


def create_fields(rt: Runtime, source_tier: str, target_tier: Tier) -> frozenset[str]:
    """Return the fields copied when a counterpart is created in `target_tier`."""
    ownership = rt.config.sync.ownership
    return copyable_fields(ownership, source_tier, target_tier.value) - _NOT_ON_CREATE


def correlation_key(source: RefRow) -> str:
    """The key stored on a counterpart that names its source: `<connector>:<ticket id>`."""
    return f"{source.connector}:{source.ticket_id}"


def create_counterpart(rt: Runtime, ticket: Ticket, source: RefRow, target_tier: Tier) -> RefRow:
    """Create the ticket's counterpart in `target_tier`'s system, exactly once, and link it.

    The correlation key is reserved in the outbox before the create. If an earlier attempt
    reserved it and never confirmed (a timeout, a crash), the target is searched for the key
    first, so a retry adopts the ticket that attempt made instead of making a second one.
    """
    target_name = rt.connector_for_tier(target_tier)
    if target_name is None:
        msg = f"no connector is configured for tier {target_tier}; add tiers.{target_tier} to the config"
        raise RejectedError(
            msg, connector=source.connector, operation="escalate", record=source.ticket_id
        )
    target = rt.connectors[target_name]
    mapper = rt.mappers[target_name]
    correlation = correlation_key(source)

    record = _adopt_earlier_create(rt, target_name, correlation)
    if record is None:
        rt.store.reserve_write(source.link_id, target_name, "create", correlation, rt.clock())
        names = create_fields(rt, source.tier, target_tier) & ticket.present_fields()
        fields = mapper.to_native(ticket, names)
        record = target.create_record(fields, correlation)

    rt.store.complete_write(correlation, record.id, rt.clock())
    ref = rt.store.add_ref(source.link_id, target_name, record.id, record.key, target_tier.value)
    rt.store.save_snapshot(
        target_name, record.id, record.version, mapper.to_ticket(record).snapshot()
    )
    return ref


def _adopt_earlier_create(rt: Runtime, target_name: str, correlation: str) -> NativeRecord | None:
    earlier = rt.store.get_write(correlation)
    if earlier is None:
        return None
    target = rt.connectors[target_name]
    if earlier.status == "done" and earlier.result_id:
        return rt.policy.call(lambda: target.get_record(earlier.result_id or ""))
    return rt.policy.call(lambda: target.find_by_correlation(correlation))


def push_fields(
    rt: Runtime, ticket: Ticket, target: RefRow, names: set[str]
) -> tuple[set[str], NativeRecord | None]:
    """Write `names` from `ticket` to `target`, confirm them by reading back, return what was written.

    Fields whose value the target already holds (per its snapshot) are skipped, so an echo
    or a repeated event writes nothing.
    """
    mapper = rt.mappers[target.connector]
    names = {name for name in names if mapper.to_native(ticket, {name})}
    snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
    names = differs_from(mapper.as_written(ticket, names), snapshot.data if snapshot else None, names)
    if not names:
        return set(), None

    outgoing = _with_resolution(ticket, names, target)
    native = mapper.to_native(outgoing, names | _resolution_names(outgoing, names))
    if not native:
        return set(), None

    connector = rt.connectors[target.connector]
    record = rt.policy.call(lambda: connector.update_record(target.ticket_id, native))
    written = mapper.to_ticket(record)
    _confirm(mapper.as_written(outgoing, names), written, names, target)
    rt.store.save_snapshot(target.connector, target.ticket_id, record.version, written.snapshot())
    return names, record


def _resolution_names(ticket: Ticket, names: set[str]) -> set[str]:
    if "status" not in names or ticket.status is None or ticket.status.value not in _FINAL_STATUSES:
        return set()
    return {"resolution_code", "resolution_notes"} & ticket.present_fields()


def _with_resolution(ticket: Ticket, names: set[str], target: RefRow) -> Ticket:
    """Add resolution notes to a final status that has none, since most systems require them."""
    if "status" not in names or ticket.status is None or ticket.status.value not in _FINAL_STATUSES:
        return ticket
    if ticket.resolution_notes:
        return ticket
    copy = ticket.model_copy(deep=True)
    copy.resolution_notes = f"{ticket.status.value.capitalize()} in {ticket.ref}."
    return copy


def _normalized(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _confirm(intended: Ticket, written: Ticket, names: set[str], target: RefRow) -> None:
    """Raise RejectedError if the read-back shows a field that did not take the written value."""
    wanted = intended.snapshot()
    got = written.snapshot()
    missed = sorted(
        name
        for name in names
        if name in got and _normalized(got.get(name)) != _normalized(wanted.get(name))
    )
    if missed:
        msg = (
            f"the write returned success but fields {missed} read back with other values; "
            "check the target's workflow, data policies and field permissions"
        )
        raise RejectedError(
            msg, connector=target.connector, operation="update", record=target.ticket_key
        )
