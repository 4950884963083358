"""The interface a contract test talks to: one connector's system in one mode.

A `Target` builds connectors for its system and arranges the situations the contract
suite checks: a ticket a person created, an expired session, a throttling response, a
webhook delivery. The same test runs against recorded fixtures, the bundled emulator and
a live instance. A mode that cannot arrange a situation raises `Unsupported`, and the
suite reports the test as skipped with that reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tierbridge.core.connector import Connector

__all__ = [
    "CONTRACT_START",
    "CORRELATION_KEY",
    "LONG_AGO",
    "MARKER",
    "Delivery",
    "Mode",
    "Seeded",
    "SystemFacts",
    "Target",
    "Unsupported",
]

Mode = Literal["recorded", "emulator", "live"]

#: Title prefix of every ticket the suite creates, so that people and cleanup jobs can find them.
MARKER = "[tierbridge-contract]"
#: The instant emulator clocks start at, and the "now" of recorded fixtures.
CONTRACT_START = datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)
#: A cursor before every change a recorded or emulated test makes.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
#: The correlation key of the tickets the suite creates, except in live mode.
CORRELATION_KEY = "servicenow:6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4"


class Unsupported(Exception):
    """The target cannot arrange this situation; the message is the reason the skip reports."""


@dataclass(frozen=True)
class Seeded:
    """A ticket created for a test: its immutable id and, where the system has one, its key."""

    id: str
    key: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One webhook request as the intake server hands it to a connector.

    `headers` include the pseudo-header `:query` (the raw query string) when the request
    had one, because Salesforce and Dataverse may put their shared token in the URL.
    """

    headers: Mapping[str, str]
    body: bytes

    def with_body(self, body: bytes) -> Delivery:
        """Return the same request with another body and unchanged headers."""
        return replace(self, body=body)

    def without(self, *names: str) -> Delivery:
        """Return the request without the named headers (case-insensitive)."""
        dropped = {name.lower() for name in names}
        kept = {key: value for key, value in self.headers.items() if key.lower() not in dropped}
        return replace(self, headers=kept)


@dataclass(frozen=True)
class SystemFacts:
    """Facts about one system's native records that the generic checks of the suite need."""

    #: Native field names of the ticket's title, description and status.
    title_field: str
    description_field: str
    status_field: str
    #: Successive status writes; after each, the status field reads back as written.
    status_steps: tuple[Mapping[str, Any], ...]
    #: An update the system refuses with an error body, and text our error message must contain.
    rejected_update: Mapping[str, Any]
    rejection_hint: str
    #: A well-formed id of a record that does not exist.
    missing_id: str
    #: Smallest step of the system's change-time filter: a cursor is floored to it.
    cursor_precision: timedelta = timedelta(seconds=1)
    #: True when the connector keeps a session token that expires and must be renewed.
    session_expiry: bool = False
    #: True when the webhook authentication covers the body, so a changed body is rejected.
    signed_webhooks: bool = False
    #: The wait, in seconds, that a throttling response of the emulator and the fixtures requests.
    throttle_retry_after: float | None = 7.0
    #: Extra native fields a create needs besides the title.
    create_fields: Mapping[str, Any] = field(default_factory=dict)


class Target(ABC):
    """One system in one mode, for the duration of one test; `close()` releases everything."""

    def __init__(self, system: str, mode: Mode, facts: SystemFacts) -> None:
        self.system = system
        self.mode: Mode = mode
        self.facts = facts
        self._connectors: list[Connector] = []

    # -- connectors -------------------------------------------------------------------------

    @abstractmethod
    def _build(self, overrides: Mapping[str, Any]) -> Connector:
        """Build a connector from the target's settings with `overrides` applied."""

    def connector(self, **overrides: Any) -> Connector:
        """Return a new connector; keyword arguments override top-level settings keys."""
        built = self._build(overrides)
        self._connectors.append(built)
        return built

    @abstractmethod
    def invalid_credentials(self) -> dict[str, Any]:
        """Return settings overrides that keep the account but send a wrong secret."""

    def other_webhook_secret(self) -> dict[str, Any]:
        """Return settings overrides under which webhooks are checked with another secret."""
        raise Unsupported(f"{self.mode} target cannot change the webhook secret")

    # -- situations -------------------------------------------------------------------------

    @abstractmethod
    def now(self) -> datetime:
        """Return the system's current time, as an aware UTC datetime."""

    def correlation_key(self) -> str:
        """Return the correlation key this test's creates use."""
        return CORRELATION_KEY

    def long_ago(self) -> datetime:
        """Return a cursor before every change the test makes: 2000-01-01 UTC by default."""
        return LONG_AGO

    @abstractmethod
    def seed(self, title: str) -> Seeded:
        """Create a ticket whose title starts with `MARKER`, as a person would, and return it."""

    def created(self, ticket_id: str) -> None:  # noqa: B027 - an optional hook
        """Note a ticket a test created through a connector, so that live targets remove it."""

    def advance(self, seconds: float) -> None:
        """Move the system's clock forward; only emulators can do this."""
        raise Unsupported(f"{self.mode} target cannot move the system's clock")

    def expire_sessions(self) -> None:
        """Invalidate every session token the system issued."""
        raise Unsupported(f"{self.mode} target cannot expire sessions")

    def throttle(self) -> None:
        """Make the next request get the system's throttling response."""
        raise Unsupported(f"{self.mode} target cannot force a throttling response")

    def fail_next(self, status: int) -> None:
        """Make the next request get a server error with `status`."""
        raise Unsupported(f"{self.mode} target cannot force a server error")

    def repeat_next_page(self) -> None:
        """Make the next follow-up page of a list name itself again as the next page."""
        raise Unsupported(f"{self.mode} target cannot make a page link repeat")

    def delivery(self, seeded: Seeded) -> Delivery:
        """Return a webhook delivery about `seeded`, authenticated with the configured secret."""
        raise Unsupported(f"{self.mode} target cannot produce webhook deliveries")

    def resign(self, delivery: Delivery, body: bytes) -> Delivery:
        """Return `delivery` with another body and authentication that matches it."""
        raise Unsupported(f"{self.mode} target cannot sign webhook deliveries")

    def strip_auth(self, delivery: Delivery) -> Delivery:
        """Return `delivery` without its signature or shared token."""
        raise Unsupported(f"{self.mode} target cannot produce webhook deliveries")

    # -- teardown ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connector this target built."""
        while self._connectors:
            self._connectors.pop().close()
