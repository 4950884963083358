"""`Desk`: one person working in one ticketing system, the same way whatever the system.

The scenarios and the end-to-end tests act through desks: an L1 agent opens and updates
tickets with canonical values (`TicketValues`), which each desk writes in its system's own
fields. A higher-tier agent takes, replies to, attaches files to, hands on and resolves
tickets. Checks read the systems back through the same desks. Every call goes through the
system's REST API, as a person's browser would make it, never through the connector under
test.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.model import Priority

__all__ = ["Attached", "Desk", "Entry", "Seen"]

#: The first line of a copied comment: `[author in connector:ticket]`.
_COPY_HEADER = re.compile(r"^\[.+ in [a-z][a-z0-9_-]*:[^\]]+\]$")


@dataclass(frozen=True)
class Seen:
    """One ticket as a list or a form shows it to an agent."""

    id: str
    #: The ticket's number or key, as people name it.
    key: str
    #: The field in which tierbridge stores the correlation key or the higher tier's key.
    correlation: str
    resolved: bool
    status: str


@dataclass(frozen=True)
class Entry:
    """One comment or journal entry, with its visibility to the customer."""

    text: str
    public: bool

    @property
    def is_copy(self) -> bool:
        """Whether tierbridge copied it here from another ticket (it starts with the header line)."""
        first_line = self.text.split("\n", 1)[0]
        return _COPY_HEADER.match(first_line) is not None


@dataclass(frozen=True)
class Attached:
    """One file on a ticket, as its attachment list shows it, with the SHA-256 of its bytes."""

    id: str
    filename: str
    sha256: str

    @classmethod
    def from_bytes(cls, file_id: str, filename: str, content: bytes) -> Attached:
        """Describe a downloaded file by its digest, so that checks compare bytes, not names."""
        return cls(file_id, filename, hashlib.sha256(content).hexdigest())


class Desk(ABC):
    """The actions of one agent in one system. Desks are not thread-safe."""

    system: ClassVar[str]
    #: Whether the daemon learns of a public comment written here without another change
    #: to the ticket. Public comments of systems where it does not are written before the
    #: ticket's field changes, so that the change's webhook brings them along.
    public_comment_notifies: ClassVar[bool] = True
    #: Whether the daemon learns of a file attached here without another change to the
    #: ticket. Where it does not, the agent adds a note naming the file (`demo.files.attach`).
    file_notifies: ClassVar[bool] = True

    def native_priority(self, priority: Priority) -> dict[str, Any]:
        """Return the native fields, as the connector reports them, that `open` writes for `priority`."""
        msg = f"{self.system} desks do not open tickets"
        raise NotImplementedError(msg)

    @abstractmethod
    def open(self, values: TicketValues) -> str:
        """Create a ticket with `values`; return its id."""

    @abstractmethod
    def change(self, ticket_id: str, values: TicketValues) -> None:
        """Write the values that are set; None values stay as they are."""

    @abstractmethod
    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        """Add a customer-visible comment (`public`) or an internal note."""

    @abstractmethod
    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        """Upload a file to the ticket, as a person does through the system's file dialog."""

    @abstractmethod
    def attachments(self, ticket_id: str) -> list[Attached]:
        """Return the ticket's files in the order the system lists them, each file downloaded."""

    @abstractmethod
    def tickets(self) -> list[Seen]:
        """Return every ticket of the desk's queue or project."""

    @abstractmethod
    def read(self, ticket_id: str) -> Seen:
        """Return one ticket."""

    @abstractmethod
    def journal(self, ticket_id: str) -> list[Entry]:
        """Return the ticket's comments and notes, oldest first."""

    @abstractmethod
    def take(self, ticket_id: str) -> None:
        """Start work on the ticket: set it in progress unless it is."""

    @abstractmethod
    def resolve(self, ticket_id: str, note: str) -> None:
        """Resolve the ticket, with `note` as the resolution text where the system has one."""

    def hand_on(self, ticket_id: str, group: str) -> None:
        """Assign the ticket to another team's group, which may escalate it further."""
        msg = f"{self.system} tickets have no assignment group in the shipped mapping"
        raise NotImplementedError(msg)

    @abstractmethod
    def close(self) -> None:
        """Close the HTTP session."""
