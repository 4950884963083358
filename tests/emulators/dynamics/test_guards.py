from __future__ import annotations

import msal
import pytest
import requests

from tests.emulators.dynamics.support import Api, FakeClock
from tierbridge.emulators.dynamics import TENANT_ID, TIERBRIDGE_CLIENT, DynamicsEmulator


def _msal_app(emulator: DynamicsEmulator, secret: str) -> msal.ConfidentialClientApplication:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_cert)
    return msal.ConfidentialClientApplication(
        TIERBRIDGE_CLIENT[0],
        client_credential=secret,
        authority=f"{emulator.base_url}/{TENANT_ID}",
        instance_discovery=False,
        http_client=session,
    )


def test_msal_client_credentials(emulator: DynamicsEmulator) -> None:
    """MSAL discovers the tenant and gets a bearer token for <org>/.default."""
    app = _msal_app(emulator, TIERBRIDGE_CLIENT[1])

    result = app.acquire_token_for_client([f"{emulator.base_url}/.default"])

    assert result.get("token_type") == "Bearer"
    assert result.get("access_token")
    assert result.get("expires_in") == 3599


def test_msal_wrong_secret(emulator: DynamicsEmulator) -> None:
    """A wrong client secret gives MSAL the invalid_client error."""
    app = _msal_app(emulator, "not-the-secret")

    result = app.acquire_token_for_client([f"{emulator.base_url}/.default"])

    assert result.get("error") == "invalid_client"
    assert "access_token" not in result


def test_discovery_unknown_tenant(api: Api) -> None:
    """The discovery document exists only for the emulator's tenant."""
    url = f"{api.base_url}/other-tenant/v2.0/.well-known/openid-configuration"

    response = api.session.get(url, verify=api.verify, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_tenant"


def test_token_wrong_scope(api: Api) -> None:
    """A token for another resource is refused with invalid_scope."""
    response = api.fetch_token(TIERBRIDGE_CLIENT, scope="https://other.example.com/.default")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_token_unknown_client(api: Api) -> None:
    """An unregistered client id is refused with unauthorized_client."""
    response = api.fetch_token(("00000000-0000-4000-8000-000000000000", "x"))

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_web_api_needs_token(api: Api) -> None:
    """A call without a bearer token gets 401 with a Bearer challenge and no body."""
    api.session.headers.pop("Authorization")

    response = api.get("incidents")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
    assert response.content == b""


def test_token_expires(api: Api, clock: FakeClock) -> None:
    """A token is refused once its hour is over."""
    clock.advance(3600)

    assert api.get("incidents").status_code == 401


def test_expire_tokens(api: Api, emulator: DynamicsEmulator) -> None:
    """expire_tokens() invalidates every issued token at once."""
    emulator.expire_tokens()

    assert api.get("incidents").status_code == 401


@pytest.mark.parametrize(
    ("code", "limit"),
    [("0x80072322", "6000"), ("0x80072321", "1,200,000"), ("0x80072326", "52")],
)
def test_inject_429(api: Api, emulator: DynamicsEmulator, code: str, limit: str) -> None:
    """Injected throttling returns 429 with Retry-After and the limit's error code."""
    emulator.inject_429(1, retry_after=7, code=code)

    throttled = api.get("incidents")
    after = api.get("incidents")

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == code
    assert limit in throttled.json()["error"]["message"]
    assert after.status_code == 200


def test_inject_unknown_code(emulator: DynamicsEmulator) -> None:
    """inject_429 refuses a code that is not a service-protection code."""
    with pytest.raises(ValueError, match="0x80072322"):
        emulator.inject_429(1, code="0x1")
