"""The per-system part of the contract suite: what differs between ServiceNow, Jira and the rest.

Adding a connector to the suite means writing one `ContractAdapter` subclass and passing an
instance to `register`. The adapter builds settings, signs webhooks, runs the system's
emulator (`EmulatedSystem`) and reaches a live instance (`LiveSystem`). The suite does the
rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tierbridge.testing.target import Seeded, SystemFacts, Unsupported

if TYPE_CHECKING:
    from tierbridge.testing.clock import ManualClock
    from tierbridge.testing.rawapi import RawApi

__all__ = ["SECRET_ENV", "ContractAdapter", "EmulatedSystem", "LiveSystem", "SecretEnv"]


@dataclass(frozen=True)
class SecretEnv:
    """Names of the environment variables the settings read their secrets from."""

    credential: str
    webhook: str


#: Variables the recorded and emulator targets set for the duration of one test.
SECRET_ENV = SecretEnv("TIERBRIDGE_CONTRACT_SECRET", "TIERBRIDGE_CONTRACT_WEBHOOK_SECRET")
#: Variables that hold the wrong values the failure tests use.
WRONG_SECRET_ENV = SecretEnv(
    "TIERBRIDGE_CONTRACT_WRONG_SECRET", "TIERBRIDGE_CONTRACT_OTHER_WEBHOOK_SECRET"
)


class EmulatedSystem(ABC):
    """One running emulator of the system, shared by many tests and reset before each."""

    #: The secret of the connector's account and the webhook secret the emulator signs with.
    credential: str
    webhook_secret: str

    @property
    @abstractmethod
    def base_url(self) -> str:
        """Return the emulator's `https://127.0.0.1:<port>` URL."""

    @property
    @abstractmethod
    def ca_cert(self) -> Path:
        """PEM file of the CA that signed the emulator's certificate."""

    @abstractmethod
    def settings(self, secrets: SecretEnv) -> dict[str, Any]:
        """Return connector settings for this emulator, secrets read from `secrets`."""

    @abstractmethod
    def reset(self) -> None:
        """Return to the seed data with no pending faults and no webhook subscriber."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving."""

    @abstractmethod
    def seed(self, title: str) -> Seeded:
        """Create a ticket as the emulator's human agent, through its REST API."""

    @abstractmethod
    def touch(self, seeded: Seeded, text: str) -> None:
        """Change the ticket's description as the human agent, which sends a webhook."""

    @abstractmethod
    def subscribe(self, url: str | None, secret: str | None) -> None:
        """Send later webhooks to `url` (None stops them), authenticated with `secret`."""

    @abstractmethod
    def drain(self) -> None:
        """Wait until every queued webhook was tried."""

    @abstractmethod
    def api(self) -> RawApi:
        """Return an authenticated session as the connector's account, for raw requests."""

    @abstractmethod
    def live_env(self) -> dict[str, str]:
        """Return `TIERBRIDGE_LIVE_*` variables that point live mode at this emulator."""

    def placeholders(self) -> dict[str, str]:
        """Return values for `{name}` placeholders of recorded requests (client ids, tenant)."""
        return {}

    def expire_sessions(self) -> None:
        """Invalidate every issued session token."""
        raise Unsupported("emulator has no sessions to expire")

    def throttle(self, retry_after: int) -> None:
        """Make the next request get the system's throttling response."""
        raise Unsupported("emulator cannot inject throttling responses")

    def fail_next(self, status: int) -> None:
        """Make the next request get a server error with `status`."""
        raise Unsupported("emulator cannot inject server errors")

    def repeat_next_page(self) -> None:
        """Make the next follow-up page name itself again as the next page."""
        raise Unsupported("emulator cannot repeat a page link")


class LiveSystem(ABC):
    """A live instance reached with credentials from environment variables."""

    @abstractmethod
    def settings(self, wrong_secret_env: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the settings, and the overrides that send the wrong secret instead."""

    @abstractmethod
    def seed(self, title: str) -> Seeded:
        """Create a ticket through the REST API as the integration account."""

    @abstractmethod
    def remove(self, seeded: Seeded) -> None:
        """Delete the ticket, or close it where the account may not delete."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Close network sessions; the default has none."""


class ContractAdapter(ABC):
    """The system-specific knowledge the contract suite needs about one connector."""

    #: The `system:` value of the connector in the config.
    system: ClassVar[str]
    facts: ClassVar[SystemFacts]
    #: Environment variables a live run reads; all must be set, or live tests are skipped.
    live_variables: ClassVar[tuple[str, ...]]
    #: Headers (or `:query`) that carry a webhook's signature or shared token.
    webhook_auth_headers: ClassVar[tuple[str, ...]]

    @abstractmethod
    def recorded_settings(self, base_url: str, secrets: SecretEnv) -> dict[str, Any]:
        """Return settings for the instance that the recorded fixtures describe."""

    @abstractmethod
    def credential_override(self, settings: Mapping[str, Any], env: str) -> dict[str, Any]:
        """Return the overrides that make `settings` read the account's secret from `env`."""

    @abstractmethod
    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """Return the headers (and `:query`) that authenticate a webhook `body` with `secret`."""

    @abstractmethod
    def start_emulator(self, tls_dir: Path, clock: ManualClock) -> EmulatedSystem:
        """Start the system's emulator on 127.0.0.1 with its clock at `clock`."""

    @abstractmethod
    def live_system(self, env: Mapping[str, str]) -> LiveSystem:
        """Connect to the live instance that `env` (every `live_variables` set) describes."""

    def missing_live_variables(self, env: Mapping[str, str]) -> list[str]:
        """Return the live variables that are unset or empty in `env`."""
        return [name for name in self.live_variables if not env.get(name)]
