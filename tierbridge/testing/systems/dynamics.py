"""Contract adapter of the Dynamics 365 Customer Service connector (Dataverse Web API)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from tierbridge.connectors.dynamics.settings import DEFAULT_WEBHOOK_HEADER
from tierbridge.emulators.dynamics import (
    TENANT_ID,
    TIERBRIDGE_CLIENT,
    DynamicsAgent,
    DynamicsEmulator,
)
from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem, LiveSystem, SecretEnv
from tierbridge.testing.clock import ManualClock
from tierbridge.testing.live import raise_for_status
from tierbridge.testing.rawapi import RawApi
from tierbridge.testing.target import Seeded, SystemFacts

__all__ = ["DynamicsContract"]

_API = "/api/data/v9.2"
_ODATA = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
_MAPPING = Path("mappings/dynamics.yaml")
#: Public comments become portal comments; Dataverse notes have no public flag.
_PUBLIC_TABLE = "adx_portalcomment"
#: The recorded organisation's customer account.
_RECORDED_CUSTOMER = "/accounts(9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d)"
_RECORDED_TENANT = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"

_LIVE_URL = "TIERBRIDGE_LIVE_D365_URL"
_LIVE_TENANT = "TIERBRIDGE_LIVE_D365_TENANT_ID"
_LIVE_CLIENT_ID = "TIERBRIDGE_LIVE_D365_CLIENT_ID"
_LIVE_SECRET = "TIERBRIDGE_LIVE_D365_CLIENT_SECRET"  # noqa: S105 - a variable name, not a secret
#: The customer bound to created cases, as `/accounts(<id>)` or `/contacts(<id>)`.
_LIVE_CUSTOMER = "TIERBRIDGE_LIVE_D365_CUSTOMER"
#: Optional: the text column that stores correlation keys (new_externalref if unset).
_LIVE_CORRELATION = "TIERBRIDGE_LIVE_D365_CORRELATION_FIELD"
#: Optional: the Entra ID host (https://login.microsoftonline.com if unset; national clouds differ).
_LIVE_AUTHORITY = "TIERBRIDGE_LIVE_D365_AUTHORITY_HOST"
#: Optional: PEM bundle of a private CA that signed the organisation's certificate.
_LIVE_CA_BUNDLE = "TIERBRIDGE_LIVE_D365_CA_BUNDLE"


def _settings(
    base_url: str, client_id: str, credential_env: str, *, tenant: str, customer: str
) -> dict[str, Any]:
    return {
        "system": "dynamics",
        "base_url": base_url,
        "mapping": _MAPPING,
        "auth": {
            "type": "oauth_client_credentials",
            "client_id": client_id,
            "client_secret": {"env": credential_env},
        },
        "tenant_id": tenant,
        "default_customer": customer,
        "public_notes_as": _PUBLIC_TABLE,
        "timeout_seconds": 10,
        "page_size": 2,
    }


def _customer_bind(customer: str) -> dict[str, str]:
    navigation = "customerid_account" if customer.startswith("/accounts(") else "customerid_contact"
    return {f"{navigation}@odata.bind": customer}


class _Emulated(EmulatedSystem):
    credential = TIERBRIDGE_CLIENT[1]
    webhook_secret = "dynamics-contract-webhook-value"  # noqa: S105 - a test value

    def __init__(self, tls_dir: Path, clock: ManualClock) -> None:
        self._emulator = DynamicsEmulator(tls_dir=tls_dir, clock=clock).start()

    @property
    def base_url(self) -> str:
        return self._emulator.base_url

    @property
    def ca_cert(self) -> Path:
        return self._emulator.ca_cert

    @property
    def _customer(self) -> str:
        return f"/accounts({self._emulator.state.seed.account})"

    def settings(self, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(
            self.base_url,
            TIERBRIDGE_CLIENT[0],
            secrets.credential,
            tenant=TENANT_ID,
            customer=self._customer,
        )
        values["authority_host"] = self.base_url
        values["ca_bundle"] = self.ca_cert
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def reset(self) -> None:
        self._emulator.set_webhook(None, None)
        self._emulator.reset()

    def stop(self) -> None:
        self._emulator.stop()

    def seed(self, title: str) -> Seeded:
        with DynamicsAgent(self.base_url, self.ca_cert) as agent:
            created = agent.create_incident(title=title, **_customer_bind(self._customer))
        return Seeded(str(created["incidentid"]), str(created["ticketnumber"]))

    def touch(self, seeded: Seeded, text: str) -> None:
        with DynamicsAgent(self.base_url, self.ca_cert) as agent:
            agent.update_incident(seeded.id, description=text)

    def subscribe(self, url: str | None, secret: str | None) -> None:
        self._emulator.set_webhook(url, secret)

    def drain(self) -> None:
        self._emulator.drain_webhooks(5)

    def api(self) -> RawApi:
        form = {
            "grant_type": "client_credentials",
            "client_id": TIERBRIDGE_CLIENT[0],
            "client_secret": self.credential,
            "scope": f"{self.base_url}/.default",
        }
        login = RawApi(self.base_url, ca_cert=self.ca_cert)
        try:
            response = login.request("POST", f"/{TENANT_ID}/oauth2/v2.0/token", data=form)
            raise_for_status(response, "requesting a Dataverse token")
        finally:
            login.close()
        headers = {**_ODATA, "Authorization": f"Bearer {response.json()['access_token']}"}
        return RawApi(self.base_url, ca_cert=self.ca_cert, headers=headers)

    def live_env(self) -> dict[str, str]:
        return {
            _LIVE_URL: self.base_url,
            _LIVE_TENANT: TENANT_ID,
            _LIVE_CLIENT_ID: TIERBRIDGE_CLIENT[0],
            _LIVE_SECRET: self.credential,
            _LIVE_CUSTOMER: self._customer,
            _LIVE_AUTHORITY: self.base_url,
            _LIVE_CA_BUNDLE: str(self.ca_cert),
        }

    def placeholders(self) -> dict[str, str]:
        return {
            "tenant": TENANT_ID,
            "client_id": TIERBRIDGE_CLIENT[0],
            "client_secret": self.credential,
            "scope": f"{self.base_url}/.default",
            "customer": self._customer,
        }

    def expire_sessions(self) -> None:
        self._emulator.expire_tokens()

    def throttle(self, retry_after: int) -> None:
        self._emulator.inject_429(1, retry_after)

    def repeat_next_page(self) -> None:
        self._emulator.inject_repeated_next_link(1)


class _Live(LiveSystem):
    def __init__(self, env: Mapping[str, str]) -> None:
        # Imported here: only live runs need the token classes of the connector.
        from tierbridge.connectors.dynamics.auth import MsalTokenSource
        from tierbridge.connectors.dynamics.settings import DynamicsSettings
        from tierbridge.connectors.dynamics.transport import build_session

        self._url = env[_LIVE_URL].rstrip("/")
        self._tenant = env[_LIVE_TENANT]
        self._client_id = env[_LIVE_CLIENT_ID]
        self._customer = env[_LIVE_CUSTOMER]
        self._correlation = env.get(_LIVE_CORRELATION)
        self._authority = env.get(_LIVE_AUTHORITY)
        self._ca_bundle = Path(env[_LIVE_CA_BUNDLE]) if env.get(_LIVE_CA_BUNDLE) else None
        values, _wrong = self.settings(_LIVE_SECRET)
        settings = DynamicsSettings.model_validate(values)
        ca_bundle = str(self._ca_bundle) if self._ca_bundle is not None else None
        self._login = build_session(
            connector="contract-live", timeout=30.0, ca_bundle=ca_bundle, raise_for_status=False
        )
        tokens = MsalTokenSource(settings, self._login, "contract-live")
        self._api = RawApi(
            self._url,
            ca_cert=self._ca_bundle,
            headers=_ODATA,
            authorize=lambda: {"Authorization": f"Bearer {tokens.get_token(settings.scope)}"},
        )

    def settings(self, wrong_secret_env: str) -> tuple[dict[str, Any], dict[str, Any]]:
        common = {"tenant": self._tenant, "customer": self._customer}
        values = _settings(self._url, self._client_id, _LIVE_SECRET, **common)
        values["ca_bundle"] = self._ca_bundle
        if self._authority:
            values["authority_host"] = self._authority
        if self._correlation:
            values["correlation_field"] = self._correlation
        wrong = _settings(self._url, self._client_id, wrong_secret_env, **common)["auth"]
        return values, {"auth": wrong}

    def seed(self, title: str) -> Seeded:
        body = {"title": title, **_customer_bind(self._customer)}
        headers = {"Prefer": "return=representation"}
        response = self._api.request("POST", f"{_API}/incidents", json=body, headers=headers)
        raise_for_status(response, "creating a case")
        created = response.json()
        return Seeded(str(created["incidentid"]), created.get("ticketnumber"))

    def remove(self, seeded: Seeded) -> None:
        """Delete the case; this needs Delete on Case in the application user's role."""
        response = self._api.request("DELETE", f"{_API}/incidents({seeded.id})")
        if response.status_code != 404:
            raise_for_status(response, f"deleting case {seeded.id}")

    def close(self) -> None:
        self._api.close()
        self._login.close()


class DynamicsContract(ContractAdapter):
    """Cases, notes and portal comments; webhooks carry a shared value in a header."""

    system: ClassVar[str] = "dynamics"
    facts: ClassVar[SystemFacts] = SystemFacts(
        title_field="title",
        description_field="description",
        status_field="statuscode",
        status_steps=({"statuscode": "2"}, {"statuscode": "5"}),
        rejected_update={"prioritycode": "99"},
        rejection_hint="outside the valid range",
        missing_id="c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
        session_expiry=True,
    )
    live_variables: ClassVar[tuple[str, ...]] = (
        _LIVE_URL,
        _LIVE_TENANT,
        _LIVE_CLIENT_ID,
        _LIVE_SECRET,
        _LIVE_CUSTOMER,
    )
    webhook_auth_headers: ClassVar[tuple[str, ...]] = (DEFAULT_WEBHOOK_HEADER,)

    def recorded_settings(self, base_url: str, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(
            base_url,
            TIERBRIDGE_CLIENT[0],
            secrets.credential,
            tenant=_RECORDED_TENANT,
            customer=_RECORDED_CUSTOMER,
        )
        values["authority_host"] = base_url
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def credential_override(self, settings: Mapping[str, Any], env: str) -> dict[str, Any]:
        return {"auth": {**settings["auth"], "client_secret": {"env": env}}}

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """Dataverse `HttpHeader` authentication: the shared value itself, in a fixed header."""
        return {DEFAULT_WEBHOOK_HEADER: secret}

    def start_emulator(self, tls_dir: Path, clock: ManualClock) -> EmulatedSystem:
        return _Emulated(tls_dir, clock)

    def live_system(self, env: Mapping[str, str]) -> LiveSystem:
        return _Live(env)
