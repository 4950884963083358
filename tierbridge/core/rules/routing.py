"""Move a ticket between tiers: escalate it up, or hand it back down.

Each tier is a connector and, optionally, a team's group there (`tiers:` in the config).
A link's *active tier* is where the work is now: the target of its latest tier move, or,
for a link without moves, the highest tier it has a ticket in.

Escalating to a tier without a ticket creates the counterpart there once, through the
engine's create-once `create_counterpart`. Escalating to a tier whose ticket was handed
back earlier reopens that ticket instead. Returning never deletes or unlinks anything:
the lower tier's ticket is reassigned (and reopened if it was closed), and the link keeps
every ticket, so comments and status still flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierbridge.core.engine.fields import tier_rank
from tierbridge.core.engine.writes import (
    correlation_key,
    create_counterpart,
    create_fields,
    push_fields,
)
from tierbridge.core.errors import RejectedError
from tierbridge.core.model import Status, Ticket, Tier

if TYPE_CHECKING:
    from datetime import datetime

    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["ActionResult", "active_tier", "escalate", "previous_tier", "return_to"]


@dataclass(frozen=True)
class ActionResult:
    """The result of one action, as a sync log row: `outcome` is ok or skipped."""

    action: str
    outcome: str
    detail: str
    target: RefRow | None = None
    fields: list[str] = field(default_factory=list)


def active_tier(rt: Runtime, link_id: int, refs: list[RefRow]) -> Tier:
    """Return the tier where a link's work is now."""
    moves = rt.store.moves_of_link(link_id)
    if moves:
        return Tier(moves[-1].to_tier)
    return max((Tier(ref.tier) for ref in refs), key=tier_rank)


def previous_tier(rt: Runtime, link_id: int, tier: Tier) -> Tier | None:
    """Return the tier that last moved the link to `tier`, or None if it started there."""
    for move in reversed(rt.store.moves_of_link(link_id)):
        if move.to_tier == tier.value:
            return Tier(move.from_tier)
    return None


def escalate(
    rt: Runtime, rule: str, ticket: Ticket, source: RefRow, target: Tier, now: datetime
) -> ActionResult:
    """Move the ticket up to `target`: create its counterpart there, or reopen it."""
    refs = rt.store.refs_of_link(source.link_id)
    if tier_rank(target) <= tier_rank(source.tier):
        return _skipped("escalated", f"{target} is not above the ticket's tier {source.tier}")
    existing = _ref_at(refs, target)
    active = active_tier(rt, source.link_id, refs)
    if existing is not None and tier_rank(active) >= tier_rank(target):
        return _skipped("escalated", f"already at {active}", existing)

    if existing is None:
        created = _create(rt, ticket, refs, target)
        sent = set(create_fields(rt, source.tier, target) & ticket.present_fields())
        sent |= _assign(rt, ticket, created, target)
        detail = f"rule {rule}: new {target} ticket"
    else:
        created = existing
        sent = _assign(rt, ticket, created, target) | _reopen(rt, ticket, created)
        detail = f"rule {rule}: {target} ticket reopened"

    rt.store.add_move(
        source.link_id,
        now,
        "escalate",
        source.tier,
        target.value,
        rule=rule,
        connector=source.connector,
        ticket_id=source.ticket_id,
    )
    return ActionResult("escalated", "ok", detail, created, sorted(sent))


def return_to(
    rt: Runtime, rule: str, ticket: Ticket, source: RefRow, wanted: Tier | str, now: datetime
) -> ActionResult:
    """Hand the ticket back down to `wanted`, a tier or `previous`; the link stays whole."""
    refs = rt.store.refs_of_link(source.link_id)
    own = Tier(source.tier)
    active = active_tier(rt, source.link_id, refs)
    if active is not own:
        return _skipped("returned", f"the work is at {active}, not at {own}")
    target = previous_tier(rt, source.link_id, own) if wanted == "previous" else Tier(wanted)
    if target is None:
        return _skipped("returned", f"the ticket started at {own}, so it has no previous tier")
    if tier_rank(target) >= tier_rank(own):
        return _skipped("returned", f"{target} is not below the ticket's tier {own}")

    lower = _ref_at(refs, target) or _create(rt, ticket, refs, target)
    written = _assign(rt, ticket, lower, target) | _reopen(rt, ticket, lower)
    rt.store.add_move(
        source.link_id,
        now,
        "return",
        own.value,
        target.value,
        rule=rule,
        connector=source.connector,
        ticket_id=source.ticket_id,
    )
    return ActionResult("returned", "ok", f"rule {rule}: back to {target}", lower, sorted(written))


def _ref_at(refs: list[RefRow], tier: Tier) -> RefRow | None:
    return next((ref for ref in refs if ref.tier == tier.value), None)


def _create(rt: Runtime, ticket: Ticket, refs: list[RefRow], target: Tier) -> RefRow:
    """Create the counterpart at `target` from the link's ticket whose key is free for it.

    The correlation key of a create is its source's `<connector>:<ticket id>`, and one key
    names one create. The ticket just below the target is tried first, then the others, so
    that a link that reached L3 straight from L1 can still get an L2 ticket later.
    """
    target_connector = rt.connector_for_tier(target)
    below = sorted(
        (r for r in refs if tier_rank(r.tier) < tier_rank(target)), key=lambda r: -tier_rank(r.tier)
    )
    above = sorted(
        (r for r in refs if tier_rank(r.tier) > tier_rank(target)), key=lambda r: tier_rank(r.tier)
    )
    for candidate in below + above:
        earlier = rt.store.get_write(correlation_key(candidate))
        if earlier is None or earlier.target_connector == target_connector:
            return create_counterpart(rt, ticket, candidate, target)
    msg = f"every ticket of link {refs[0].link_id} already created a counterpart elsewhere"
    raise RejectedError(
        msg, connector=refs[0].connector, operation="escalate", record=refs[0].ticket_id
    )


def _assign(rt: Runtime, ticket: Ticket, target: RefRow, tier: Tier) -> set[str]:
    """Give the target ticket the tier's group, or the evaluated ticket's group if the tier
    names none. A mapping without an assignment group (Jira) leaves the project as the queue."""
    settings = rt.config.tiers.get(tier)
    group = (settings.group if settings is not None else None) or ticket.assignment_group
    if group is None or not rt.mappers[target.connector].maps("assignment_group"):
        return set()
    assigned = Ticket.from_snapshot({**ticket.snapshot(), "assignment_group": group})
    written, _record = push_fields(rt, assigned, target, {"assignment_group"})
    return written


def _reopen(rt: Runtime, ticket: Ticket, target: RefRow) -> set[str]:
    """Set a ticket that was resolved, closed or canceled back to in progress."""
    snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
    status = snapshot.data.get("status") if snapshot is not None else None
    if status is None or not Status(status).is_final:
        return set()
    reopened = Ticket.from_snapshot({**ticket.snapshot(), "status": Status.IN_PROGRESS.value})
    written, _record = push_fields(rt, reopened, target, {"status"})
    return written


def _skipped(action: str, reason: str, target: RefRow | None = None) -> ActionResult:
    return ActionResult(action, "skipped", reason, target)
