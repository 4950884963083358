from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.dynamics.support import Api, FakeClock, WebhookSink
from tierbridge.emulators.dynamics import AGENT_CLIENT, DynamicsEmulator

WEBHOOK_SECRET = "dynamics-shared-value"


@pytest.fixture(scope="session")
def dynamics_tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dynamics-tls")


@pytest.fixture(scope="module")
def module_sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


@pytest.fixture(scope="session")
def server(dynamics_tls_dir: Path) -> Iterator[DynamicsEmulator]:
    """One emulator for the whole run; the `emulator` fixture resets it for each test."""
    with DynamicsEmulator(tls_dir=dynamics_tls_dir) as running:
        yield running
        # Responses kept in reference cycles hold client sockets open, and the server waits
        # for open connections when it stops, so collect them first.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink(module_sink: WebhookSink) -> WebhookSink:
    module_sink.deliveries.clear()
    module_sink.status = 204
    return module_sink


@pytest.fixture
def emulator(server: DynamicsEmulator, clock: FakeClock) -> Iterator[DynamicsEmulator]:
    server.reset()
    server.state.clock = clock
    server.set_webhook(None, None)
    yield server
    server.set_webhook(None, None)


@pytest.fixture
def api(emulator: DynamicsEmulator) -> Iterator[Api]:
    session = Api(emulator.base_url, emulator.ca_cert)
    yield session
    session.close()


@pytest.fixture
def agent_api(emulator: DynamicsEmulator) -> Iterator[Api]:
    session = Api(emulator.base_url, emulator.ca_cert, AGENT_CLIENT)
    yield session
    session.close()
