"""OAuth client credentials, bearer-token checks and the org's API request allocation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException

from tierbridge.emulators.salesforce.errors import api_error
from tierbridge.emulators.salesforce.state import SalesforceState

__all__ = ["DEFAULT_ALLOCATION", "ApiLimits", "Authenticator", "OAuthClient"]

#: Daily API requests of a Developer Edition org.
DEFAULT_ALLOCATION = 15000
#: Session lifetime; orgs default to two hours of inactivity.
SESSION_SECONDS = 7200


@dataclass(frozen=True)
class OAuthClient:
    """A connected app enabled for client credentials, running as one Username."""

    secret: str
    username: str


def _oauth_error(code: str, description: str) -> HTTPException:
    return HTTPException(400, detail={"error": code, "error_description": description})


def _invalid_session() -> HTTPException:
    return api_error(401, "INVALID_SESSION_ID", "Session expired or invalid")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


class Authenticator:
    """Issue access tokens to registered clients and map bearer tokens back to user ids."""

    def __init__(
        self,
        state: SalesforceState,
        clients: Mapping[str, OAuthClient],
        base_url: Callable[[], str],
    ) -> None:
        self._state = state
        self._clients = dict(clients)
        self._base_url = base_url
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def issue_token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """Return a token response; raise the OAuth 400 error for a bad grant or client."""
        if form.get("grant_type") != "client_credentials":
            raise _oauth_error("unsupported_grant_type", "grant type not supported")
        client_id, secret = _basic_credentials(authorization) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret, secret):
            raise _oauth_error("invalid_client", "invalid client credentials")
        user = self._state.user_by_username(client.username)
        if user is None:
            raise _oauth_error("invalid_grant", "no client credentials user enabled")

        org = self._state.org_id
        token = f"{org[:15]}!AR{secrets.token_urlsafe(40)}"
        with self._lock:
            self._tokens[token] = (user["Id"], self._state.clock())
        base = self._base_url()
        identity = f"{base}/id/{org}/{user['Id']}"
        issued = str(int(self._state.clock().timestamp() * 1000))
        digest = hmac.new(client.secret.encode(), (identity + issued).encode(), hashlib.sha256)
        return {
            "access_token": token,
            "signature": base64.b64encode(digest.digest()).decode("ascii"),
            "scope": "api",
            "instance_url": base,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued,
        }

    def authenticate(self, header: str | None) -> str:
        """Return the user id a bearer token belongs to; raise 401 INVALID_SESSION_ID otherwise."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            raise _invalid_session()
        with self._lock:
            found = self._tokens.get(token.strip())
        if found is None:
            raise _invalid_session()
        user_id, issued = found
        if (self._state.clock() - issued).total_seconds() > SESSION_SECONDS:
            raise _invalid_session()
        return user_id

    def expire_sessions(self) -> None:
        """Invalidate every token issued so far, as a session timeout or logout does."""
        with self._lock:
            self._tokens.clear()


class ApiLimits:
    """Count API requests against the org's allocation and reject them once it is spent."""

    def __init__(self, allocation: int = DEFAULT_ALLOCATION) -> None:
        #: Requests allowed in the rolling 24 hours; tests may lower it.
        self.allocation = allocation
        self._initial_allocation = allocation
        self.used = 0
        self._refusals = 0
        self._lock = threading.Lock()

    def inject(self, count: int) -> None:
        """Reject the next `count` authenticated requests with REQUEST_LIMIT_EXCEEDED."""
        with self._lock:
            self._refusals = count

    def reset(self) -> None:
        """Start a new 24-hour window at the first allocation, nothing used or injected."""
        with self._lock:
            self.allocation = self._initial_allocation
            self.used = 0
            self._refusals = 0

    def admit(self) -> None:
        """Count one request; raise 403 REQUEST_LIMIT_EXCEEDED when it is rejected."""
        with self._lock:
            refused = self._refusals > 0 or self.used >= self.allocation
            if self._refusals > 0:
                self._refusals -= 1
            if not refused:
                self.used += 1
        if refused:
            raise api_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    def header(self) -> str:
        """Return the Sforce-Limit-Info value, `api-usage=used/allocation`."""
        with self._lock:
            return f"api-usage={self.used}/{self.allocation}"
