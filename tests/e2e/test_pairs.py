"""End-to-end tests for every pair of tiers the demo scenarios use.

The tests of `test_escalation.py` (ServiceNow to JSM) run here for each pair: people work in
the emulators through desks, the daemon runs with its webhook server, and every check reads
the systems back. The emulators of a pair start once per module and are reset per test.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.desks import Desk, Seen
from tierbridge.core.demo.emulated import EmulatedSystem
from tierbridge.core.demo.multistack import EmulatedStack, start_systems, stop_systems
from tierbridge.core.demo.scenarios import SCENARIO_CONFIGS
from tierbridge.core.demo.teams import HAND_ON_GROUP
from tierbridge.core.model import Priority, Status, Tier


@dataclass(frozen=True)
class Pair:
    """Two adjacent tiers of a scenario config: tickets escalate from `lower` to `upper`."""

    name: str
    config: Path
    lower: Tier
    upper: Tier


PAIRS = [
    Pair("servicenow-jsm", SCENARIO_CONFIGS / "servicenow-jsm.yaml", Tier.L1, Tier.L2),
    Pair("salesforce-jsm", SCENARIO_CONFIGS / "salesforce-jsm.yaml", Tier.L1, Tier.L2),
    Pair("dynamics-servicenow", SCENARIO_CONFIGS / "dynamics-servicenow.yaml", Tier.L1, Tier.L2),
    Pair(
        "salesforce-servicenow",
        SCENARIO_CONFIGS / "salesforce-servicenow-jira.yaml",
        Tier.L1,
        Tier.L2,
    ),
    Pair(
        "servicenow-jsm-as-l3",
        SCENARIO_CONFIGS / "salesforce-servicenow-jira.yaml",
        Tier.L2,
        Tier.L3,
    ),
]
_WAIT_SECONDS = 20.0


class PairDaemon:
    """A running daemon on a pair's emulators, and a desk for each tier."""

    def __init__(self, pair: Pair, stack: EmulatedStack) -> None:
        self.pair = pair
        self.stack = stack
        self.desks: dict[Tier, Desk] = {}
        for tier, settings in stack.runtime.config.tiers.items():
            self.desks[tier] = stack.desk(settings.connector, tier)

    @property
    def lower(self) -> Desk:
        return self.desks[self.pair.lower]

    @property
    def upper(self) -> Desk:
        return self.desks[self.pair.upper]

    @property
    def escalations_before(self) -> int:
        """Escalations needed to bring a ticket to the lower tier: one from L1 to L2."""
        return 0 if self.pair.lower is Tier.L1 else 1

    def connector(self, tier: Tier) -> str:
        return self.stack.connector_for(tier)

    def settle(self) -> None:
        self.stack.settle(timeout=60)

    def counterparts(self, ticket_id: str) -> list[Seen]:
        """Return the upper tier's tickets created for the lower tier's ticket `ticket_id`."""
        key = f"{self.connector(self.pair.lower)}:{ticket_id}"
        return [seen for seen in self.upper.tickets() if seen.correlation == key]

    def raise_ticket(self, *, escalate: bool) -> str:
        """Bring a ticket to the lower tier and make it escalate or not; return its id.

        At L1 the agent opens a P1 (escalates) or P4 ticket. At L2 the ticket is one that
        escalated from L1, and the agent hands it to the vendor's group or just takes it.
        """
        if self.pair.lower is Tier.L1:
            priority = Priority.P1 if escalate else Priority.P4
            return self.lower.open(_values(priority))

        l1_id = self.desks[Tier.L1].open(_values(Priority.P1))
        self.settle()
        key = f"{self.connector(Tier.L1)}:{l1_id}"
        (l2,) = [seen for seen in self.lower.tickets() if seen.correlation == key]
        if escalate:
            self.lower.hand_on(l2.id, HAND_ON_GROUP)
        else:
            self.lower.take(l2.id)
        return l2.id

    def wait_for_counterpart(self, ticket_id: str) -> None:
        """Wait until the upper tier has a ticket for `ticket_id` (found by a poll, say)."""
        deadline = time.monotonic() + _WAIT_SECONDS
        while not self.counterparts(ticket_id):
            assert time.monotonic() < deadline, f"no counterpart within {_WAIT_SECONDS} s"
            time.sleep(0.2)

    def close(self) -> None:
        for desk in self.desks.values():
            desk.close()
        self.stack.stop()


def _values(priority: Priority) -> TicketValues:
    return TicketValues(
        title="VPN drops every hour",
        description="The VPN client disconnects every hour since Monday.",
        priority=priority,
        status=Status.NEW,
        reporter="caller.2403@example.com",
    )


StartDaemon = Callable[..., PairDaemon]


@pytest.fixture(scope="module", params=PAIRS, ids=[pair.name for pair in PAIRS])
def pair_systems(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pair, dict[str, EmulatedSystem]]]:
    """Start the emulators of one pair's config once for all its tests."""
    pair: Pair = request.param
    systems = start_systems(load_config(pair.config), tmp_path_factory.mktemp("pair-tls"))
    yield pair, systems
    # Caught errors keep responses and their sockets in reference cycles, and the servers
    # wait for open connections when they stop.
    gc.collect()
    stop_systems(systems)


@pytest.fixture
def start_daemon(
    pair_systems: tuple[Pair, dict[str, EmulatedSystem]], tmp_path: Path
) -> Iterator[StartDaemon]:
    """Start a daemon with a fresh store on the reset emulators; `poll_lower` lets only a
    fast poll (no webhook) report the lower tier's changes."""
    pair, systems = pair_systems
    started: list[PairDaemon] = []

    def start(*, poll_lower: bool = False) -> PairDaemon:
        for system in systems.values():
            system.subscribe(None, None)
            system.reset()
        config = load_config(pair.config)
        lower = config.tiers[pair.lower].connector
        if poll_lower:
            config = _fast_poll(config, lower)
        stack = EmulatedStack.start(config, tmp_path, systems=systems, subscribe=False)
        stack.subscribe(*(name for name in systems if not (poll_lower and name == lower)))
        daemon = PairDaemon(pair, stack)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


def _fast_poll(config: AppConfig, connector: str) -> AppConfig:
    settings = config.connectors[connector].model_copy(update={"poll_interval_seconds": 0.5})
    return config.model_copy(update={"connectors": {**config.connectors, connector: settings}})


class TestEscalation:
    def test_counterpart_created_once(self, start_daemon: StartDaemon) -> None:
        """An escalating ticket gets one counterpart, and each side names the other."""
        daemon = start_daemon()
        ticket_id = daemon.raise_ticket(escalate=True)

        daemon.settle()

        (upper,) = daemon.counterparts(ticket_id)
        rt = daemon.stack.runtime
        assert daemon.lower.read(ticket_id).correlation == upper.key
        assert rt.store.count_actions()["escalated"] == daemon.escalations_before + 1
        assert rt.store.list_events(status="dead") == []
        assert rt.store.pending_count() == 0

    def test_low_priority_stays(self, start_daemon: StartDaemon) -> None:
        """A ticket that matches no rule creates nothing in the upper tier."""
        daemon = start_daemon()
        ticket_id = daemon.raise_ticket(escalate=False)

        daemon.settle()

        actions = daemon.stack.runtime.store.count_actions()
        assert daemon.counterparts(ticket_id) == []
        assert daemon.upper.tickets() == []
        assert actions.get("escalated", 0) == daemon.escalations_before


class TestRoundTrip:
    def test_resolution_returns(self, start_daemon: StartDaemon) -> None:
        """The upper tier's reply and resolution come back once, visibility kept both ways."""
        daemon = start_daemon()
        ticket_id = daemon.raise_ticket(escalate=True)
        daemon.settle()
        (upper,) = daemon.counterparts(ticket_id)
        daemon.lower.comment(ticket_id, "Customer reports it again.", public=True)
        if not daemon.lower.public_comment_notifies:
            # Dynamics sends no webhook for a portal comment; the case's next change brings it.
            daemon.lower.change(ticket_id, TicketValues(title="VPN drops every hour (again)"))
        daemon.settle()

        daemon.upper.take(upper.id)
        daemon.upper.comment(upper.id, "Fixed the VPN profile.", public=True)
        daemon.upper.resolve(upper.id, "Corrected the VPN profile.")
        daemon.settle()

        lower_journal = daemon.lower.journal(ticket_id)
        upper_journal = daemon.upper.journal(upper.id)
        replies = [e for e in lower_journal if "Fixed the VPN profile." in e.text]
        copies = [e for e in upper_journal if "Customer reports it again." in e.text]
        assert daemon.lower.read(ticket_id).resolved
        assert [reply.public for reply in replies] == [True]
        assert [copy.public for copy in copies] == [True]
        assert daemon.stack.runtime.store.list_events(status="dead") == []


class TestPollSafetyNet:
    def test_poll_finds_missed_change(self, start_daemon: StartDaemon) -> None:
        """A lower-tier change whose webhook never arrived is found by a poll and escalated."""
        daemon = start_daemon(poll_lower=True)
        ticket_id = daemon.raise_ticket(escalate=True)

        daemon.wait_for_counterpart(ticket_id)
        daemon.settle()

        assert len(daemon.counterparts(ticket_id)) == 1
