"""One emulator per configured connector, and what the daemon and the people need to use it.

`emulate(settings, tls_dir)` starts the emulator of a connector's system and returns an
`EmulatedSystem`: the connector settings that point at it (URL, CA, the emulator's ids),
the integration account's secret, webhook delivery, and desks for the people who work in
it. Every emulator listens on a free port of 127.0.0.1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from tierbridge.core.connector_settings import ConnectorSettings
from tierbridge.core.demo.desks import (
    Desk,
    DynamicsDesk,
    JiraDesk,
    SalesforceDesk,
    ServiceNowDesk,
)
from tierbridge.core.model import Tier
from tierbridge.emulators.dynamics import TIERBRIDGE_CLIENT, DynamicsEmulator
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.salesforce import (
    DEFAULT_CLIENTS,
    INTEGRATION_USERNAME,
    SalesforceEmulator,
)
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

__all__ = ["EmulatedSystem", "emulate"]

#: The ServiceNow account of the higher-tier agent; the emulator seeds only `agent.l1`.
SERVICENOW_L2_AGENT = ("agent.l2", "agent-l2-password")
_JIRA_AGENT = "agent.l2@example.com"
_JIRA_INTEGRATION = "svc.tierbridge@example.com"


class EmulatedSystem(ABC):
    """A running emulator of one connector's system."""

    system: ClassVar[str]

    @abstractmethod
    def __init__(self, tls_dir: Path, settings: ConnectorSettings) -> None:
        """Start the emulator for a connector with `settings`; TLS files go to `tls_dir`."""

    @property
    @abstractmethod
    def emulator(self) -> Any:
        """The emulator object, for fault injection and direct reads in tests."""

    def connector_values(self) -> dict[str, Any]:
        """Settings keys that point the connector at this emulator."""
        return {"base_url": self.emulator.base_url, "ca_bundle": self.emulator.ca_cert}

    @abstractmethod
    def credential(self) -> str:
        """Return the integration account's password, token or client secret."""

    @abstractmethod
    def desk(self, tier: Tier) -> Desk:
        """Return a desk for the person who works this system's tickets at `tier`."""

    def subscribe(self, url: str | None, secret: str | None) -> None:
        """Send the emulator's change notices to `url` (None stops them)."""
        self.emulator.set_webhook(url, secret)

    def drain(self, timeout: float) -> bool:
        """Wait until every queued notice was tried; return False on timeout."""
        return bool(self.emulator.drain_webhooks(timeout))

    def reset(self) -> None:
        """Start again from the emulator's seed data."""
        self.emulator.reset()

    def stop(self) -> None:
        self.emulator.stop()


class _ServiceNow(EmulatedSystem):
    system = "servicenow"

    def __init__(self, tls_dir: Path, settings: ConnectorSettings) -> None:
        users = dict([SERVICENOW_L2_AGENT])
        self._emulator = ServiceNowEmulator(tls_dir=tls_dir, users=users).start()

    @property
    def emulator(self) -> ServiceNowEmulator:
        return self._emulator

    def credential(self) -> str:
        return DEFAULT_PASSWORDS["svc.tierbridge"]

    def desk(self, tier: Tier) -> Desk:
        login, password = (
            ("agent.l1", DEFAULT_PASSWORDS["agent.l1"]) if tier is Tier.L1 else SERVICENOW_L2_AGENT
        )
        emulator = self._emulator
        return ServiceNowDesk(emulator.base_url, emulator.ca_cert, login, password, emulator.state)


class _Jira(EmulatedSystem):
    system = "jira"

    def __init__(self, tls_dir: Path, settings: ConnectorSettings) -> None:
        self._project = str(getattr(settings, "project", "L2"))
        self._emulator = JiraEmulator(tls_dir=tls_dir, project=self._project).start()

    @property
    def emulator(self) -> JiraEmulator:
        return self._emulator

    def credential(self) -> str:
        return DEFAULT_TOKENS[_JIRA_INTEGRATION]

    def desk(self, tier: Tier) -> Desk:
        emulator = self._emulator
        token = DEFAULT_TOKENS[_JIRA_AGENT]
        return JiraDesk(emulator.base_url, emulator.ca_cert, _JIRA_AGENT, token, self._project)


class _Salesforce(EmulatedSystem):
    system = "salesforce"

    def __init__(self, tls_dir: Path, settings: ConnectorSettings) -> None:
        self._emulator = SalesforceEmulator(tls_dir=tls_dir).start()

    @property
    def emulator(self) -> SalesforceEmulator:
        return self._emulator

    def connector_values(self) -> dict[str, Any]:
        return {
            **super().connector_values(),
            "organization_id": self._emulator.organization_id,
            "integration_user": INTEGRATION_USERNAME,
        }

    def credential(self) -> str:
        return DEFAULT_CLIENTS["tierbridge-client"][0]

    def desk(self, tier: Tier) -> Desk:
        return SalesforceDesk(self._emulator.base_url, self._emulator.ca_cert)


class _Dynamics(EmulatedSystem):
    system = "dynamics"

    def __init__(self, tls_dir: Path, settings: ConnectorSettings) -> None:
        self._emulator = DynamicsEmulator(tls_dir=tls_dir).start()

    @property
    def emulator(self) -> DynamicsEmulator:
        return self._emulator

    def connector_values(self) -> dict[str, Any]:
        seed = self._emulator.state.seed
        return {
            **super().connector_values(),
            "authority_host": self._emulator.base_url,
            "tenant_id": self._emulator.tenant_id,
            "integration_user": seed.integration_user,
            "default_customer": f"/accounts({seed.account})",
        }

    def credential(self) -> str:
        return TIERBRIDGE_CLIENT[1]

    def desk(self, tier: Tier) -> Desk:
        seed = self._emulator.state.seed
        return DynamicsDesk(self._emulator.base_url, self._emulator.ca_cert, seed.account)


_SYSTEMS: dict[str, type[EmulatedSystem]] = {
    cls.system: cls for cls in (_ServiceNow, _Jira, _Salesforce, _Dynamics)
}


def emulate(settings: ConnectorSettings, tls_dir: Path) -> EmulatedSystem:
    """Start the emulator for a connector's system; the caller must call `stop()`."""
    cls = _SYSTEMS.get(settings.system)
    if cls is None:
        msg = f"no emulator for system {settings.system!r}; emulated: {', '.join(sorted(_SYSTEMS))}"
        raise ValueError(msg)
    return cls(tls_dir, settings)
