"""Secrets and personal data stay out of logs, the sync log and /metrics; TLS stays verified.

The canary run syncs one incident from the ServiceNow emulator to the JSM emulator and
back. Its credentials, webhook keys, caller e-mail, description and comment are unique
marker strings, and the test searches every output an operator sees for them.
"""

from __future__ import annotations

import gc
import io
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import requests
import structlog

from tests.conftest import DEMO_CONFIG
from tierbridge.connectors.jira.client import JiraClient
from tierbridge.connectors.jira.client import ensure_same_host as jira_same_host
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.servicenow.client import ensure_same_host as snow_same_host
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.errors import PermanentError
from tierbridge.core.logs import configure_logging
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.store import Store
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS, ServiceNowEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent

JIRA_SVC = "svc.tierbridge@example.com"


@dataclass(frozen=True)
class Canaries:
    """Unique markers that must never appear in any output."""

    snow_password: str
    jira_token: str
    snow_webhook_key: str
    jira_webhook_key: str
    agent_password: str
    caller_name: str
    description: str
    comment: str

    @property
    def caller_email(self) -> str:
        return f"{self.caller_name}@example.com"

    def all(self) -> list[str]:
        values = [getattr(self, item.name) for item in fields(self)]
        return [*values, self.caller_email]


def new_canaries() -> Canaries:
    def mark(kind: str) -> str:
        return f"canary-{kind}-{secrets.token_hex(6)}"

    return Canaries(
        snow_password=mark("snowpw"),
        jira_token=mark("jiratoken"),
        snow_webhook_key=mark("snowhook"),
        jira_webhook_key=mark("jirahook"),
        agent_password=mark("agentpw"),
        caller_name=mark("caller"),
        description=f"Laptop of {mark('description')} will not boot",
        comment=f"Call me back on {mark('comment')}",
    )


class LogCapture:
    """The daemon's own logging configuration, writing into a buffer instead of stderr."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self._saved = structlog.get_config()
        root = logging.getLogger()
        self._saved_handlers = list(root.handlers)
        self._saved_level = root.level

    def start(self) -> None:
        configure_logging("debug")
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=self.buffer))
        handler = logging.StreamHandler(self.buffer)
        logging.getLogger().addHandler(handler)

    def stop(self) -> None:
        structlog.configure(**self._saved)
        root = logging.getLogger()
        root.handlers[:] = self._saved_handlers
        root.setLevel(self._saved_level)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


def canary_config(snow: ServiceNowEmulator, jira: JiraEmulator, store_url: str) -> AppConfig:
    config = load_config(DEMO_CONFIG)
    urls = {"snow": snow.base_url, "jsm": jira.base_url}
    connectors = {
        name: type(settings).model_validate(
            {**settings.model_dump(), "base_url": urls[name], "ca_bundle": snow.ca_cert}
        )
        for name, settings in config.connectors.items()
    }
    store = config.store.model_copy(update={"url": store_url})
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "store": store, "server": server})


def settle(
    snow: ServiceNowEmulator, jira: JiraEmulator, runner: EmbeddedRunner, rt: Runtime
) -> None:
    """Wait until deliveries and events stop producing new sync-log rows."""
    quiet = 0
    deadline = time.monotonic() + 30
    while quiet < 2 and time.monotonic() < deadline:
        before = rt.store.count_actions()
        snow.drain_webhooks(5)
        jira.drain_webhooks(5)
        runner.wait_idle(10)
        quiet = quiet + 1 if rt.store.count_actions() == before else 0


@dataclass
class CanaryRun:
    canaries: Canaries
    logs: str
    sync_log: list[str]
    metrics: str
    jira_issues: list[dict[str, Any]]


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryRun]:
    """Run one escalation with a comment through both emulators, capturing every output."""
    canaries = new_canaries()
    workdir = tmp_path_factory.mktemp("canary")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("TIERBRIDGE_SNOW_PASSWORD", canaries.snow_password)
    monkeypatch.setenv("TIERBRIDGE_JIRA_TOKEN", canaries.jira_token)
    monkeypatch.setenv("TIERBRIDGE_SNOW_WEBHOOK_SECRET", canaries.snow_webhook_key)
    monkeypatch.setenv("TIERBRIDGE_JIRA_WEBHOOK_SECRET", canaries.jira_webhook_key)
    capture = LogCapture()
    capture.start()

    snow_users = {
        "svc.tierbridge": canaries.snow_password,
        "agent.l1": canaries.agent_password,
        canaries.caller_name: canaries.agent_password,
    }
    jira_users = {
        JIRA_SVC: canaries.jira_token,
        "agent.l2@example.com": canaries.agent_password,
        canaries.caller_email: canaries.agent_password,
    }
    snow = ServiceNowEmulator(tls_dir=workdir / "tls", users=snow_users).start()
    jira = JiraEmulator(tls_dir=workdir / "tls", users=jira_users).start()
    url = f"sqlite:///{workdir / 'store.db'}"
    rt = build_runtime(canary_config(snow, jira, url), store=Store.open(url))
    runner = EmbeddedRunner(rt).start()
    base = f"http://127.0.0.1:{runner.port}/webhooks"
    snow.set_webhook(f"{base}/snow", canaries.snow_webhook_key)
    jira.set_webhook(f"{base}/jsm", canaries.jira_webhook_key)
    agent = ServiceNowAgent(snow.base_url, snow.ca_cert, "agent.l1", canaries.agent_password)
    l2 = JiraAgent(jira.base_url, jira.ca_cert, "agent.l2@example.com", canaries.agent_password)
    try:
        caller = snow.state.user_by_name(canaries.caller_name)
        assert caller is not None
        incident = agent.create_incident(
            short_description="Laptop will not boot",
            description=canaries.description,
            caller_id=caller["sys_id"],
            impact="1",
            urgency="1",
        )
        settle(snow, jira, runner, rt)
        agent.add_comment(incident["sys_id"], canaries.comment, internal=False)
        settle(snow, jira, runner, rt)

        metrics = requests.get(f"http://127.0.0.1:{runner.port}/metrics", timeout=5).text
        rows = rt.store.sync_log(limit=1000)
        issues = l2.search("project = L2 ORDER BY key ASC")
        yield CanaryRun(canaries, capture.text, [repr(row) for row in rows], metrics, issues)
    finally:
        agent.close()
        l2.close()
        runner.stop()
        rt.close()
        gc.collect()
        jira.stop()
        snow.stop()
        capture.stop()
        monkeypatch.undo()


class TestCanaries:
    def test_sync_happened(self, canary_run: CanaryRun) -> None:
        """The run escalated the incident and copied its text and comment, so data did flow."""
        assert len(canary_run.jira_issues) == 1
        issue = canary_run.jira_issues[0]
        assert canary_run.canaries.description in str(issue["fields"].get("description"))
        assert '"event": "api_call"' in canary_run.logs
        assert any("escalated" in row for row in canary_run.sync_log)
        assert any("commented" in row for row in canary_run.sync_log)

    def test_logs_clean(self, canary_run: CanaryRun) -> None:
        """No secret and no personal data appears in any log line."""
        leaked = [marker for marker in canary_run.canaries.all() if marker in canary_run.logs]

        assert leaked == []

    def test_sync_log_clean(self, canary_run: CanaryRun) -> None:
        """The sync log contains field names, never values, and no secret."""
        text = "\n".join(canary_run.sync_log)
        leaked = [marker for marker in canary_run.canaries.all() if marker in text]

        assert leaked == []
        assert "description" in text

    def test_metrics_clean(self, canary_run: CanaryRun) -> None:
        """/metrics names connectors and outcomes only."""
        leaked = [marker for marker in canary_run.canaries.all() if marker in canary_run.metrics]

        assert leaked == []
        assert "tierbridge_webhooks_total" in canary_run.metrics


@pytest.fixture(scope="module")
def separate_cas(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceNowEmulator, JiraEmulator]]:
    """Two emulators whose certificates come from two different CAs."""
    snow = ServiceNowEmulator(tls_dir=tmp_path_factory.mktemp("ca-snow")).start()
    jira = JiraEmulator(tls_dir=tmp_path_factory.mktemp("ca-jira")).start()
    yield snow, jira
    gc.collect()
    jira.stop()
    snow.stop()


def snow_settings(em: ServiceNowEmulator, ca_bundle: Path | None, tmp: Path) -> ServiceNowSettings:
    return ServiceNowSettings.model_validate(
        {
            "system": "servicenow",
            "base_url": em.base_url,
            "mapping": tmp / "m.yaml",
            "auth": {
                "type": "basic",
                "username": "svc.tierbridge",
                "password": {"env": "TB_CANARY_PW"},
            },
            "ca_bundle": ca_bundle,
            "timeout_seconds": 5,
        }
    )


def jira_settings(em: JiraEmulator, ca_bundle: Path | None) -> JiraSettings:
    return JiraSettings.model_validate(
        {
            "system": "jira",
            "base_url": em.base_url,
            "mapping": "mappings/jira.yaml",
            "auth": {"type": "basic", "username": JIRA_SVC, "password": {"env": "TB_CANARY_TOKEN"}},
            "ca_bundle": ca_bundle,
            "project": "L2",
            "service_desk_id": "1",
            "request_type_id": "10",
            "timeout_seconds": 5,
        }
    )


class TestTransport:
    @pytest.fixture(autouse=True)
    def _password(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TB_CANARY_PW", DEFAULT_PASSWORDS["svc.tierbridge"])
        monkeypatch.setenv("TB_CANARY_TOKEN", DEFAULT_TOKENS[JIRA_SVC])

    @pytest.mark.parametrize("env_bundle", [True, False])
    def test_servicenow_without_ca_permanent(
        self,
        separate_cas: tuple[ServiceNowEmulator, JiraEmulator],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        env_bundle: bool,
    ) -> None:
        """Without the instance's CA, a ServiceNow call fails permanently, naming ca_bundle."""
        if not env_bundle:
            monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        snow, _jira = separate_cas
        connector = ServiceNowConnector("snow", snow_settings(snow, None, tmp_path))

        with pytest.raises(PermanentError, match="ca_bundle"):
            connector.get_record("a" * 32)
        connector.close()

    def test_jira_without_ca_permanent(
        self, separate_cas: tuple[ServiceNowEmulator, JiraEmulator]
    ) -> None:
        """Without the site's CA, a Jira call fails permanently, naming ca_bundle."""
        _snow, jira = separate_cas
        connector = JiraConnector("jsm", jira_settings(jira, None))

        with pytest.raises(PermanentError, match="ca_bundle"):
            connector.get_record("10000")
        connector.close()

    def test_ca_bundle_per_connector(
        self, separate_cas: tuple[ServiceNowEmulator, JiraEmulator], tmp_path: Path
    ) -> None:
        """Each connector trusts its own bundle; another connector's CA is not enough."""
        snow, jira = separate_cas
        snow_ok = ServiceNowConnector("snow", snow_settings(snow, snow.ca_cert, tmp_path))
        jira_ok = JiraClient("jsm", jira_settings(jira, jira.ca_cert))
        jira_wrong = JiraClient("jsm2", jira_settings(jira, snow.ca_cert))

        assert snow_ok.list_comments("a" * 32) == []
        assert jira_ok.myself()["emailAddress"] == JIRA_SVC
        with pytest.raises(PermanentError, match="ca_bundle"):
            jira_wrong.myself()
        for closable in (snow_ok, jira_ok, jira_wrong):
            closable.close()

    def test_verify_false_ignored(
        self, separate_cas: tuple[ServiceNowEmulator, JiraEmulator], tmp_path: Path
    ) -> None:
        """A caller passing verify=False still gets certificate verification."""
        snow, jira = separate_cas
        snow_client = ServiceNowConnector("snow", snow_settings(snow, None, tmp_path))
        jira_client = JiraClient("jsm", jira_settings(jira, None))
        sessions = [
            (snow_client._client.session, snow.base_url),
            (jira_client._session, jira.base_url),
        ]

        for session, base in sessions:
            with pytest.raises(requests.exceptions.SSLError):
                session.get(f"{base}/api/now/table/incident", verify=False)
        snow_client.close()
        jira_client.close()


class TestSameHost:
    BASE = "https://acme.service-now.com"

    @pytest.mark.parametrize("check", [snow_same_host, jira_same_host])
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            (
                "/api/now/attachment/1/file",
                "https://acme.service-now.com/api/now/attachment/1/file",
            ),
            ("https://acme.service-now.com/x", "https://acme.service-now.com/x"),
            ("https://ACME.service-now.com:443/x", "https://ACME.service-now.com:443/x"),
        ],
    )
    def test_same_origin_followed(self, check: Any, url: str, expected: str) -> None:
        """Relative URLs and URLs on the configured origin are returned absolute."""
        assert check(url, self.BASE) == expected

    @pytest.mark.parametrize("check", [snow_same_host, jira_same_host])
    @pytest.mark.parametrize(
        "url",
        [
            "https://evil.example/x",
            "https://acme.service-now.com.evil.example/x",
            "https://acme.service-now.com:8443/x",
            "http://acme.service-now.com/x",
            "//evil.example/x",
            "https://user@acme.service-now.com/x",
            "https://acme.service-now.com@evil.example/x",
            "https://acme.service-now.com:99999/x",
        ],
    )
    def test_other_origin_refused(self, check: Any, url: str) -> None:
        """Another host, port or scheme, or user info in the URL, raises PermanentError."""
        with pytest.raises(PermanentError, match="not followed"):
            check(url, self.BASE)
