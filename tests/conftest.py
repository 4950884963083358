"""Fixtures shared by the server, poller, runner, engine and end-to-end tests.

One ServiceNow emulator (L1) and one JSM emulator (L2) run for the whole session. Each test
gets them emptied, with real-time clocks and no webhook subscriber. `make_stack` builds a
runtime on them from `config/demo.yaml`, the way `tierbridge demo` wires its daemon, with a
fresh SQLite store (or a given store URL) and retries that do not sleep.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.engine import handle_event
from tierbridge.core.retry import CallPolicy
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.store import InboxRow, Store
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "demo.yaml"

#: Secrets the demo config reads from these variables; the webhook keys are test values.
SECRETS = {
    "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS["svc.tierbridge"],
    "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS["svc.tierbridge@example.com"],
    "TIERBRIDGE_SNOW_WEBHOOK_SECRET": "snow-webhook-test-key",
    "TIERBRIDGE_JIRA_WEBHOOK_SECRET": "jira-webhook-test-key",
}
SNOW_WEBHOOK_SECRET = SECRETS["TIERBRIDGE_SNOW_WEBHOOK_SECRET"]
JIRA_WEBHOOK_SECRET = SECRETS["TIERBRIDGE_JIRA_WEBHOOK_SECRET"]
#: The Jira custom field in which the connector stores the correlation key.
CORRELATION_FIELD = "customfield_10060"
_LEASE_SECONDS = 60.0


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo `configure_logging` after each test.

    `tierbridge` commands configure structlog and the root logger to write to the current
    stderr, which under pytest is a capture stream closed when the test ends. Later tests
    would then log to a closed file.
    """
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


class SettableClock:
    """An emulator clock that follows real time until a test pins it to `pinned`."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None

    def __call__(self) -> datetime:
        return self.pinned if self.pinned is not None else datetime.now(UTC)


@dataclass
class Emulators:
    """The session's two emulators and their clocks."""

    snow: ServiceNowEmulator
    jira: JiraEmulator
    snow_clock: SettableClock
    jira_clock: SettableClock

    def quiet(self) -> None:
        """Unsubscribe both webhooks and wait until queued deliveries were tried."""
        self.snow.set_webhook(None, None)
        self.jira.set_webhook(None, None)
        self.snow.drain_webhooks(5)
        self.jira.drain_webhooks(5)


@pytest.fixture(scope="session")
def emulator_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """Start both emulators once, sharing one CA as in the demo."""
    tls_dir = tmp_path_factory.mktemp("itsm-tls")
    snow_clock, jira_clock = SettableClock(), SettableClock()
    snow = ServiceNowEmulator(tls_dir=tls_dir, clock=snow_clock).start()
    jira = JiraEmulator(tls_dir=tls_dir, clock=jira_clock).start()
    yield Emulators(snow, jira, snow_clock, jira_clock)
    # Caught errors keep responses and their sockets alive in reference cycles, and the
    # servers wait for open connections when they stop, so collect them first.
    gc.collect()
    jira.stop()
    snow.stop()


@pytest.fixture
def emulators(emulator_pair: Emulators) -> Iterator[Emulators]:
    """The session's emulators, emptied, on real time, with no webhook subscriber."""
    emulator_pair.quiet()
    emulator_pair.snow.reset()
    emulator_pair.jira.reset()
    emulator_pair.snow_clock.pinned = None
    emulator_pair.jira_clock.pinned = None
    yield emulator_pair
    emulator_pair.quiet()


def no_sleep(_seconds: float) -> None:
    """Stand in for time.sleep so that retry paths run in microseconds."""


def local_config(
    emulators: Emulators, store_url: str, **connector_overrides: dict[str, Any]
) -> AppConfig:
    """Point the demo config at the emulators and `store_url`. Overrides set connector keys."""
    config = load_config(DEMO_CONFIG)
    urls = {"snow": emulators.snow.base_url, "jsm": emulators.jira.base_url}
    connectors = {
        name: type(settings).model_validate(
            {
                **settings.model_dump(),
                "base_url": urls[name],
                "ca_bundle": emulators.snow.ca_cert,
                **connector_overrides.get(name, {}),
            }
        )
        for name, settings in config.connectors.items()
    }
    store = config.store.model_copy(update={"url": store_url})
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "store": store, "server": server})


@dataclass
class Stack:
    """A runtime on both emulators, and the two people who work in them."""

    rt: Runtime
    emulators: Emulators
    l1: ServiceNowAgent
    l2: JiraAgent
    closers: list[Callable[[], None]] = field(default_factory=list)

    def queue(self, connector: str, ticket_id: str, delivery_id: str | None = None) -> int:
        """Store an inbox event for a ticket, as a webhook would, and return its id."""
        count = len(self.rt.store.list_events(limit=10_000))
        delivery = delivery_id or f"test:{connector}:{ticket_id}:{count}"
        event_id = self.rt.store.add_event(
            connector, delivery, ticket_id, "updated", None, {}, self.rt.clock()
        )
        assert event_id is not None, f"delivery {delivery} was stored before"
        return event_id

    def handle_due(self) -> list[InboxRow]:
        """Claim and handle every event that may run now, one at a time, and return them."""
        handled = []
        while (event := self.rt.store.claim_event(self.rt.clock(), _LEASE_SECONDS)) is not None:
            handle_event(self.rt, event)
            handled.append(event)
        return handled

    def process(self, connector: str, ticket_id: str) -> InboxRow:
        """Queue an event for a ticket, handle the queue, and return the event as settled."""
        event_id = self.queue(connector, ticket_id)
        self.handle_due()
        row = self.rt.store.get_event(event_id)
        assert row is not None
        return row

    def open_incident(self, **fields: Any) -> dict[str, Any]:
        """Create an incident as the L1 agent, with fields given as display values."""
        values = {"short_description": "VPN drops every hour", "impact": "3", "urgency": "3"}
        values.update(fields)
        return self.l1.create_incident(**values)

    def jsm_issues(self) -> list[dict[str, Any]]:
        """Return every issue of the L2 project, as the L2 agent's search returns them."""
        return self.l2.search("project = L2 ORDER BY key ASC")

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(
    emulators: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StackFactory]:
    """Build stacks. `store_url` picks the store, and other keywords override connector keys."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    built: list[Stack] = []

    def build(store_url: str | None = None, **connector_overrides: dict[str, Any]) -> Stack:
        url = store_url or f"sqlite:///{tmp_path / f'store-{len(built)}.db'}"
        config = local_config(emulators, url, **connector_overrides)
        rt = build_runtime(config, store=Store.open(url))
        rt.policy = CallPolicy(sleep=no_sleep)
        snow, jira = emulators.snow, emulators.jira
        l1 = ServiceNowAgent(snow.base_url, snow.ca_cert, "agent.l1", DEFAULT_PASSWORDS["agent.l1"])
        l2 = JiraAgent(
            jira.base_url,
            jira.ca_cert,
            "agent.l2@example.com",
            DEFAULT_TOKENS["agent.l2@example.com"],
        )
        stack = Stack(rt, emulators, l1, l2, closers=[rt.close, l1.close, l2.close])
        built.append(stack)
        return stack

    yield build
    for stack in reversed(built):
        stack.close()


@pytest.fixture
def stack(make_stack: StackFactory) -> Stack:
    """A stack with the demo config and a SQLite store."""
    return make_stack()
