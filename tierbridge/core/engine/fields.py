"""Which canonical fields flow in which direction between tiers, and how to diff them.

The lower tier (the client's desk) owns what the customer reported; the higher tier owns
the outcome. Status and resolution flow both ways so that either side can close a ticket.

TODO: the directions are fixed here; per-field ownership from config and three-way merge
of real conflicts are not built yet.
"""

from __future__ import annotations

from typing import Any

from tierbridge.core.model import Ticket, Tier

__all__ = ["CREATE_FIELDS", "changed_fields", "fields_for_direction", "tier_rank"]

# Reporter and assignee are people of one system: a client's caller rarely has an account in
# the outsourced team's tool, so they are not copied.
_DOWNSTREAM = frozenset(
    {"title", "description", "priority", "impact", "urgency", "category", "subcategory"}
)
_BOTH_WAYS = frozenset({"status", "resolution_code", "resolution_notes"})

#: Fields copied when a counterpart is created in the next tier.
CREATE_FIELDS = _DOWNSTREAM


def tier_rank(tier: str | Tier) -> int:
    return ["L1", "L2", "L3"].index(str(tier))


def fields_for_direction(source_tier: str, target_tier: str) -> frozenset[str]:
    """Return the fields a change on `source_tier` may write to `target_tier`."""
    if tier_rank(source_tier) < tier_rank(target_tier):
        return _DOWNSTREAM | _BOTH_WAYS
    return _BOTH_WAYS


def changed_fields(ticket: Ticket, snapshot: dict[str, Any] | None) -> set[str]:
    """Return the sync fields whose reported value differs from the last-synced snapshot."""
    present = ticket.present_fields()
    if snapshot is None:
        return present
    current = ticket.snapshot()
    return {name for name in present if name not in snapshot or snapshot[name] != current.get(name)}


def differs_from(ticket: Ticket, snapshot: dict[str, Any] | None, names: set[str]) -> set[str]:
    """Return the names whose value in `ticket` is not already what `snapshot` holds."""
    if snapshot is None:
        return set(names)
    current = ticket.snapshot()
    return {name for name in names if snapshot.get(name, _MISSING) != current.get(name)}


_MISSING = object()
