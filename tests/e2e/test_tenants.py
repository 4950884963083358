"""Several clients (tenants) on one daemon: each with its own config file, connectors,
secrets and rules, and no tenant's outage or throttling holding up another's tickets.

Tenant `acme` runs ServiceNow (L1) to JSM (L2) and escalates P1 only. Tenant `globex` runs
Salesforce (L1) to its own JSM (L2) and escalates P1 and P2. Each connector has its own
emulator.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.emulated import EmulatedSystem
from tierbridge.core.demo.multistack import EmulatedStack, start_systems, stop_systems
from tierbridge.core.errors import ConfigError
from tierbridge.core.model import Priority, Status, Tier
from tierbridge.core.store import InboxRow
from tierbridge.core.tenants import tenant_of
from tierbridge.emulators._faults import FaultPlan
from tierbridge.emulators.jira.emulator import JiraEmulator

ROOT = Path(__file__).resolve().parents[2]
_WAIT_SECONDS = 20.0
_FAILURE_WAIT_SECONDS = 60.0

DAEMON = """
store: {url: "sqlite:///var/tenants.db"}
server: {host: 127.0.0.1, port: 8080}
queue: {max_attempts: 8}
tenants:
  acme: clients/acme.yaml
  globex: clients/globex.yaml
"""
ACME = f"""
connectors:
  acme-snow:
    system: servicenow
    base_url: https://snow.acme.example.com
    mapping: {ROOT}/mappings/servicenow.yaml
    auth: {{type: basic, username: svc.tierbridge, password: {{env: TB_ACME_SNOW_PASSWORD}}}}
    webhook: {{secret: {{env: TB_ACME_SNOW_HOOK}}}}
    integration_user: svc.tierbridge
  acme-jsm:
    system: jira
    base_url: https://acme.atlassian.example.com
    mapping: {ROOT}/mappings/jira.yaml
    project: L2
    service_desk_id: "1"
    request_type_id: "10"
    auth: {{type: basic, username: svc.tierbridge@example.com, password: {{env: TB_ACME_JIRA_TOKEN}}}}
    webhook: {{secret: {{env: TB_ACME_JIRA_HOOK}}}}
    integration_user: svc.tierbridge@example.com
tiers:
  L1: {{connector: acme-snow, group: Service Desk}}
  L2: {{connector: acme-jsm}}
escalation:
  to_L2: {{priorities: [P1]}}
"""
GLOBEX = f"""
connectors:
  globex-sf:
    system: salesforce
    base_url: https://globex.my.salesforce.example.com
    mapping: {ROOT}/mappings/salesforce.yaml
    organization_id: 00DHs000000OrGaMAK
    auth: {{type: oauth_client_credentials, client_id: tierbridge-client, client_secret: {{env: TB_GLOBEX_SF_SECRET}}}}
    webhook: {{secret: {{env: TB_GLOBEX_SF_HOOK}}}}
  globex-jsm:
    system: jira
    base_url: https://globex.atlassian.example.com
    mapping: {ROOT}/mappings/jira.yaml
    project: L2
    service_desk_id: "1"
    request_type_id: "10"
    auth: {{type: basic, username: svc.tierbridge@example.com, password: {{env: TB_GLOBEX_JIRA_TOKEN}}}}
    webhook: {{secret: {{env: TB_GLOBEX_JIRA_HOOK}}}}
    integration_user: svc.tierbridge@example.com
    rate_limit: {{max_concurrency: 2}}
tiers:
  L1: {{connector: globex-sf}}
  L2: {{connector: globex-jsm}}
escalation:
  to_L2: {{priorities: [P1, P2]}}
"""


def write_tenants(folder: Path, **replaced: str) -> Path:
    """Write the daemon's file and both tenants' files; keywords replace a file's text."""
    files = {"daemon.yaml": DAEMON, "clients/acme.yaml": ACME, "clients/globex.yaml": GLOBEX}
    files.update({name.replace("__", "/") + ".yaml": text for name, text in replaced.items()})
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder / "daemon.yaml"


def issues_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


class TestTenantConfig:
    def test_loads_each_tenant(self, tmp_path: Path) -> None:
        """The daemon contains every connector, and each tenant keeps its own tiers and rules."""
        config = load_config(write_tenants(tmp_path))

        acme = config.tenant_configs()["acme"]
        globex = config.tenant_configs()["globex"]
        assert set(config.connectors) == {"acme-snow", "acme-jsm", "globex-sf", "globex-jsm"}
        assert config.tiers == {}
        assert config.tenants["acme"] == tmp_path / "clients" / "acme.yaml"
        assert acme.tiers[Tier.L1].connector == "acme-snow"
        assert [str(p) for p in acme.escalation.to_L2.priorities] == ["P1"]
        assert [str(p) for p in globex.escalation.to_L2.priorities] == ["P1", "P2"]
        assert globex.connectors["globex-jsm"].rate_limit.max_concurrency == 2
        assert acme.connectors["acme-jsm"].rate_limit.max_concurrency is None

    def test_shared_sections_from_daemon(self, tmp_path: Path) -> None:
        """Store, server and queue come from the daemon's file, for every tenant."""
        config = load_config(write_tenants(tmp_path))

        for tenant in config.tenant_configs().values():
            assert tenant.store == config.store
            assert tenant.server.port == 8080
            assert tenant.queue == config.queue
        assert config.store.url == f"sqlite:///{tmp_path / 'var' / 'tenants.db'}"

    def test_tenant_of_connector(self, tmp_path: Path) -> None:
        """Each connector belongs to the tenant whose file names it."""
        config = load_config(write_tenants(tmp_path))

        assert tenant_of(config, "acme-jsm") == "acme"
        assert tenant_of(config, "globex-sf") == "globex"
        assert tenant_of(config, "other") is None

    def test_store_in_tenant_file_rejected(self, tmp_path: Path) -> None:
        """A tenant's file that sets a shared section is rejected at that key."""
        path = write_tenants(tmp_path, clients__acme="store: {url: 'sqlite:///x.db'}\n" + ACME)

        message = issues_of(path)

        assert f"{tmp_path / 'clients' / 'acme.yaml'}:1:1: store:" in message
        assert "shared by all tenants; set it in the daemon's file" in message

    def test_shared_connector_name_rejected(self, tmp_path: Path) -> None:
        """Two tenants may not use the same connector name."""
        path = write_tenants(tmp_path, clients__globex=GLOBEX.replace("globex-jsm", "acme-jsm"))

        message = issues_of(path)

        assert "connector 'acme-jsm' is configured by tenants acme, globex" in message

    def test_connectors_next_to_tenants_rejected(self, tmp_path: Path) -> None:
        """With tenants, the daemon's file contains no connectors or tiers of its own."""
        path = write_tenants(tmp_path, daemon=DAEMON + "tiers: {L1: {connector: acme-snow}}\n")

        message = issues_of(path)

        assert "with tenants, tiers belongs in each tenant's file" in message

    def test_missing_tenant_file_rejected(self, tmp_path: Path) -> None:
        """A tenant whose file does not exist is reported with the file's path."""
        path = write_tenants(tmp_path, daemon=DAEMON.replace("clients/globex", "clients/none"))

        message = issues_of(path)

        assert f"{tmp_path / 'clients' / 'none.yaml'}:1:1: file not found" in message

    def test_tenant_errors_point_into_its_file(self, tmp_path: Path) -> None:
        """A problem inside a tenant's file is reported at its own line."""
        path = write_tenants(tmp_path, clients__acme=ACME.replace("[P1]", "[P9]"))

        message = issues_of(path)

        assert str(tmp_path / "clients" / "acme.yaml") in message
        assert "escalation.to_L2.priorities" in message

    def test_procrastinate_with_tenants_rejected(self, tmp_path: Path) -> None:
        """Tenants need the embedded runner."""
        path = write_tenants(tmp_path, daemon="runner: procrastinate\n" + DAEMON)

        message = issues_of(path)

        assert "tenants run on the embedded runner only" in message


class TenantDaemon:
    """A running daemon with both tenants, and desks for their agents."""

    def __init__(self, stack: EmulatedStack) -> None:
        self.stack = stack
        self.acme_l1 = stack.desk("acme-snow", Tier.L1)
        self.acme_l2 = stack.desk("acme-jsm", Tier.L2)
        self.globex_l1 = stack.desk("globex-sf", Tier.L1)
        self.globex_l2 = stack.desk("globex-jsm", Tier.L2)

    def open(self, tenant: str, priority: Priority) -> str:
        desk = self.acme_l1 if tenant == "acme" else self.globex_l1
        values = TicketValues(title=f"{tenant}: VPN down", priority=priority, status=Status.NEW)
        return desk.open(values)

    def escalations(self, connector: str) -> int:
        rows = self.stack.runtime.store.sync_log(connector=connector, limit=1000)
        return sum(1 for row in rows if row.action == "escalated" and row.outcome == "ok")

    def events_of(self, connector: str) -> list[InboxRow]:
        return [e for e in self.stack.runtime.store.list_events() if e.connector == connector]

    def wait_for_failed_attempt(self, connector: str) -> None:
        """Wait until an event of `connector` has failed once and waits for its retry.

        A call on a connection kept open to a stopped emulator fails only when the connector's
        30 s timeout ends, so the wait is longer than that.
        """
        deadline = time.monotonic() + _FAILURE_WAIT_SECONDS
        while not any(event.last_error for event in self.events_of(connector)):
            assert time.monotonic() < deadline, f"no failed attempt of {connector}"
            time.sleep(0.1)

    def wait_for_escalation(self, connector: str) -> None:
        deadline = time.monotonic() + _WAIT_SECONDS
        while not self.escalations(connector):
            assert time.monotonic() < deadline, f"{connector} did not escalate in {_WAIT_SECONDS} s"
            time.sleep(0.1)

    def close(self) -> None:
        for desk in (self.acme_l1, self.acme_l2, self.globex_l1, self.globex_l2):
            desk.close()
        self.stack.stop()


@pytest.fixture(scope="module")
def tenant_config(tmp_path_factory: pytest.TempPathFactory) -> AppConfig:
    return load_config(write_tenants(tmp_path_factory.mktemp("tenants")))


@pytest.fixture(scope="module")
def tenant_systems(
    tenant_config: AppConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, EmulatedSystem]]:
    """One emulator per tenant connector, for the whole module."""
    systems = start_systems(tenant_config, tmp_path_factory.mktemp("tenant-tls"))
    yield systems
    gc.collect()
    stop_systems(systems)


StartTenants = Callable[[], TenantDaemon]


@pytest.fixture
def start_tenants(
    tenant_config: AppConfig, tenant_systems: dict[str, EmulatedSystem], tmp_path: Path
) -> Iterator[StartTenants]:
    started: list[TenantDaemon] = []

    def start() -> TenantDaemon:
        for system in tenant_systems.values():
            system.subscribe(None, None)
            system.reset()
        stack = EmulatedStack.start(tenant_config, tmp_path, systems=tenant_systems)
        started.append(TenantDaemon(stack))
        return started[-1]

    yield start
    for daemon in started:
        daemon.close()


def jira_of(systems: dict[str, EmulatedSystem], connector: str) -> JiraEmulator:
    emulator = systems[connector].emulator
    assert isinstance(emulator, JiraEmulator)
    return emulator


class TestTenantsDaemon:
    def test_each_tenant_own_rules(self, start_tenants: StartTenants) -> None:
        """P2 escalates for globex but not for acme, and each lands in its own JSM."""
        daemon = start_tenants()
        acme_p1 = daemon.open("acme", Priority.P1)
        daemon.open("acme", Priority.P2)
        globex_p2 = daemon.open("globex", Priority.P2)

        daemon.stack.settle(timeout=60)

        acme_issues = [seen.correlation for seen in daemon.acme_l2.tickets()]
        globex_issues = [seen.correlation for seen in daemon.globex_l2.tickets()]
        assert acme_issues == [f"acme-snow:{acme_p1}"]
        assert globex_issues == [f"globex-sf:{globex_p2}"]
        assert daemon.stack.runtime.store.list_events(status="dead") == []

    def test_log_and_metrics_carry_tenant(self, start_tenants: StartTenants) -> None:
        """Every sync log row maps to a tenant, and the info metric labels each connector."""
        daemon = start_tenants()
        daemon.open("acme", Priority.P1)
        daemon.open("globex", Priority.P1)
        daemon.stack.settle(timeout=60)

        config = daemon.stack.runtime.config
        rows = daemon.stack.runtime.store.sync_log(limit=1000)
        registry = daemon.stack.runner.metrics.registry
        labels = {"connector": "globex-jsm", "system": "jira", "tenant": "globex"}
        assert {tenant_of(config, row.connector) for row in rows} == {"acme", "globex"}
        assert registry.get_sample_value("tierbridge_connector_info", labels) == 1.0

    def test_throttled_tenant_does_not_stall(
        self, start_tenants: StartTenants, tenant_systems: dict[str, EmulatedSystem]
    ) -> None:
        """While acme's JSM responds to every call with 429, globex's tickets keep syncing."""
        daemon = start_tenants()
        jira_of(tenant_systems, "acme-jsm").inject_429(10_000, retry_after=60)
        daemon.open("acme", Priority.P1)
        daemon.wait_for_failed_attempt("acme-snow")

        daemon.open("globex", Priority.P1)
        daemon.wait_for_escalation("globex-sf")

        acme = daemon.events_of("acme-snow")
        assert daemon.escalations("acme-snow") == 0
        assert [event.status for event in acme if event.last_error] == ["pending"]
        # The limiter or the 429 itself rejects the call, whichever acme's worker meets first.
        error = str(acme[0].last_error)
        assert "throttled" in error or "HTTP 429" in error, error

    def test_slow_tenant_does_not_stall(
        self, start_tenants: StartTenants, tenant_systems: dict[str, EmulatedSystem]
    ) -> None:
        """While acme's JSM takes 3 s per call, globex's ticket escalates before acme's."""
        daemon = start_tenants()
        jira_of(tenant_systems, "acme-jsm").faults.configure(FaultPlan(latency_seconds=(3.0, 3.0)))
        daemon.open("acme", Priority.P1)
        daemon.stack.systems["acme-snow"].drain(10)
        daemon.open("globex", Priority.P1)

        daemon.wait_for_escalation("globex-sf")

        assert daemon.escalations("acme-snow") == 0


def test_stopped_tenant_target(tenant_config: AppConfig, tmp_path: Path) -> None:
    """With acme's JSM stopped, globex's tickets sync and acme's event waits for a retry."""
    systems = start_systems(tenant_config, tmp_path / "tls")
    stack = EmulatedStack.start(tenant_config, tmp_path, systems=systems)
    daemon = TenantDaemon(stack)
    stopped = systems.pop("acme-jsm")
    try:
        stopped.stop()
        daemon.open("acme", Priority.P1)
        daemon.open("globex", Priority.P1)

        daemon.wait_for_escalation("globex-sf")
        daemon.wait_for_failed_attempt("acme-snow")

        acme = daemon.events_of("acme-snow")
        assert daemon.escalations("acme-snow") == 0
        assert [event.status for event in acme if event.last_error] == ["pending"]
    finally:
        daemon.close()
        gc.collect()
        stop_systems(systems)
