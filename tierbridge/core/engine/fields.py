"""Which canonical fields flow in which direction between tiers, and how to diff them.

Direction follows field ownership (the `sync.ownership` config): the lower tier (the
client's desk) owns what the customer reported, and status and resolution flow both ways so
that either side can close a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierbridge.core.model import Ticket, Tier
from tierbridge.core.sync_settings import DEFAULT_OWNERSHIP, Ownership

__all__ = [
    "CREATE_FIELDS",
    "changed_fields",
    "copyable_fields",
    "differs_from",
    "fields_for_direction",
    "tier_rank",
]


def tier_rank(tier: str | Tier) -> int:
    return ["L1", "L2", "L3"].index(str(tier))


def copyable_fields(
    ownership: Mapping[str, Ownership], source_tier: str, target_tier: str
) -> frozenset[str]:
    """Return the fields whose changes on `source_tier` may be written to `target_tier`."""
    upward = tier_rank(source_tier) < tier_rank(target_tier)
    allowed = set()
    for name, owner in ownership.items():
        if owner in ("last_writer", "hold") or (owner == "lower_tier") == upward:
            allowed.add(name)
    return frozenset(allowed)


def fields_for_direction(source_tier: str, target_tier: str) -> frozenset[str]:
    """Return the fields a change on `source_tier` may write to `target_tier` by default."""
    return copyable_fields(DEFAULT_OWNERSHIP, source_tier, target_tier)


#: Fields copied by default when a counterpart is created in the next tier; a counterpart
#: starts in its own system's initial state, unresolved.
CREATE_FIELDS = fields_for_direction("L1", "L2") - {"status", "resolution_code", "resolution_notes"}


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
