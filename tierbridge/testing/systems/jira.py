"""Contract adapter of the Jira Service Management connector (Jira Cloud, API token)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.adf import text_to_adf
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem, LiveSystem, SecretEnv
from tierbridge.testing.clock import ManualClock
from tierbridge.testing.live import raise_for_status
from tierbridge.testing.rawapi import RawApi
from tierbridge.testing.target import Seeded, SystemFacts

__all__ = ["JiraContract"]

_SERVICE_USER = "svc.tierbridge@example.com"
_AGENT = "agent.l2@example.com"
_REQUESTS = "/rest/servicedeskapi/request"
_ISSUES = "/rest/api/3/issue"
_SIGNATURE_HEADER = "X-Hub-Signature"
_MAPPING = Path("mappings/jira.yaml")
_DESK = {"project": "L2", "service_desk_id": "1", "request_type_id": "10"}

_LIVE_URL = "TIERBRIDGE_LIVE_JIRA_URL"
_LIVE_EMAIL = "TIERBRIDGE_LIVE_JIRA_EMAIL"
_LIVE_TOKEN = "TIERBRIDGE_LIVE_JIRA_TOKEN"  # noqa: S105 - a variable name, not a secret
_LIVE_PROJECT = "TIERBRIDGE_LIVE_JIRA_PROJECT"
_LIVE_DESK = "TIERBRIDGE_LIVE_JIRA_SERVICE_DESK_ID"
_LIVE_REQUEST_TYPE = "TIERBRIDGE_LIVE_JIRA_REQUEST_TYPE_ID"
#: Optional: the text custom field that stores correlation keys (customfield_10060 if unset).
_LIVE_CORRELATION = "TIERBRIDGE_LIVE_JIRA_CORRELATION_FIELD"
#: Optional: PEM bundle of a private CA that signed the site's certificate.
_LIVE_CA_BUNDLE = "TIERBRIDGE_LIVE_JIRA_CA_BUNDLE"


def _settings(base_url: str, email: str, credential_env: str) -> dict[str, Any]:
    return {
        "system": "jira",
        "base_url": base_url,
        "mapping": _MAPPING,
        "auth": {"type": "basic", "username": email, "password": {"env": credential_env}},
        "integration_user": email,
        "timeout_seconds": 10,
        "page_size": 2,
        **_DESK,
    }


def _request_body(desk: Mapping[str, Any], title: str) -> dict[str, Any]:
    return {
        "serviceDeskId": desk["service_desk_id"],
        "requestTypeId": desk["request_type_id"],
        "requestFieldValues": {"summary": title},
    }


class _Emulated(EmulatedSystem):
    credential = DEFAULT_TOKENS[_SERVICE_USER]
    webhook_secret = "jira-contract-webhook-secret"  # noqa: S105 - a test value

    def __init__(self, tls_dir: Path, clock: ManualClock) -> None:
        self._emulator = JiraEmulator(tls_dir=tls_dir, clock=clock).start()

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
        self._emulator.drain_webhooks(5)
        self._emulator.reset()

    def stop(self) -> None:
        self._emulator.stop()

    def _agent(self) -> RawApi:
        basic = (_AGENT, DEFAULT_TOKENS[_AGENT])
        return RawApi(self.base_url, ca_cert=self.ca_cert, basic=basic)

    def seed(self, title: str) -> Seeded:
        agent = self._agent()
        try:
            response = agent.request("POST", _REQUESTS, json=_request_body(_DESK, title))
            response.raise_for_status()
        finally:
            agent.close()
        created = response.json()
        return Seeded(str(created["issueId"]), str(created["issueKey"]))

    def touch(self, seeded: Seeded, text: str) -> None:
        agent = self._agent()
        try:
            body = {"fields": {"description": text_to_adf(text)}}
            agent.request("PUT", f"{_ISSUES}/{seeded.id}", json=body).raise_for_status()
        finally:
            agent.close()

    def subscribe(self, url: str | None, secret: str | None) -> None:
        self._emulator.set_webhook(url, secret)

    def drain(self) -> None:
        self._emulator.drain_webhooks(5)

    def api(self) -> RawApi:
        basic = (_SERVICE_USER, self.credential)
        return RawApi(self.base_url, ca_cert=self.ca_cert, basic=basic)

    def live_env(self) -> dict[str, str]:
        return {
            _LIVE_URL: self.base_url,
            _LIVE_EMAIL: _SERVICE_USER,
            _LIVE_TOKEN: self.credential,
            _LIVE_PROJECT: str(_DESK["project"]),
            _LIVE_DESK: str(_DESK["service_desk_id"]),
            _LIVE_REQUEST_TYPE: str(_DESK["request_type_id"]),
            _LIVE_CA_BUNDLE: str(self.ca_cert),
        }

    def throttle(self, retry_after: int) -> None:
        self._emulator.inject_429(1, retry_after)

    def fail_next(self, status: int) -> None:
        self._emulator.inject_error(status, 1)


class _Live(LiveSystem):
    def __init__(self, env: Mapping[str, str]) -> None:
        self._url = env[_LIVE_URL].rstrip("/")
        self._email = env[_LIVE_EMAIL]
        self._desk: dict[str, Any] = {
            "project": env[_LIVE_PROJECT],
            "service_desk_id": env[_LIVE_DESK],
            "request_type_id": env[_LIVE_REQUEST_TYPE],
        }
        if env.get(_LIVE_CORRELATION):
            self._desk["correlation_field"] = env[_LIVE_CORRELATION]
        self._ca_bundle = Path(env[_LIVE_CA_BUNDLE]) if env.get(_LIVE_CA_BUNDLE) else None
        basic = (self._email, env[_LIVE_TOKEN])
        self._api = RawApi(self._url, ca_cert=self._ca_bundle, basic=basic)

    def settings(self, wrong_secret_env: str) -> tuple[dict[str, Any], dict[str, Any]]:
        values = {**_settings(self._url, self._email, _LIVE_TOKEN), **self._desk}
        values["ca_bundle"] = self._ca_bundle
        wrong = _settings(self._url, self._email, wrong_secret_env)["auth"]
        return values, {"auth": wrong}

    def seed(self, title: str) -> Seeded:
        response = self._api.request("POST", _REQUESTS, json=_request_body(self._desk, title))
        raise_for_status(response, "raising a JSM request")
        created = response.json()
        return Seeded(str(created["issueId"]), str(created["issueKey"]))

    def remove(self, seeded: Seeded) -> None:
        """Delete the issue; this needs the project's Delete Issues permission."""
        response = self._api.request("DELETE", f"{_ISSUES}/{seeded.id}")
        if response.status_code != 404:
            raise_for_status(response, f"deleting issue {seeded.id}")

    def close(self) -> None:
        self._api.close()


class JiraContract(ContractAdapter):
    """Issues of one JSM project; webhooks are admin webhooks signed with `X-Hub-Signature`."""

    system: ClassVar[str] = "jira"
    facts: ClassVar[SystemFacts] = SystemFacts(
        title_field="summary",
        description_field="description",
        status_field="status",
        status_steps=({"status": "In Progress"}, {"status": "Resolved"}),
        rejected_update={"priority": "Urgent"},
        rejection_hint="priority",
        missing_id="99999",
        # JQL compares `updated` to the minute, in the integration account's time zone.
        cursor_precision=timedelta(minutes=1),
        signed_webhooks=True,
    )
    live_variables: ClassVar[tuple[str, ...]] = (
        _LIVE_URL,
        _LIVE_EMAIL,
        _LIVE_TOKEN,
        _LIVE_PROJECT,
        _LIVE_DESK,
        _LIVE_REQUEST_TYPE,
    )
    webhook_auth_headers: ClassVar[tuple[str, ...]] = (_SIGNATURE_HEADER,)

    def recorded_settings(self, base_url: str, secrets: SecretEnv) -> dict[str, Any]:
        values = _settings(base_url, _SERVICE_USER, secrets.credential)
        values["webhook"] = {"secret": {"env": secrets.webhook}}
        return values

    def credential_override(self, settings: Mapping[str, Any], env: str) -> dict[str, Any]:
        return {"auth": {**settings["auth"], "password": {"env": env}}}

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        """Sign as a Jira admin webhook: `sha256=` and the hex HMAC-SHA256 of the raw body."""
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return {_SIGNATURE_HEADER: f"sha256={digest}"}

    def start_emulator(self, tls_dir: Path, clock: ManualClock) -> EmulatedSystem:
        return _Emulated(tls_dir, clock)

    def live_system(self, env: Mapping[str, str]) -> LiveSystem:
        return _Live(env)
