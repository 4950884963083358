"""Authentication (basic and OAuth bearer) and injected rate limiting for the emulator."""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fastapi import HTTPException

from tierbridge.emulators.servicenow.envelope import api_error

__all__ = ["RATE_LIMIT", "Authenticator", "Throttle"]

#: Lifetime of an OAuth access token; instances default to about 30 minutes.
TOKEN_LIFETIME_SECONDS = 1799
#: Requests per hour that the emulated rate-limit rule reports in `X-RateLimit-Limit`.
RATE_LIMIT = "500"
_RATE_LIMIT = RATE_LIMIT


def _unauthenticated() -> HTTPException:
    return api_error(
        401,
        "User Not Authenticated",
        "Required to provide Auth information",
        headers={"WWW-Authenticate": 'BASIC realm="Service-now"'},
    )


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth application registered for client credentials, mapped to a user_name."""

    secret: str
    user: str


class Authenticator:
    """Check `Authorization` headers against user passwords and issued bearer tokens."""

    def __init__(
        self,
        passwords: Mapping[str, str],
        oauth_clients: Mapping[str, OAuthClient],
        clock: Callable[[], datetime],
        new_token: Callable[[], str],
    ) -> None:
        self._passwords = dict(passwords)
        self._clients = dict(oauth_clients)
        self._clock = clock
        self._new_token = new_token
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def authenticate(self, header: str | None) -> str:
        """Return the user_name a header authenticates; raise the 401 error otherwise."""
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() == "basic":
            return self._basic(credentials)
        if scheme.lower() == "bearer":
            return self._bearer(credentials.strip())
        raise _unauthenticated()

    def _basic(self, credentials: str) -> str:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthenticated() from None
        user, _, password = decoded.partition(":")
        if user not in self._passwords or self._passwords[user] != password:
            raise _unauthenticated()
        return user

    def _bearer(self, token: str) -> str:
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= self._clock().timestamp():
            raise _unauthenticated()
        return found[0]

    def issue_token(self, form: Mapping[str, str]) -> dict[str, object]:
        """Issue a token for a client-credentials request; raise 401 for a bad client or grant."""
        client = self._clients.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials" or client is None:
            raise HTTPException(
                401, detail={"error": "access_denied", "error_description": "access_denied"}
            )
        if client.secret != form.get("client_secret"):
            raise HTTPException(
                401, detail={"error": "access_denied", "error_description": "access_denied"}
            )

        token = self._new_token()
        with self._lock:
            self._tokens[token] = (client.user, self._clock().timestamp() + TOKEN_LIFETIME_SECONDS)
        return {
            "access_token": token,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
        }


class Throttle:
    """Reject the next `count` authenticated requests with 429, as a rate-limit rule would."""

    def __init__(self, clock: Callable[[], datetime], rule_id: str) -> None:
        self._clock = clock
        self._rule_id = rule_id
        self._remaining = 0
        self._retry_after = 1
        self._lock = threading.Lock()

    def inject(self, count: int, retry_after: int) -> None:
        """Make the next `count` requests fail with `Retry-After: retry_after`."""
        with self._lock:
            self._remaining = count
            self._retry_after = retry_after

    def check(self) -> None:
        """Raise the 429 error if an injected rejection is pending."""
        with self._lock:
            if self._remaining <= 0:
                return
            self._remaining -= 1
            retry_after = self._retry_after
        reset = int(self._clock().timestamp()) + retry_after
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": _RATE_LIMIT,
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Rule": self._rule_id,
        }
        detail = f"Rate limit of {_RATE_LIMIT} requests per hour for Table API exceeded"
        raise api_error(429, "Rate limit exceeded", detail, headers=headers)
