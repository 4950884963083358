"""Access tokens for the Web API: MSAL client credentials behind a `get_token(scope)` seam.

`TokenSource` is the seam: anything with `get_token(scope) -> str` and `invalidate()` can
stand in for MSAL (azure-identity's managed identity, a fixed token in tests).
`MsalTokenSource` builds its `ConfidentialClientApplication` on first use, because MSAL
fetches the tenant's discovery document when it is constructed. MSAL caches the token and
requests a new one shortly before it expires. A 401 from the Web API drops the cached
token, so the next call requests a fresh one.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import msal
import requests
from requests.auth import AuthBase

from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.core.errors import AuthenticationError, RetryableError
from tierbridge.core.logs import register_secret

__all__ = ["BearerAuth", "MsalTokenSource", "TokenSource"]

#: Entra ID errors that a retry cannot fix: wrong client, secret, tenant or scope.
_PERMANENT_ERRORS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_scope", "invalid_request", "invalid_grant"}
)


class TokenSource(Protocol):
    """A source of bearer tokens per scope; `invalidate` drops the cached ones."""

    def get_token(self, scope: str) -> str: ...

    def invalidate(self) -> None: ...


class MsalTokenSource:
    """Client-credentials tokens from Microsoft Entra ID (or the emulator) through MSAL.

    Instance discovery is off, so the authority host is used as configured; MSAL still
    requires it to be https. `session` carries timeouts, the CA bundle and logging.
    """

    def __init__(
        self, settings: DynamicsSettings, session: requests.Session, connector: str
    ) -> None:
        self._settings = settings
        self._session = session
        self._connector = connector
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def _where(self) -> dict[str, Any]:
        return {"connector": self._connector, "operation": "get_token", "record": None}

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                secret = self._settings.auth.client_secret.resolve()
                register_secret(secret)
                try:
                    self._app = msal.ConfidentialClientApplication(
                        self._settings.auth.client_id,
                        client_credential=secret,
                        authority=self._settings.authority,
                        instance_discovery=False,
                        http_client=self._session,
                    )
                except ValueError as exc:
                    msg = (
                        f"tenant discovery at {self._settings.authority} failed; "
                        "check tenant_id and authority_host"
                    )
                    raise AuthenticationError(msg, **self._where()) from exc
                except requests.RequestException as exc:
                    msg = f"tenant discovery failed ({type(exc).__name__}); check authority_host and the network path"
                    raise RetryableError(msg, **self._where()) from exc
            return self._app

    def get_token(self, scope: str) -> str:
        """Return a valid access token for `scope`, from MSAL's cache or a new token request."""
        app = self._application()
        try:
            result: dict[str, Any] = app.acquire_token_for_client([scope])
        except requests.RequestException as exc:
            msg = f"token request failed ({type(exc).__name__}); check authority_host and the network path"
            raise RetryableError(msg, **self._where()) from exc

        token = result.get("access_token")
        if isinstance(token, str) and token:
            register_secret(token)
            return token
        error = str(result.get("error") or "unknown_error")
        if error in _PERMANENT_ERRORS:
            msg = (
                f"Entra ID refused the token request ({error}); check client_id, client_secret, "
                "tenant_id, and that the app may request the scope of base_url"
            )
            raise AuthenticationError(msg, **self._where())
        raise RetryableError(
            f"Entra ID did not issue a token ({error}); retry later", **self._where()
        )

    def invalidate(self) -> None:
        """Drop cached access tokens, so the next `get_token` requests a new one."""
        with self._lock:
            app = self._app
        if app is None:
            return
        cache = app.token_cache
        for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)


class BearerAuth(AuthBase):
    """Put `Authorization: Bearer <token>` on each request.

    The client's `replay_on_401` hook invalidates a rejected token and sends an idempotent
    request again with a new one.
    """

    def __init__(self, tokens: TokenSource, scope: str) -> None:
        self.tokens = tokens
        self._scope = scope

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.tokens.get_token(self._scope)}"
        return request
