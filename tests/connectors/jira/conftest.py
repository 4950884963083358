from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.jira.support import START, FakeClock, WebhookSink
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.core.connector_settings import BasicAuth, WebhookSettings
from tierbridge.core.secrets import SecretRef
from tierbridge.emulators.jira import JiraEmulator

TOKEN_ENV = "TIERBRIDGE_TEST_JIRA_TOKEN"
SECRET_ENV = "TIERBRIDGE_TEST_JIRA_WEBHOOK_SECRET"
SECRET = "s3cr3t-example"

SettingsFactory = Callable[..., JiraSettings]


@pytest.fixture(scope="module")
def module_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def module_sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


@pytest.fixture(scope="module")
def jira_server(
    tmp_path_factory: pytest.TempPathFactory, module_clock: FakeClock, module_sink: WebhookSink
) -> Iterator[JiraEmulator]:
    tls_dir = tmp_path_factory.mktemp("jira-connector-tls")
    with JiraEmulator(
        tls_dir=tls_dir, clock=module_clock, webhook_url=module_sink.url, webhook_secret=SECRET
    ) as running:
        yield running


@pytest.fixture
def clock(module_clock: FakeClock) -> FakeClock:
    module_clock.now = START
    return module_clock


@pytest.fixture
def sink(module_sink: WebhookSink) -> WebhookSink:
    return module_sink


@pytest.fixture
def emulator(jira_server: JiraEmulator, clock: FakeClock, sink: WebhookSink) -> JiraEmulator:
    """The module's emulator, emptied, with the clock at START and no recorded webhooks."""
    jira_server.drain_webhooks(5)
    jira_server.reset()
    jira_server.set_webhook(sink.url, SECRET)
    sink.deliveries.clear()
    return jira_server


@pytest.fixture
def make_settings(emulator: JiraEmulator, monkeypatch: pytest.MonkeyPatch) -> SettingsFactory:
    """Build settings for the emulator's integration account; keywords override fields."""
    monkeypatch.setenv(TOKEN_ENV, "svc-api-token")
    monkeypatch.setenv(SECRET_ENV, SECRET)

    def build(**overrides: Any) -> JiraSettings:
        values: dict[str, Any] = {
            "system": "jira",
            "base_url": emulator.base_url,
            "mapping": Path("mappings/jira.yaml"),
            "auth": BasicAuth(
                type="basic",
                username="svc.tierbridge@example.com",
                password=SecretRef(env=TOKEN_ENV),
            ),
            "ca_bundle": emulator.ca_cert,
            "project": "L2",
            "service_desk_id": "1",
            "request_type_id": "10",
            "webhook": WebhookSettings(secret=SecretRef(env=SECRET_ENV)),
            **overrides,
        }
        return JiraSettings(**values)

    return build


@pytest.fixture
def connector(make_settings: SettingsFactory) -> Iterator[JiraConnector]:
    jira = JiraConnector("jira-l2", make_settings())
    yield jira
    # Closed before the emulator stops: uvicorn waits for open TLS keep-alive connections.
    jira.close()
