"""The canonical ticket: one shape for every connected system.

A connector reads its system's records into `Ticket` objects and writes them back from them,
so the engine compares, escalates and routes tickets without knowing which system they came from.

Absent versus cleared: pydantic records which fields were given (`model_fields_set`). A field
that a source did not report is *absent* (not in the set) and leaves the other side untouched.
A field given as `None` was *cleared* and clears the other side. `Ticket.present_fields()` and
`Ticket.snapshot()` keep that difference through the state store.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AttachmentMeta",
    "Comment",
    "Priority",
    "Status",
    "Ticket",
    "TicketRef",
    "Tier",
    "utc",
]


class Tier(enum.StrEnum):
    """Support tier: L1 is the client's service desk, L2 and L3 the teams it escalates to."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"

    def next(self) -> Tier | None:
        """Return the tier above this one, or None at L3."""
        order = list(Tier)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class Status(enum.StrEnum):
    """Canonical ticket status; each mapping translates its system's states to these."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (Status.RESOLVED, Status.CLOSED, Status.CANCELED)


class Priority(enum.StrEnum):
    """Canonical priority, P1 (critical) to P5 (planning), as in the ITIL impact x urgency matrix."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


def utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; raise ValueError for a naive one."""
    if value.tzinfo is None or value.utcoffset() is None:
        msg = (
            f"datetime {value.isoformat()} has no time zone; parse it with its zone or mark it UTC"
        )
        raise ValueError(msg)
    return value.astimezone(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TicketRef(_Frozen):
    """Where a ticket lives: the connector that reads it, its immutable id and its human key."""

    connector: str
    id: str = Field(min_length=1)
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.connector}:{self.key or self.id}"


class Comment(_Frozen):
    """One journal entry. `public` comments are visible to the customer; internal ones are not."""

    source_id: str
    body: str
    public: bool
    author: str | None = None
    created: datetime | None = None

    @field_validator("created")
    @classmethod
    def _created_in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class AttachmentMeta(_Frozen):
    """Metadata of a file attached to a ticket; the bytes stay in the source system."""

    source_id: str
    filename: str
    size: int | None = None
    content_type: str | None = None
    sha256: str | None = None


class Ticket(BaseModel):
    """A ticket in canonical form, as read from one system at one moment.

    `version` is the source's own change counter or timestamp (ServiceNow `sys_mod_count`,
    Jira `updated`), kept as a sortable string so a late event never overwrites newer state.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ref: TicketRef
    version: str | None = None
    tier: Tier | None = None
    title: str | None = None
    description: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    impact: int | None = Field(default=None, ge=1, le=3)
    urgency: int | None = Field(default=None, ge=1, le=3)
    category: str | None = None
    subcategory: str | None = None
    assignment_group: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = None
    correlation_id: str | None = None
    comments: list[Comment] = Field(default_factory=list)
    attachments: list[AttachmentMeta] = Field(default_factory=list)
    custom: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created", "updated")
    @classmethod
    def _times_in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    #: Fields that the engine compares and copies between systems; refs, versions and
    #: journal lists are handled separately.
    SYNC_FIELDS: ClassVar[tuple[str, ...]] = (
        "title",
        "description",
        "status",
        "priority",
        "impact",
        "urgency",
        "category",
        "subcategory",
        "assignment_group",
        "assignee",
        "reporter",
        "resolution_code",
        "resolution_notes",
    )

    def present_fields(self) -> set[str]:
        """Return the sync fields this ticket reports, including cleared (None) ones."""
        return {name for name in self.SYNC_FIELDS if name in self.model_fields_set}

    def snapshot(self) -> dict[str, Any]:
        """Return the reported fields as JSON-ready values; absent fields are left out."""
        return self.model_dump(mode="json", exclude_unset=True)

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Ticket:
        """Rebuild a ticket from `snapshot()` output, keeping absent fields absent."""
        return cls.model_validate(data)
