from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.salesforce.support import AckSink, Api, FakeClock
from tierbridge.emulators.salesforce import SalesforceEmulator

WEBHOOK_TOKEN = "sf-outbound-token"


@pytest.fixture(scope="session")
def sf_tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sf-tls")


@pytest.fixture(scope="module")
def module_sink() -> Iterator[AckSink]:
    with AckSink().running() as running:
        yield running


@pytest.fixture(scope="module")
def server(sf_tls_dir: Path, module_sink: AckSink) -> Iterator[SalesforceEmulator]:
    """One emulator per test module, paging down to one row; `emulator` resets it per test."""
    with SalesforceEmulator(
        tls_dir=sf_tls_dir,
        webhook_url=module_sink.url,
        min_batch_size=1,
        outbound_retry_cap_seconds=0.05,
    ) as running:
        yield running
        # Responses held in reference cycles keep client sockets open, and the server waits
        # for open connections when it stops.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink(module_sink: AckSink) -> AckSink:
    module_sink.deliveries.clear()
    module_sink.refuse = 0
    return module_sink


@pytest.fixture
def emulator(server: SalesforceEmulator, clock: FakeClock, sink: AckSink) -> SalesforceEmulator:
    server.drain_webhooks(5)
    server.reset()
    sink.deliveries.clear()
    server.state.clock = clock
    server.set_webhook(sink.url, WEBHOOK_TOKEN)
    return server


@pytest.fixture
def api(emulator: SalesforceEmulator) -> Iterator[Api]:
    client = Api(emulator.base_url, emulator.ca_cert)
    yield client
    client.close()


@pytest.fixture
def agent_api(emulator: SalesforceEmulator) -> Iterator[Api]:
    client = Api(emulator.base_url, emulator.ca_cert, "agent-console")
    yield client
    client.close()
