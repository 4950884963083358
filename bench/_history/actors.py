"""The people who work in each system, one actor class per system, found by its name.

An actor starts its system's emulator and makes a person's changes through the emulator's
REST API. It also watches every change the emulator saves. It records the new canonical
values in the seed's `Journal`, and passes the webhook the vendor would send to the seed's
`Deliveries`.
Actions and reads use canonical names and values (`title`, `in_progress`, `P2`), so the
scenario works the same whatever system it drives. Each actor also states which priorities and
status moves a person can make in its system, and a pair offers only those both systems
have (`Pair.moves`), so that the scenario never asks a person for a change the other side
cannot take. A new system joins by subclassing `Actor` and decorating the class with
`@register`; `PAIRS` names the L1 and L2 systems of each pair.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench._history.deliveries import Deliveries
from bench._history.journal import Journal

__all__ = [
    "ACTORS",
    "PAIRS",
    "STATUS_MOVES",
    "Actor",
    "Pair",
    "SeenComment",
    "Sink",
    "register",
]

Clock = Callable[[], Any]
StatusMoves = dict[str, tuple[str, ...]]

#: Canonical status moves that a person may make from each status, in a system that has
#: every canonical status. They are the moves the JSM workflow allows in one step, since the
#: Jira connector makes one transition per write: a final status may only be reopened.
#: Closed is left out, for two reasons. JSM's Closed has no way out, so a later change on the
#: other side could never be copied. And a ticket resolved and then closed between two syncs
#: reaches the Jira connector as a move to Closed from an open status, which it rejects.
STATUS_MOVES: StatusMoves = {
    "new": ("in_progress", "pending", "resolved", "canceled"),
    "in_progress": ("new", "pending", "resolved", "canceled"),
    "pending": ("new", "in_progress", "resolved", "canceled"),
    "resolved": ("in_progress",),
    "canceled": ("in_progress",),
}
#: Every canonical priority.
ALL_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


@dataclass
class Sink:
    """Destination of what the actors of the running seed observe."""

    journal: Journal
    deliveries: Deliveries


@dataclass(frozen=True)
class SeenComment:
    """A journal entry as stored in an emulator, in plain text."""

    id: str
    text: str
    public: bool
    human: bool


class Actor(ABC):
    """A person at one system's desk, and the watcher of that system's emulator.

    Subclasses set `system` (the connector's system name) and implement the abstract
    methods. `sink` is None between seeds, and changes seen then are ignored.
    """

    system: ClassVar[str]
    #: Environment variables that the config's secret references read.
    secrets: ClassVar[dict[str, str]] = {}
    #: Canonical priorities that a person can set and that read back as set.
    priorities: ClassVar[tuple[str, ...]] = ALL_PRIORITIES
    #: Canonical status moves a person can make, from each status the system has.
    moves: ClassVar[StatusMoves] = STATUS_MOVES
    #: Whether a person's public comment reaches the daemon; False limits people to notes.
    public_comments: ClassVar[bool] = True

    def __init__(self, connector: str, emulator: Any) -> None:
        self.connector = connector
        self.emulator = emulator
        self.sink: Sink | None = None
        self.watch()

    @classmethod
    @abstractmethod
    def start_emulator(cls, tls_dir: Path, clock: Clock) -> Any:
        """Start this system's emulator on a free port and return it."""

    @abstractmethod
    def watch(self) -> None:
        """Subscribe to the emulator's saved changes."""

    @abstractmethod
    def reset(self) -> None:
        """Empty the emulator for the next seed."""

    @abstractmethod
    def settings_overrides(self) -> dict[str, Any]:
        """Return the connector settings that point it at the emulator."""

    @abstractmethod
    def close(self) -> None:
        """Stop the emulator and close the person's HTTP session."""

    # -- a person's changes --------------------------------------------------------------

    def open_ticket(self, title: str, description: str, priority: str) -> str:
        """Create a ticket and return its id; only L1 systems need it."""
        raise NotImplementedError(f"{self.system} does not open tickets in this checker")

    def set_fields(self, ticket: str, values: dict[str, str]) -> None:
        """Change `title`, `description` or `priority`; only L1 systems need it."""
        raise NotImplementedError(f"{self.system} does not edit fields in this checker")

    def editable(self, ticket: str) -> bool:
        """Tell whether a person may change the ticket's fields now (closed ones may be locked)."""
        return True

    @abstractmethod
    def set_status(
        self, ticket: str, status: str, resolution: str | None, rng: random.Random
    ) -> None:
        """Move the ticket to a canonical status, with a resolution for `resolved`.

        Where several native statuses read as the same canonical one, `rng` picks which.
        """

    @abstractmethod
    def comment(self, ticket: str, text: str, *, public: bool) -> str:
        """Post a comment or an internal note and return its id."""

    def edit_comment(self, ticket: str, comment_id: str, text: str) -> None:
        """Replace a comment's text; systems whose journal cannot be edited raise."""
        raise NotImplementedError(f"{self.system} comments cannot be edited")

    @property
    def edits_comments(self) -> bool:
        """Whether `edit_comment` works in this system."""
        return False

    def resolution(self, rng: random.Random) -> str | None:
        """Return the resolution a person here picks when resolving, or None if there is none."""
        return "Duplicate"

    # -- reads for the scenario and the oracle, from the emulator's memory ----------------

    @abstractmethod
    def tickets(self) -> list[str]:
        """Return the ids of every ticket in the system, oldest first."""

    @abstractmethod
    def fields_of(self, ticket: str) -> dict[str, object]:
        """Return the canonical synced fields of a ticket as stored now.

        A field the system does not store (a resolution, say) has no key.
        """

    @abstractmethod
    def comments_of(self, ticket: str) -> list[SeenComment]:
        """Return the ticket's comments and notes, oldest first."""

    @abstractmethod
    def correlation_of(self, ticket: str) -> str | None:
        """Return the correlation key stored on the ticket, if any."""


ACTORS: dict[str, type[Actor]] = {}


def register(cls: type[Actor]) -> type[Actor]:
    """Add an actor class to `ACTORS` under its system name."""
    ACTORS[cls.system] = cls
    return cls


@dataclass(frozen=True)
class Pair:
    """Two connected systems: the connector names of the config and their systems."""

    name: str
    config: Path
    l1: tuple[str, str]
    l2: tuple[str, str]

    @property
    def actor_classes(self) -> tuple[type[Actor], type[Actor]]:
        """Return the L1 and L2 actor classes. Their modules must be imported first."""
        return ACTORS[self.l1[1]], ACTORS[self.l2[1]]

    @property
    def priorities(self) -> tuple[str, ...]:
        """Return the priorities people on both sides can set, highest first."""
        first, second = self.actor_classes
        return tuple(value for value in first.priorities if value in second.priorities)

    @property
    def moves(self) -> StatusMoves:
        """Return the status moves that both systems let a person make."""
        first, second = self.actor_classes
        return {
            status: tuple(move for move in targets if move in second.moves.get(status, ()))
            for status, targets in first.moves.items()
            if status in second.moves
        }


_ROOT = Path(__file__).resolve().parents[2] / "config"

#: The pairs the checker can drive. Each names (connector, system) for L1 and L2, and its
#: config is the demo scenario's, so the checker syncs what `tierbridge demo` shows.
PAIRS: dict[str, Pair] = {
    pair.name: pair
    for pair in (
        Pair("servicenow-jsm", _ROOT / "demo.yaml", ("snow", "servicenow"), ("jsm", "jira")),
        Pair(
            "salesforce-jsm",
            _ROOT / "scenarios" / "salesforce-jsm.yaml",
            ("sf", "salesforce"),
            ("jsm", "jira"),
        ),
        Pair(
            "dynamics-servicenow",
            _ROOT / "scenarios" / "dynamics-servicenow.yaml",
            ("dyn", "dynamics"),
            ("snow", "servicenow"),
        ),
    )
}
