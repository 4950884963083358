from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.connectors.dynamics.conftest import SECRET_ENV, MakeSettings
from tierbridge.connectors.dynamics.client import WebApiClient
from tierbridge.core.errors import AuthenticationError
from tierbridge.emulators.dynamics import DynamicsEmulator


class FixedToken:
    """A TokenSource stand-in that counts calls and invalidations."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.invalidated = 0

    def get_token(self, scope: str) -> str:
        return self.token

    def invalidate(self) -> None:
        self.invalidated += 1


@pytest.fixture
def client(make_settings: MakeSettings) -> Iterator[WebApiClient]:
    web_api = WebApiClient(make_settings(), "dyn")
    yield web_api
    web_api.close()


def test_msal_token_cached(client: WebApiClient, emulator: DynamicsEmulator) -> None:
    """MSAL discovers the tenant once and reuses its token for later calls."""
    with structlog.testing.capture_logs() as logs:
        first = client.get("WhoAmI", operation="who")
        second = client.get("WhoAmI", operation="who")

    paths = [line["path"] for line in logs if line["event"] == "api_call"]
    assert first["UserId"] == second["UserId"] == emulator.state.seed.integration_user
    assert paths == [
        "/{id}/v2.0/.well-known/openid-configuration",
        "/{id}/oauth2/v2.0/token",
        "/api/data/v9.2/WhoAmI",
        "/api/data/v9.2/WhoAmI",
    ]


def test_wrong_secret(make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused client secret raises AuthenticationError naming the settings to check."""
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    web_api = WebApiClient(make_settings(), "dyn")

    with pytest.raises(AuthenticationError, match="invalid_client"):
        web_api.get("WhoAmI", operation="who")
    web_api.close()


def test_unknown_tenant(make_settings: MakeSettings) -> None:
    """A tenant the authority does not know raises AuthenticationError."""
    web_api = WebApiClient(make_settings(tenant_id="other-tenant"), "dyn")

    with pytest.raises(AuthenticationError, match="tenant discovery"):
        web_api.get("WhoAmI", operation="who")
    web_api.close()


def test_401_renews_token(client: WebApiClient, emulator: DynamicsEmulator) -> None:
    """A 401 drops the cached token, and the read is sent again with a fresh one."""
    client.get("WhoAmI", operation="who")
    emulator.expire_tokens()

    renewed = client.get("WhoAmI", operation="who")

    assert renewed["UserId"] == emulator.state.seed.integration_user


def test_token_seam(make_settings: MakeSettings) -> None:
    """Any TokenSource can stand in for MSAL; a 401 calls its invalidate()."""
    tokens = FixedToken("not-issued")
    web_api = WebApiClient(make_settings(), "dyn", tokens=tokens)

    with pytest.raises(AuthenticationError):
        web_api.get("WhoAmI", operation="who")
    web_api.close()

    assert tokens.invalidated == 1
