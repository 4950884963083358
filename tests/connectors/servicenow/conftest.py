from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.servicenow.support import FakeClock
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS, ServiceNowEmulator

PASSWORD_ENV = "TB_TEST_SNOW_PASSWORD"
WEBHOOK_ENV = "TB_TEST_SNOW_WEBHOOK_KEY"
WEBHOOK_KEY = "snow-shared-key"

MakeSettings = Callable[..., ServiceNowSettings]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceNowEmulator]:
    """One emulator per test module; the `emulator` fixture resets it for each test."""
    with ServiceNowEmulator(tls_dir=tmp_path_factory.mktemp("snow-tls")) as running:
        yield running
        # Caught errors keep their responses and client sockets alive in reference cycles.
        # The server waits for open connections when it stops, so collect them first.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(server: ServiceNowEmulator, clock: FakeClock) -> ServiceNowEmulator:
    server.reset()
    server.state.clock = clock
    return server


@pytest.fixture
def make_settings(
    emulator: ServiceNowEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> MakeSettings:
    """Build connector settings for the emulator; keyword arguments override keys."""
    monkeypatch.setenv(PASSWORD_ENV, DEFAULT_PASSWORDS["svc.tierbridge"])
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_KEY)

    def build(**overrides: Any) -> ServiceNowSettings:
        values: dict[str, Any] = {
            "system": "servicenow",
            "base_url": emulator.base_url,
            "mapping": tmp_path / "servicenow.yaml",
            "auth": {
                "type": "basic",
                "username": "svc.tierbridge",
                "password": {"env": PASSWORD_ENV},
            },
            "webhook": {"secret": {"env": WEBHOOK_ENV}},
            "integration_user": "svc.tierbridge",
            "ca_bundle": emulator.ca_cert,
            "timeout_seconds": 5,
            "page_size": 2,
        }
        values.update(overrides)
        return ServiceNowSettings.model_validate(values)

    return build


@pytest.fixture
def connector(make_settings: MakeSettings) -> Iterator[ServiceNowConnector]:
    snow = ServiceNowConnector("snow", make_settings())
    yield snow
    snow.close()
