"""Request authentication for a ServiceNow connector: basic auth, or OAuth client credentials."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth

from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.logs import register_secret

__all__ = ["ClientCredentialsAuth", "build_auth"]

#: Refresh a token this long before its `expires_in` runs out.
_REFRESH_MARGIN_SECONDS = 60.0
#: Lifetime assumed when the token response has no `expires_in`.
_DEFAULT_LIFETIME_SECONDS = 1800.0


class ClientCredentialsAuth(AuthBase):
    """Bearer tokens from `oauth_token.do` (client-credentials grant), fetched when needed.

    The instance must allow the grant (`glide.oauth.inbound.client.credential.grant_type.enabled`)
    and map the OAuth application to the integration user. A 401 on a call drops the token,
    so the next call fetches a fresh one.
    """

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, adapter: HTTPAdapter
    ) -> None:
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._session = requests.Session()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._current_token()}"
        request.register_hook("response", self._drop_token_on_401)
        return request

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._fetch()
                self._expires_at = time.monotonic() + max(lifetime - _REFRESH_MARGIN_SECONDS, 0.0)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        response = self._session.post(self._token_url, data=self._form)
        response.raise_for_status()
        body = response.json()
        token = str(body["access_token"])
        register_secret(token)
        return token, float(body.get("expires_in") or _DEFAULT_LIFETIME_SECONDS)

    def close(self) -> None:
        """Close the token endpoint's session."""
        self._session.close()

    def _drop_token_on_401(
        self, response: requests.Response, *_args: Any, **_kwargs: Any
    ) -> requests.Response:
        if response.status_code == 401:
            with self._lock:
                self._token = None
        return response


def build_auth(settings: ServiceNowSettings, adapter: HTTPAdapter) -> AuthBase:
    """Read the configured secret and return the matching `requests` auth object."""
    auth = settings.auth
    if isinstance(auth, BasicAuth):
        password = auth.password.resolve()
        register_secret(password)
        return HTTPBasicAuth(auth.username, password)

    secret = auth.client_secret.resolve()
    register_secret(secret)
    token_url = (
        str(auth.token_url) if auth.token_url is not None else f"{settings.url}/oauth_token.do"
    )
    return ClientCredentialsAuth(token_url, auth.client_id, secret, adapter)
