from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.jira.support import AGENT, START, SVC, Api, FakeClock, WebhookSink
from tierbridge.emulators.jira import JiraEmulator

SECRET = "s3cr3t-example"


@pytest.fixture(scope="session")
def jira_tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jira-tls")


@pytest.fixture(scope="module")
def module_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def module_sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


@pytest.fixture(scope="module")
def jira_server(
    jira_tls_dir: Path, module_clock: FakeClock, module_sink: WebhookSink
) -> Iterator[JiraEmulator]:
    """One emulator per test module; starting and stopping uvicorn takes a few tenths of a s."""
    with JiraEmulator(
        tls_dir=jira_tls_dir,
        clock=module_clock,
        webhook_url=module_sink.url,
        webhook_secret=SECRET,
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
def svc(emulator: JiraEmulator) -> Iterator[Api]:
    api = Api(emulator.base_url, emulator.ca_cert, SVC)
    yield api
    # Closed before the emulator stops: uvicorn waits for open TLS keep-alive connections.
    api.session.close()


@pytest.fixture
def agent(emulator: JiraEmulator) -> Iterator[Api]:
    api = Api(emulator.base_url, emulator.ca_cert, AGENT)
    yield api
    api.session.close()
