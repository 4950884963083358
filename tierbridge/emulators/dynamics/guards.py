"""The Microsoft Entra ID side (discovery document, client-credentials tokens), bearer checks
and injected service-protection throttling.

MSAL first reads `/{tenant}/v2.0/.well-known/openid-configuration` and then posts to the
`token_endpoint` it names, so both live on the emulator's host. A token is good only for the
scope `<base url>/.default`, and each OAuth client maps to an application user (a systemuser
row) as whom its requests run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException

from tierbridge.emulators.dynamics.envelope import odata_error

__all__ = ["THROTTLE_CODES", "Identity", "OAuthClient", "Throttle"]

#: Lifetime of an access token in seconds; Entra ID issues tokens for 60 to 90 minutes.
TOKEN_LIFETIME_SECONDS = 3599

#: Service-protection error codes and their messages, per limit.
THROTTLE_CODES: dict[str, str] = {
    "0x80072322": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
    "0x80072321": "Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
    "0x80072326": "Number of concurrent requests exceeded the limit of 52.",
}


@dataclass(frozen=True)
class OAuthClient:
    """An app registration for the client-credentials grant and its application user."""

    secret: str
    user_id: str


def _aad_error(status: int, error: str, description: str) -> HTTPException:
    return HTTPException(status, detail={"error": error, "error_description": description})


class Identity:
    """Issue tokens to registered clients and check `Authorization: Bearer` headers."""

    def __init__(
        self,
        tenant_id: str,
        clients: Mapping[str, OAuthClient],
        clock: Callable[[], datetime],
        new_token: Callable[[], str],
    ) -> None:
        self.tenant_id = tenant_id
        self.clients = dict(clients)
        self._clock = clock
        self._new_token = new_token
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _check_tenant(self, tenant: str) -> None:
        if tenant != self.tenant_id:
            raise _aad_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")

    def openid_configuration(self, base_url: str, tenant: str) -> dict[str, Any]:
        """Return the tenant's discovery document, naming endpoints on `base_url`."""
        self._check_tenant(tenant)
        root = f"{base_url}/{tenant}"
        return {
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        }

    def issue_token(self, base_url: str, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Issue a token for a client-credentials request, or raise Entra ID's error."""
        self._check_tenant(tenant)
        if form.get("grant_type") != "client_credentials":
            raise _aad_error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
            )
        client_id = form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None:
            description = f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory."
            raise _aad_error(400, "unauthorized_client", description)
        if form.get("client_secret") != client.secret:
            raise _aad_error(
                401, "invalid_client", "AADSTS7000215: Invalid client secret provided."
            )
        if form.get("scope") != f"{base_url}/.default":
            description = (
                f"AADSTS500011: The resource principal named {form.get('scope')} was not found."
            )
            raise _aad_error(400, "invalid_scope", description)

        token = self._new_token()
        with self._lock:
            self._tokens[token] = (
                client.user_id,
                self._clock().timestamp() + TOKEN_LIFETIME_SECONDS,
            )
        return {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "ext_expires_in": TOKEN_LIFETIME_SECONDS,
            "access_token": token,
        }

    def authenticate(self, header: str | None, base_url: str) -> str:
        """Return the systemuserid a bearer token acts as; raise the 401 otherwise."""
        scheme, _, token = (header or "").partition(" ")
        with self._lock:
            found = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None or found[1] <= self._clock().timestamp():
            challenge = (
                f"Bearer authorization_uri={base_url}/{self.tenant_id}/oauth2/authorize, "
                f"resource_id={base_url}/"
            )
            raise HTTPException(401, detail="", headers={"WWW-Authenticate": challenge})
        return found[0]

    def expire_tokens(self) -> None:
        """Forget every issued token, as if all had expired."""
        with self._lock:
            self._tokens.clear()


class Throttle:
    """Reject the next `count` authenticated requests with 429, as service protection does."""

    def __init__(self) -> None:
        self._remaining = 0
        self._retry_after = 1
        self._code = "0x80072322"
        self._lock = threading.Lock()

    def inject(self, count: int, retry_after: int, code: str = "0x80072322") -> None:
        """Make the next `count` requests fail with `Retry-After: retry_after` and `code`."""
        if code not in THROTTLE_CODES:
            raise ValueError(
                f"unknown service-protection code {code!r}; use one of {sorted(THROTTLE_CODES)}"
            )
        with self._lock:
            self._remaining = count
            self._retry_after = retry_after
            self._code = code

    def check(self) -> None:
        """Raise the 429 error if an injected rejection is pending."""
        with self._lock:
            if self._remaining <= 0:
                return
            self._remaining -= 1
            retry_after, code = self._retry_after, self._code
        raise odata_error(
            429, code, THROTTLE_CODES[code], headers={"Retry-After": str(retry_after)}
        )
