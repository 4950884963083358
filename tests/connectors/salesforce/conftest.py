from __future__ import annotations

import base64
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.salesforce.support import FakeClock
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.connectors.salesforce.settings import SalesforceSettings
from tierbridge.emulators.salesforce import (
    AGENT_USERNAME,
    DEFAULT_CLIENTS,
    INTEGRATION_USERNAME,
    SalesforceEmulator,
)

SECRET_ENV = "TB_TEST_SF_CLIENT_SECRET"
WEBHOOK_ENV = "TB_TEST_SF_WEBHOOK_TOKEN"
WEBHOOK_TOKEN = "sf-outbound-token"

MakeSettings = Callable[..., SalesforceSettings]
MakeConnector = Callable[..., SalesforceConnector]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    """One emulator per test module, paging down to one row; `emulator` resets it per test."""
    tls_dir = tmp_path_factory.mktemp("sf-tls")
    with SalesforceEmulator(tls_dir=tls_dir, min_batch_size=1) as running:
        yield running
        # Caught errors keep their responses and client sockets alive in reference cycles,
        # and the server waits for open connections when it stops.
        gc.collect()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(server: SalesforceEmulator, clock: FakeClock) -> SalesforceEmulator:
    server.reset()
    server.state.clock = clock
    return server


def user_id(emulator: SalesforceEmulator, username: str = AGENT_USERNAME) -> str:
    found = emulator.state.user_by_username(username)
    assert found is not None
    return str(found["Id"])


def seed_case(emulator: SalesforceEmulator, **values: Any) -> str:
    """Create a Case as the agent, straight in the emulator's state; return its id."""
    created = emulator.state.insert(
        "Case", {"Subject": "VPN drops", **values}, user_id=user_id(emulator)
    )
    return str(created["Id"])


def seed_comment(
    emulator: SalesforceEmulator, case_id: str, body: str = "hello", *, public: bool = True
) -> str:
    values = {"ParentId": case_id, "CommentBody": body, "IsPublished": public}
    created = emulator.state.insert("CaseComment", values, user_id=user_id(emulator))
    return str(created["Id"])


def seed_file(
    emulator: SalesforceEmulator,
    case_id: str | None,
    name: str = "screenshot.png",
    content: bytes = b"\x89PNG\r\n",
) -> str:
    """Attach a file as the agent, straight in the emulator's state; return its version id.

    With `case_id` None the file goes to the agent's own library, on no Case.
    """
    values: dict[str, Any] = {
        "PathOnClient": name,
        "VersionData": base64.b64encode(content).decode("ascii"),
    }
    if case_id is not None:
        values["FirstPublishLocationId"] = case_id
    created = emulator.state.insert("ContentVersion", values, user_id=user_id(emulator))
    return str(created["Id"])


@pytest.fixture
def make_settings(
    emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> MakeSettings:
    """Build connector settings for the emulator; keyword arguments override keys."""
    monkeypatch.setenv(SECRET_ENV, DEFAULT_CLIENTS["tierbridge-client"][0])
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_TOKEN)

    def build(**overrides: Any) -> SalesforceSettings:
        values: dict[str, Any] = {
            "system": "salesforce",
            "base_url": emulator.base_url,
            "mapping": tmp_path / "salesforce.yaml",
            "auth": {
                "type": "oauth_client_credentials",
                "client_id": "tierbridge-client",
                "client_secret": {"env": SECRET_ENV},
            },
            "organization_id": emulator.organization_id,
            "webhook": {"secret": {"env": WEBHOOK_ENV}},
            "integration_user": INTEGRATION_USERNAME,
            "ca_bundle": emulator.ca_cert,
            "timeout_seconds": 5,
            "page_size": 2,
        }
        values.update(overrides)
        return SalesforceSettings.model_validate(values)

    return build


@pytest.fixture
def make_connector(make_settings: MakeSettings) -> Iterator[MakeConnector]:
    """Build connectors from settings overrides; all are closed after the test."""
    built: list[SalesforceConnector] = []

    def build(**overrides: Any) -> SalesforceConnector:
        connector = SalesforceConnector("sf", make_settings(**overrides))
        built.append(connector)
        return connector

    yield build
    for connector in built:
        connector.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> SalesforceConnector:
    return make_connector()
