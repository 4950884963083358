from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.dynamics.support import FakeClock
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.emulators.dynamics import TENANT_ID, TIERBRIDGE_CLIENT, DynamicsEmulator

SECRET_ENV = "TB_TEST_DYNAMICS_SECRET"
WEBHOOK_ENV = "TB_TEST_DYNAMICS_WEBHOOK_KEY"
WEBHOOK_KEY = "dynamics-shared-value"

MakeSettings = Callable[..., DynamicsSettings]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamicsEmulator]:
    """One emulator for the whole run; the `emulator` fixture resets it for each test."""
    with DynamicsEmulator(tls_dir=tmp_path_factory.mktemp("dynamics-tls")) as running:
        yield running
        # Caught errors keep their responses and client sockets alive in reference cycles.
        # The server waits for open connections when it stops, so collect them first.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(server: DynamicsEmulator, clock: FakeClock) -> DynamicsEmulator:
    server.reset()
    server.state.clock = clock
    return server


@pytest.fixture
def make_settings(
    emulator: DynamicsEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> MakeSettings:
    """Build connector settings for the emulator; keyword arguments override keys."""
    monkeypatch.setenv(SECRET_ENV, TIERBRIDGE_CLIENT[1])
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_KEY)

    def build(**overrides: Any) -> DynamicsSettings:
        values: dict[str, Any] = {
            "system": "dynamics",
            "base_url": emulator.base_url,
            "mapping": tmp_path / "dynamics.yaml",
            "auth": {
                "type": "oauth_client_credentials",
                "client_id": TIERBRIDGE_CLIENT[0],
                "client_secret": {"env": SECRET_ENV},
            },
            "tenant_id": TENANT_ID,
            "authority_host": emulator.base_url,
            "webhook": {"secret": {"env": WEBHOOK_ENV}},
            "ca_bundle": emulator.ca_cert,
            "timeout_seconds": 5,
            "page_size": 2,
            "default_customer": f"/accounts({emulator.state.seed.account})",
            "date_only_fields": ["new_duedate"],
        }
        values.update(overrides)
        return DynamicsSettings.model_validate(values)

    return build


@pytest.fixture
def connector(make_settings: MakeSettings) -> Iterator[DynamicsConnector]:
    dynamics = DynamicsConnector("dyn", make_settings())
    yield dynamics
    dynamics.close()
