"""The `sync:` config section: which side owns each field, what to do on a conflict, and
what the counterparts of a deleted ticket get."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tierbridge.core.model import Ticket

__all__ = ["DEFAULT_OWNERSHIP", "OnDelete", "Ownership", "SyncSettings"]

#: `lower_tier`: only the lower tier's changes are copied (it owns what the customer reported).
#: `higher_tier`: only the higher tier's changes are copied. `last_writer`: changes flow both
#: ways and, when both sides changed the field since the last sync, the newer change wins.
#: `hold`: changes flow both ways, but a real conflict is left for a person to settle.
Ownership = Literal["lower_tier", "higher_tier", "last_writer", "hold"]
OnDelete = Literal["ignore", "comment", "close"]

DEFAULT_OWNERSHIP: dict[str, Ownership] = {
    "title": "lower_tier",
    "description": "lower_tier",
    "priority": "lower_tier",
    "impact": "lower_tier",
    "urgency": "lower_tier",
    "category": "lower_tier",
    "subcategory": "lower_tier",
    "status": "last_writer",
    "resolution_code": "last_writer",
    "resolution_notes": "last_writer",
}


class SyncSettings(BaseModel):
    """Field ownership; fields left out keep their default, and unlisted fields are not copied.

    Reporter, assignee and assignment group are people and queues of one system, so they are
    not copied unless listed here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ownership: dict[str, Ownership] = DEFAULT_OWNERSHIP
    #: What the counterparts of a linked ticket found deleted get (see `core.census`):
    #: nothing, an internal note (the default), or the note and a cancel.
    on_delete: OnDelete = "comment"
    #: Seconds between two deletion censuses of one connector.
    census_interval_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("ownership", mode="after")
    @classmethod
    def _known_fields_over_defaults(cls, value: dict[str, Ownership]) -> dict[str, Ownership]:
        unknown = sorted(set(value) - set(Ticket.SYNC_FIELDS))
        if unknown:
            allowed = ", ".join(Ticket.SYNC_FIELDS)
            msg = f"unknown field(s) {', '.join(unknown)}; ownership can be set for: {allowed}"
            raise ValueError(msg)
        return {**DEFAULT_OWNERSHIP, **value}
