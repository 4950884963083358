"""Writes to a target system: create-once counterparts and confirmed field updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tierbridge.core.engine.fields import copyable_fields
from tierbridge.core.errors import MappingError, RejectedError
from tierbridge.core.model import Status, Ticket, Tier

if TYPE_CHECKING:
    from tierbridge.core.connector import NativeRecord
    from tierbridge.core.mapping import Mapper
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow, SnapshotRow

__all__ = [
    "OnRejected",
    "adopt_unconfirmed_create",
    "create_counterpart",
    "create_fields",
    "push_fields",
    "save_synced",
]

_FINAL_STATUSES = {Status.RESOLVED.value, Status.CLOSED.value, Status.CANCELED.value}
_RESOLUTION_FIELDS = frozenset({"resolution_code", "resolution_notes"})

#: Callback that receives the fields a target rejected and the reason, in place of an error.
OnRejected = Callable[[set[str], str], None]


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
        fields = _create_defaults(mapper, mapper.to_native(ticket, names))
        record = target.create_record(fields, correlation)

    rt.store.complete_write(correlation, record.id, rt.clock())
    first_target = len(rt.store.refs_of_link(source.link_id)) == 1
    ref = rt.store.add_ref(source.link_id, target_name, record.id, record.key, target_tier.value)
    rt.store.save_snapshot(
        target_name, record.id, record.version, mapper.to_ticket(record).snapshot()
    )
    if first_target:
        # The source's state at the create is the baseline of the new link. Were the pass to
        # crash now, the next one would otherwise diff against an older snapshot, and later
        # changes that restore its values (A to B to A) would never reach the counterpart.
        # NOTE: not done for a second counterpart, whose crash could drop pushes to the first.
        baseline = ticket.snapshot()
        rt.store.save_snapshot(source.connector, source.ticket_id, ticket.version, baseline)
    return ref


def adopt_unconfirmed_create(rt: Runtime, source: RefRow) -> RefRow | None:
    """Link the counterpart that an unconfirmed create for `source` made, if it exists.

    A crash or timeout right after a create leaves its outbox reservation open and the new
    ticket unlinked. The next pass of the source links it, found by correlation key, also
    when the escalation rule no longer holds, so the counterpart gets the source's later
    changes. Returns the new ref, or None when there is nothing to adopt.
    """
    correlation = correlation_key(source)
    earlier = rt.store.get_write(correlation)
    if earlier is None or earlier.status == "done" or earlier.operation != "create":
        return None
    target_name = earlier.target_connector
    tier = rt.tier_of(target_name)
    linked = {ref.connector for ref in rt.store.refs_of_link(source.link_id)}
    if tier is None or target_name not in rt.connectors or target_name in linked:
        return None

    connector = rt.connectors[target_name]
    record = rt.policy.call(lambda: connector.find_by_correlation(correlation))
    if record is None:
        return None
    # The counterpart's state counts as synced, as after a create, so its own initial status
    # is never copied back over the source's.
    # NOTE: so a change a person made to it between the crash and this pass counts as synced:
    # it is not copied to the source, and a change of the source may overwrite it.
    rt.store.complete_write(correlation, record.id, rt.clock())
    ref = rt.store.add_ref(source.link_id, target_name, record.id, record.key, tier.value)
    snapshot = rt.mappers[target_name].to_ticket(record).snapshot()
    rt.store.save_snapshot(target_name, record.id, record.version, snapshot)
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
    rt: Runtime,
    ticket: Ticket,
    target: RefRow,
    names: set[str],
    on_rejected: OnRejected | None = None,
) -> tuple[set[str], NativeRecord | None]:
    """Write `names` from `ticket` to `target`, confirm them by reading back, return what was written.

    Fields whose value the target already holds (per its snapshot) are skipped, so an echo
    or a repeated event writes nothing. A resolution changed on a ticket that stays in the
    same final status on both sides is written on its own, after the other fields. Given
    `on_rejected`, a target that rejects that write (Jira without the field on its edit
    screen) is reported there instead of failing the pass.
    """
    mapper = rt.mappers[target.connector]
    names = {name for name in names if mapper.to_native(ticket, {name})}
    snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
    names = _native_differences(mapper, mapper.as_written(ticket, names), snapshot, names)
    lone = _lone_resolution(ticket, names, snapshot)
    names = _without_lone_resolution(ticket, names) | lone
    written, record = _write(rt, ticket, target, names - lone, snapshot)
    if not lone:
        return written, record

    try:
        after = rt.store.get_snapshot(target.connector, target.ticket_id) if written else snapshot
        alone, record = _write(rt, ticket, target, lone, after)
    except RejectedError as exc:
        if on_rejected is None:
            raise
        on_rejected(lone, str(exc))
        return written, record
    return written | alone, record


def _write(
    rt: Runtime, ticket: Ticket, target: RefRow, names: set[str], snapshot: SnapshotRow | None
) -> tuple[set[str], NativeRecord | None]:
    if not names:
        return set(), None

    mapper = rt.mappers[target.connector]
    outgoing = _with_resolution(ticket, names, target)
    # The resolution fields a final status carries along are written, and reported, with it.
    along = {
        name for name in _resolution_names(outgoing, names) if mapper.to_native(outgoing, {name})
    }
    native = mapper.to_native(outgoing, names | along)
    native = _resolution_defaults(mapper, outgoing, names, native)
    if not native:
        return set(), None

    connector = rt.connectors[target.connector]
    record = rt.policy.call(lambda: connector.update_record(target.ticket_id, native))
    written = mapper.to_ticket(record)
    _confirm(mapper, mapper.as_written(outgoing, names), written, names, target)
    save_synced(rt, target, snapshot, written, names | along)
    return names | along, record


def save_synced(
    rt: Runtime, target: RefRow, snapshot: SnapshotRow | None, written: Ticket, names: set[str]
) -> None:
    """Store the written fields in the target's snapshot, and nothing else of the read-back.

    The read-back also shows what a person changed on the target since its last sync, and
    the events of those changes may still be queued, delayed or lost. Taken into the
    snapshot, those changes would look synced and never be copied. The version stays the
    one last synced, so that a poll still queues the record and those changes are handled.
    """
    values = written.snapshot()
    # Without a snapshot, only the ticket's identity is kept besides the written fields, so
    # that its other fields still read as changed.
    data = dict(snapshot.data) if snapshot is not None else {"ref": values["ref"]}
    for name in names:
        if name in values:
            data[name] = values[name]
        else:
            data.pop(name, None)
    version = snapshot.version if snapshot is not None else None
    rt.store.save_snapshot(target.connector, target.ticket_id, version, data)


def _create_defaults(mapper: Mapper, native: dict[str, Any]) -> dict[str, Any]:
    """Fill the mapping's `defaults` on create, except resolution fields of a new ticket."""
    resolution = {mapper.spec.fields.get(name) for name in ("resolution_code", "resolution_notes")}
    filled = dict(native)
    for name, value in mapper.spec.defaults.items():
        if name not in resolution and filled.get(name) is None:
            filled[name] = value
    return filled


def _resolution_defaults(
    mapper: Mapper, ticket: Ticket, names: set[str], native: dict[str, Any]
) -> dict[str, Any]:
    """Fill a resolution field the target requires from the mapping's `defaults`.

    ServiceNow refuses to resolve without a close code; a ticket resolved in a system that
    has no such field (Dynamics, say) gets the mapping's default instead of a refusal.
    """
    if "status" not in names or ticket.status is None or ticket.status.value not in _FINAL_STATUSES:
        return native
    filled = dict(native)
    for canonical in ("resolution_code", "resolution_notes"):
        native_name = mapper.spec.fields.get(canonical)
        if native_name and not filled.get(native_name) and native_name in mapper.spec.defaults:
            filled[native_name] = mapper.spec.defaults[native_name]
    return filled


def _without_lone_resolution(ticket: Ticket, names: set[str]) -> set[str]:
    """Drop the resolution fields unless they go with a final status.

    A resolution only means something on a final status: ServiceNow keeps the close code of
    a reopened incident, and Jira takes a resolution only with a transition. So it travels
    with the status that needs it (`_resolution_names`), or alone by `_lone_resolution`.
    """
    if "status" in names and ticket.status is not None and ticket.status.is_final:
        return names
    return names - _RESOLUTION_FIELDS


def _lone_resolution(ticket: Ticket, names: set[str], snapshot: SnapshotRow | None) -> set[str]:
    """Return the resolution fields to write without a status: the target already shows
    the ticket's final status, and only the resolution changed.

    A person who reopens a resolved ticket and resolves it again with another resolution
    leaves the status unchanged in a read made after both moves.
    """
    lone = names & _RESOLUTION_FIELDS
    if not lone or "status" in names or ticket.status is None or not ticket.status.is_final:
        return set()
    if snapshot is None or snapshot.data.get("status") != ticket.status.value:
        return set()
    return lone


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


def _native_view(mapper: Mapper, ticket: Ticket, name: str) -> dict[str, Any]:
    """The native values `name` is written as, which is what the target can tell apart.

    Comparing there, not in canonical values, matters where a system has fewer values than
    the canonical model: Dynamics stores P1 and P2 both as High, so P1 written reads back as
    P2, yet the write took.
    """
    try:
        native = mapper.to_native(ticket, {name})
    except MappingError:
        return {"canonical": _normalized(ticket.snapshot().get(name))}
    return {key: _normalized(value) for key, value in native.items()}


def _native_differences(
    mapper: Mapper, ticket: Ticket, snapshot: SnapshotRow | None, names: set[str]
) -> set[str]:
    """Return the names whose native value differs from the target's last-synced snapshot."""
    if snapshot is None:
        return set(names)
    current = Ticket.from_snapshot(snapshot.data)
    return {
        name
        for name in names
        if _native_view(mapper, ticket, name) != _native_view(mapper, current, name)
    }


def _confirm(
    mapper: Mapper, intended: Ticket, written: Ticket, names: set[str], target: RefRow
) -> None:
    """Raise RejectedError if the read-back shows a field that did not take the written value."""
    missed = sorted(
        name
        for name in names
        if name in written.model_fields_set
        and _native_view(mapper, written, name) != _native_view(mapper, intended, name)
    )
    if missed:
        msg = (
            f"the write returned success but fields {missed} read back with other values; "
            "check the target's workflow, data policies and field permissions"
        )
        raise RejectedError(
            msg, connector=target.connector, operation="update", record=target.ticket_key
        )
