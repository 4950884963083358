"""Plan a resync after a config or mapping change, and apply it through the engine's writes.

The plan compares the last-synced snapshots of linked tickets, field by field, under the
current `sync.ownership` and mappings. A field whose owner side has another value than the
other side, and that the other side's mapping writes, is a planned write. Fields that
flow both ways go from the side whose record changed last; under `hold` they are listed
for a person instead. Nothing is read from the systems, so the plan shows what the store
knows; a change made in a system since its last event shows up once that event is handled.

`apply_plan` writes each planned change with `push_fields`, which maps, writes, reads back
and confirms, and saves the target's snapshot, as a sync does. Each write is logged as a
`resynced` row in the sync log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tierbridge.core.engine.fields import copyable_fields, tier_rank
from tierbridge.core.engine.writes import push_fields
from tierbridge.core.errors import ConfigError, ConnectorError, MappingError
from tierbridge.core.model import Ticket
from tierbridge.core.ops.queries import linked_link_ids
from tierbridge.core.store import SyncLogEntry

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow, SnapshotRow

__all__ = ["FieldChange", "PlannedWrite", "apply_plan", "plan_resync"]

_BOTH_WAYS = ("last_writer", "hold")


@dataclass(frozen=True)
class FieldChange:
    """One field to write: the canonical values on both sides, and the native values sent."""

    field: str
    current: Any
    wanted: Any
    native: dict[str, Any]


@dataclass
class PlannedWrite:
    """The changes from one linked ticket to another; `held` fields wait for a person."""

    link_id: int
    source: RefRow
    target: RefRow
    changes: list[FieldChange] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def direction(self) -> str:
        return f"{self.source.tier} -> {self.target.tier}"

    def as_json(self) -> dict[str, Any]:
        return {
            "link_id": self.link_id,
            "source": _name(self.source),
            "target": _name(self.target),
            "direction": self.direction,
            "changes": [
                {"field": c.field, "current": c.current, "wanted": c.wanted, "native": c.native}
                for c in self.changes
            ],
            "held": self.held,
            "errors": self.errors,
        }


def _name(ref: RefRow) -> str:
    return f"{ref.connector}:{ref.ticket_key or ref.ticket_id}"


def plan_resync(rt: Runtime) -> list[PlannedWrite]:
    """Return the writes that would bring every linked ticket in line with the config."""
    plan = []
    for link_id in linked_link_ids(rt.store):
        refs = [ref for ref in rt.store.refs_of_link(link_id) if ref.connector in rt.mappers]
        snapshots = {ref.id: rt.store.get_snapshot(ref.connector, ref.ticket_id) for ref in refs}
        for source in refs:
            for target in refs:
                if source.id == target.id:
                    continue
                planned = _plan_pair(
                    rt, link_id, (source, snapshots[source.id]), (target, snapshots[target.id])
                )
                if planned is not None:
                    plan.append(planned)
    return plan


Side = tuple["RefRow", "SnapshotRow | None"]


def _plan_pair(rt: Runtime, link_id: int, source: Side, target: Side) -> PlannedWrite | None:
    (source_ref, source_snap), (target_ref, target_snap) = source, target
    if source_snap is None or target_snap is None:
        return None
    ownership = rt.config.sync.ownership
    allowed = copyable_fields(ownership, source_ref.tier, target_ref.tier)
    ticket = Ticket.from_snapshot(source_snap.data)
    mapper = rt.mappers[target_ref.connector]
    planned = PlannedWrite(link_id, source_ref, target_ref)

    for name in sorted(allowed & ticket.present_fields()):
        wanted, current = source_snap.data.get(name), target_snap.data.get(name)
        if name in target_snap.data and wanted == current:
            continue
        policy = ownership.get(name)
        if policy in _BOTH_WAYS and not _changed_last(source, target):
            continue
        try:
            native = mapper.to_native(ticket, {name})
        except MappingError as exc:
            planned.errors.append(f"{name}: {exc}")
            continue
        if not native:
            continue
        if policy == "hold":
            planned.held.append(name)
        else:
            planned.changes.append(FieldChange(name, current, wanted, native))
    return planned if planned.changes or planned.held or planned.errors else None


def _changed_last(source: Side, target: Side) -> bool:
    """Tell whether the source's record changed after the target's; a tie goes to the lower tier."""
    (source_ref, source_snap), (target_ref, target_snap) = source, target
    source_at, target_at = _updated(source_snap), _updated(target_snap)
    if source_at != target_at:
        return source_at > target_at
    return tier_rank(source_ref.tier) < tier_rank(target_ref.tier)


def _updated(snapshot: SnapshotRow | None) -> datetime:
    assert snapshot is not None
    recorded = snapshot.data.get("updated")
    return datetime.fromisoformat(recorded) if isinstance(recorded, str) else snapshot.updated_at


@dataclass(frozen=True)
class AppliedWrite:
    """Result of one planned write: the fields written, or the error that stopped it."""

    planned: PlannedWrite
    written: list[str]
    error: str | None


def apply_plan(rt: Runtime, plan: list[PlannedWrite]) -> list[AppliedWrite]:
    """Write each planned change through the engine's write path; held fields are not written.

    A failed write is reported and logged, and the other writes go on.
    """
    results = []
    for planned in plan:
        if not planned.changes:
            continue
        started = time.monotonic()
        result = _apply_one(rt, planned)
        _log_row(rt, result, round((time.monotonic() - started) * 1000, 2))
        results.append(result)
    return results


def _apply_one(rt: Runtime, planned: PlannedWrite) -> AppliedWrite:
    snapshot = rt.store.get_snapshot(planned.source.connector, planned.source.ticket_id)
    if snapshot is None:
        return AppliedWrite(planned, [], "the source has no snapshot any more")
    ticket = Ticket.from_snapshot(snapshot.data)
    names = {change.field for change in planned.changes}
    try:
        written, _record = push_fields(rt, ticket, planned.target, names)
    except (ConnectorError, ConfigError) as exc:
        return AppliedWrite(planned, [], str(exc))
    return AppliedWrite(planned, sorted(written), None)


def _log_row(rt: Runtime, result: AppliedWrite, duration_ms: float) -> None:
    planned = result.planned
    rt.store.log(
        SyncLogEntry(
            at=rt.clock(),
            link_id=planned.link_id,
            connector=planned.source.connector,
            ticket_id=planned.source.ticket_id,
            ticket_key=planned.source.ticket_key,
            action="resynced",
            target_connector=planned.target.connector,
            target_ticket=planned.target.ticket_key or planned.target.ticket_id,
            fields=result.written or sorted(change.field for change in planned.changes),
            outcome="failed" if result.error else "ok",
            duration_ms=duration_ms,
            error=result.error,
            detail="written by `tierbridge plan --apply`",
        )
    )
