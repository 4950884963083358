"""Contract adapter of the ServiceNow connector (incident table, basic auth)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from tierbridge.emulators._faults import FaultPlan
from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS, ServiceNowAgent, ServiceNowEmulator
from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem, LiveSystem, SecretEnv
from tierbridge.testing.clock import ManualClock
from tierbridge.testing.live import raise_for_status
from tierbridge.testing.rawapi import RawApi
from tierbridge.testing.target import Seeded, SystemFacts

__all__ = ["ServiceNowContract"]

_SERVICE_USER = "svc.tierbridge"
_AGENT = "agent.l1"
_TABLE = "/api/now/table/incident"
_SIGNATURE_HEADER = "X-Snow-Signature"
_MAPPING = Path("mappings/servicenow.yaml")
#: The lowest impact and urgency, so that a seeded incident gets priority 5 (Planning).
_QUIET = {"impact": "3", "urgency": "3"}
_CANCELED = "8"

_LIVE_URL = "TIERBRIDGE_LIVE_SNOW_URL"
_LIVE_USER = "TIERBRIDGE_LIVE_SNOW_USER"
_LIVE_PASSWORD = "TIERBRIDGE_LIVE_SNOW_PASSWORD"  # noqa: S105 - a variable name, not a secret
#: Optional: PEM bundle of a private CA that signed the instance's certificate.
_LIVE_CA_BUNDLE = "TIERBRIDGE_LIVE_SNOW_CA_BUNDLE"


def _settings(base_url: str, username: str, credential_env: str) -> dict[str, Any]:
    return {
        "system": "servicenow",
        "base_url": base_url,
        "mapping": _MAPPING,
        "auth": {"type": "basic", "username": username, "password": {"env": credential_env}},
        "integration_user": username,
        "timeout_seconds": 10,
        "page_size": 2,
    }


class _Emulated(EmulatedSystem):
    credential = DEFAULT_PASSWORDS[_SERVICE_USER]
    webhook_secret = "snow-contract-webhook-key"  # noqa: S105 - a test value

    def __init__(self, tls_dir: Path, clock: ManualClock) -> None:
        self._emulator = ServiceNowEmulator(tls_dir=tls_dir, clock=clock).start()

    @property
    def base_url(self) -> str:
        return self._emulator.base_url

    @property
    def ca_cert(self) -> Path:
        return self._emulator.ca_cert

    def settings(self, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(self.base_url, _SERVICE_USER, secrets.credential)
        values["ca_bundle"] = self.ca_cert
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def reset(self) -> None:
        self._emulator.set_webhook(None, None)
        self._emulator.reset()

    def stop(self) -> None:
        self._emulator.stop()

    def _agent(self) -> ServiceNowAgent:
        return ServiceNowAgent(self.base_url, self.ca_cert, _AGENT, DEFAULT_PASSWORDS[_AGENT])

    def seed(self, title: str) -> Seeded:
        with self._agent() as agent:
            created = agent.create_incident(short_description=title, **_QUIET)
        return Seeded(str(created["sys_id"]), str(created["number"]))

    def touch(self, seeded: Seeded, text: str) -> None:
        with self._agent() as agent:
            agent.update_incident(seeded.id, description=text)

    def subscribe(self, url: str | None, secret: str | None) -> None:
        self._emulator.set_webhook(url, secret)

    def drain(self) -> None:
        self._emulator.drain_webhooks(5)

    def api(self) -> RawApi:
        basic = (_SERVICE_USER, self.credential)
        headers = {"Accept": "application/json"}
        return RawApi(self.base_url, ca_cert=self.ca_cert, basic=basic, headers=headers)

    def live_env(self) -> dict[str, str]:
        return {
            _LIVE_URL: self.base_url,
            _LIVE_USER: _SERVICE_USER,
            _LIVE_PASSWORD: self.credential,
            _LIVE_CA_BUNDLE: str(self.ca_cert),
        }

    def throttle(self, retry_after: int) -> None:
        self._emulator.inject_429(1, retry_after)

    def fail_next(self, status: int) -> None:
        # Every request fails from now on; the reset before the next test ends it.
        self._emulator.faults.configure(FaultPlan(error_rate=1.0, error_statuses=(status,)))


class _Live(LiveSystem):
    def __init__(self, env: Mapping[str, str]) -> None:
        self._url = env[_LIVE_URL].rstrip("/")
        self._user = env[_LIVE_USER]
        self._ca_bundle = Path(env[_LIVE_CA_BUNDLE]) if env.get(_LIVE_CA_BUNDLE) else None
        basic = (self._user, env[_LIVE_PASSWORD])
        headers = {"Accept": "application/json"}
        self._api = RawApi(self._url, ca_cert=self._ca_bundle, basic=basic, headers=headers)

    def settings(self, wrong_secret_env: str) -> tuple[dict[str, Any], dict[str, Any]]:
        values = _settings(self._url, self._user, _LIVE_PASSWORD)
        values["ca_bundle"] = self._ca_bundle
        wrong = _settings(self._url, self._user, wrong_secret_env)["auth"]
        return values, {"auth": wrong}

    def seed(self, title: str) -> Seeded:
        response = self._api.request("POST", _TABLE, json={"short_description": title, **_QUIET})
        raise_for_status(response, "creating an incident")
        created = response.json()["result"]
        return Seeded(str(created["sys_id"]), str(created["number"]))

    def remove(self, seeded: Seeded) -> None:
        """Delete the incident; without delete rights, cancel it (state 8) instead."""
        response = self._api.request("DELETE", f"{_TABLE}/{seeded.id}")
        if response.status_code in (401, 403):
            response = self._api.request(
                "PATCH", f"{_TABLE}/{seeded.id}", json={"state": _CANCELED}
            )
        if response.status_code != 404:
            raise_for_status(response, f"removing incident {seeded.id}")

    def close(self) -> None:
        self._api.close()


class ServiceNowContract(ContractAdapter):
    """Incidents through the Table API; webhooks are the business rule's signed notices."""

    system: ClassVar[str] = "servicenow"
    facts: ClassVar[SystemFacts] = SystemFacts(
        title_field="short_description",
        description_field="description",
        status_field="state",
        status_steps=(
            {"state": "2"},
            {"state": "6", "close_code": "Solution provided", "close_notes": "Fixed."},
        ),
        rejected_update={"state": "6"},
        rejection_hint="Data Policy Exception",
        missing_id="0123456789abcdef0123456789abcdef",
        signed_webhooks=True,
    )
    live_variables: ClassVar[tuple[str, ...]] = (_LIVE_URL, _LIVE_USER, _LIVE_PASSWORD)
    webhook_auth_headers: ClassVar[tuple[str, ...]] = (_SIGNATURE_HEADER,)

    def recorded_settings(self, base_url: str, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(base_url, _SERVICE_USER, secrets.credential)
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def credential_override(self, settings: Mapping[str, Any], env: str) -> dict[str, Any]:
        auth = {**settings["auth"], "password": {"env": env}}
        return {"auth": auth}

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """Sign as the business rule does: base64 HMAC-SHA256 keyed with the secret's bytes."""
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
        return {_SIGNATURE_HEADER: base64.b64encode(digest).decode("ascii")}

    def start_emulator(self, tls_dir: Path, clock: ManualClock) -> EmulatedSystem:
        return _Emulated(tls_dir, clock)

    def live_system(self, env: Mapping[str, str]) -> LiveSystem:
        return _Live(env)
