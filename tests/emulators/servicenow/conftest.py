from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.servicenow.support import AGENT, SVC, Api, FakeClock, WebhookSink
from tierbridge.emulators.servicenow import ServiceNowEmulator

WEBHOOK_SECRET = "snow-shared-key"


@pytest.fixture(scope="session")
def snow_tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snow-tls")


@pytest.fixture(scope="module")
def module_sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


@pytest.fixture(scope="module")
def server(snow_tls_dir: Path, module_sink: WebhookSink) -> Iterator[ServiceNowEmulator]:
    """One emulator per test module; the `emulator` fixture resets it for each test."""
    with ServiceNowEmulator(tls_dir=snow_tls_dir, webhook_url=module_sink.url) as running:
        yield running
        # Live responses keep client sockets open, and the server waits for open connections
        # when it stops; responses held in reference cycles go only when collected.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink(module_sink: WebhookSink) -> WebhookSink:
    module_sink.deliveries.clear()
    return module_sink


@pytest.fixture
def emulator(server: ServiceNowEmulator, clock: FakeClock, sink: WebhookSink) -> ServiceNowEmulator:
    server.reset()
    sink.deliveries.clear()
    server.state.clock = clock
    server.set_webhook(sink.url, WEBHOOK_SECRET)
    return server


@pytest.fixture
def svc(emulator: ServiceNowEmulator) -> Iterator[Api]:
    api = Api(emulator.base_url, emulator.ca_cert, SVC)
    yield api
    api.close()


@pytest.fixture
def agent(emulator: ServiceNowEmulator) -> Iterator[Api]:
    api = Api(emulator.base_url, emulator.ca_cert, AGENT)
    yield api
    api.close()
