"""Contract adapter of the Salesforce Service Cloud connector (Cases, client credentials)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from tierbridge.connectors.salesforce.settings import DEFAULT_API_VERSION
from tierbridge.emulators.salesforce import (
    DEFAULT_CLIENTS,
    INTEGRATION_USERNAME,
    SalesforceAgent,
    SalesforceEmulator,
)
from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem, LiveSystem, SecretEnv
from tierbridge.testing.clock import ManualClock
from tierbridge.testing.live import raise_for_status
from tierbridge.testing.rawapi import RawApi
from tierbridge.testing.target import Seeded, SystemFacts

__all__ = ["SalesforceContract"]

_CLIENT = "tierbridge-client"
_DATA = f"/services/data/v{DEFAULT_API_VERSION}"
_TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
#: The recorded org's id: `00DHs000000OrGa` with its checksum.
_RECORDED_ORG = "00DHs000000OrGaMAK"
_MAPPING = Path("mappings/salesforce.yaml")

_LIVE_URL = "TIERBRIDGE_LIVE_SF_URL"
_LIVE_CLIENT_ID = "TIERBRIDGE_LIVE_SF_CLIENT_ID"
_LIVE_SECRET = "TIERBRIDGE_LIVE_SF_CLIENT_SECRET"  # noqa: S105 - a variable name, not a secret
_LIVE_ORG = "TIERBRIDGE_LIVE_SF_ORG_ID"
#: Optional: the Case text field that stores correlation keys (External_Ref__c if unset).
_LIVE_CORRELATION = "TIERBRIDGE_LIVE_SF_CORRELATION_FIELD"
#: Optional: PEM bundle of a private CA that signed the org's certificate.
_LIVE_CA_BUNDLE = "TIERBRIDGE_LIVE_SF_CA_BUNDLE"


def _settings(base_url: str, client_id: str, credential_env: str, org: str) -> dict[str, Any]:
    return {
        "system": "salesforce",
        "base_url": base_url,
        "mapping": _MAPPING,
        "auth": {
            "type": "oauth_client_credentials",
            "client_id": client_id,
            "client_secret": {"env": credential_env},
        },
        "organization_id": org,
        "timeout_seconds": 10,
        "page_size": 2,
    }


def _bearer(base_url: str, ca_cert: Path | None, client_id: str, secret: str) -> RawApi:
    """Return a session with a client-credentials token of the connected app."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    login = RawApi(base_url, ca_cert=ca_cert)
    try:
        response = login.request("POST", _TOKEN_PATH, data=form)
        raise_for_status(response, "requesting a Salesforce token")
        token = str(response.json()["access_token"])
    finally:
        login.close()
    headers = {"Authorization": f"Bearer {token}"}
    return RawApi(base_url, ca_cert=ca_cert, headers=headers)


class _Emulated(EmulatedSystem):
    credential = DEFAULT_CLIENTS[_CLIENT][0]
    webhook_secret = "sf-contract-outbound-token"  # noqa: S105 - a test value

    def __init__(self, tls_dir: Path, clock: ManualClock) -> None:
        self._emulator = SalesforceEmulator(tls_dir=tls_dir, clock=clock, min_batch_size=1)
        self._emulator.start()

    @property
    def base_url(self) -> str:
        return self._emulator.base_url

    @property
    def ca_cert(self) -> Path:
        return self._emulator.ca_cert

    def settings(self, secrets: SecretEnv) -> dict[str, Any]:
        org = self._emulator.organization_id
        values = _settings(self.base_url, _CLIENT, secrets.credential, org)
        values["ca_bundle"] = self.ca_cert
        values["integration_user"] = INTEGRATION_USERNAME
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def reset(self) -> None:
        self._emulator.set_webhook(None, None)
        self._emulator.reset()

    def stop(self) -> None:
        self._emulator.stop()

    def seed(self, title: str) -> Seeded:
        with SalesforceAgent(self.base_url, self.ca_cert) as agent:
            created = agent.create_case(Subject=title)
        return Seeded(str(created["Id"]), str(created["CaseNumber"]))

    def touch(self, seeded: Seeded, text: str) -> None:
        with SalesforceAgent(self.base_url, self.ca_cert) as agent:
            agent.update_case(seeded.id, Description=text)

    def subscribe(self, url: str | None, secret: str | None) -> None:
        self._emulator.set_webhook(url, secret)

    def drain(self) -> None:
        self._emulator.drain_webhooks(5)

    def api(self) -> RawApi:
        return _bearer(self.base_url, self.ca_cert, _CLIENT, self.credential)

    def live_env(self) -> dict[str, str]:
        return {
            _LIVE_URL: self.base_url,
            _LIVE_CLIENT_ID: _CLIENT,
            _LIVE_SECRET: self.credential,
            _LIVE_ORG: self._emulator.organization_id,
            _LIVE_CA_BUNDLE: str(self.ca_cert),
        }

    def placeholders(self) -> dict[str, str]:
        return {"client_id": _CLIENT, "client_secret": self.credential}

    def expire_sessions(self) -> None:
        self._emulator.expire_sessions()

    def throttle(self, retry_after: int) -> None:
        # The org refuses with 403 REQUEST_LIMIT_EXCEEDED and no wait; `retry_after` is unused.
        self._emulator.inject_limit_exceeded(1)


class _Live(LiveSystem):
    def __init__(self, env: Mapping[str, str]) -> None:
        self._url = env[_LIVE_URL].rstrip("/")
        self._client_id = env[_LIVE_CLIENT_ID]
        self._org = env[_LIVE_ORG]
        self._correlation = env.get(_LIVE_CORRELATION)
        self._ca_bundle = Path(env[_LIVE_CA_BUNDLE]) if env.get(_LIVE_CA_BUNDLE) else None
        self._api = _bearer(self._url, self._ca_bundle, self._client_id, env[_LIVE_SECRET])

    def settings(self, wrong_secret_env: str) -> tuple[dict[str, Any], dict[str, Any]]:
        values = _settings(self._url, self._client_id, _LIVE_SECRET, self._org)
        values["ca_bundle"] = self._ca_bundle
        if self._correlation:
            values["correlation_field"] = self._correlation
        wrong = _settings(self._url, self._client_id, wrong_secret_env, self._org)["auth"]
        return values, {"auth": wrong}

    def seed(self, title: str) -> Seeded:
        response = self._api.request("POST", f"{_DATA}/sobjects/Case", json={"Subject": title})
        raise_for_status(response, "creating a Case")
        return Seeded(str(response.json()["id"]))

    def remove(self, seeded: Seeded) -> None:
        """Delete the Case (to the recycle bin); this needs Delete on Case."""
        response = self._api.request("DELETE", f"{_DATA}/sobjects/Case/{seeded.id}")
        if response.status_code != 404:
            raise_for_status(response, f"deleting Case {seeded.id}")

    def close(self) -> None:
        self._api.close()


class SalesforceContract(ContractAdapter):
    """Cases and CaseComments; webhooks are Outbound Messages with a token in their URL."""

    system: ClassVar[str] = "salesforce"
    facts: ClassVar[SystemFacts] = SystemFacts(
        title_field="Subject",
        description_field="Description",
        status_field="Status",
        status_steps=({"Status": "Working"}, {"Status": "Closed"}),
        rejected_update={"Priority": "Urgent"},
        rejection_hint="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        missing_id="500Hs00000NoNeXIAV",
        session_expiry=True,
        # The org refuses with 403 REQUEST_LIMIT_EXCEEDED, which names no wait.
        throttle_retry_after=None,
    )
    live_variables: ClassVar[tuple[str, ...]] = (
        _LIVE_URL,
        _LIVE_CLIENT_ID,
        _LIVE_SECRET,
        _LIVE_ORG,
    )
    webhook_auth_headers: ClassVar[tuple[str, ...]] = (":query",)

    def recorded_settings(self, base_url: str, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(base_url, _CLIENT, secrets.credential, _RECORDED_ORG)
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def credential_override(self, settings: Mapping[str, Any], env: str) -> dict[str, Any]:
        return {"auth": {**settings["auth"], "client_secret": {"env": env}}}

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """Outbound Messages are unsigned; the token travels in the endpoint URL's query."""
        return {":query": urlencode({"token": secret})}

    def start_emulator(self, tls_dir: Path, clock: ManualClock) -> EmulatedSystem:
        return _Emulated(tls_dir, clock)

    def live_system(self, env: Mapping[str, str]) -> LiveSystem:
        return _Live(env)
