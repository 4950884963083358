"""Access tokens from the org's OAuth 2.0 token endpoint, client-credentials grant.

simple-salesforce's own login helpers always call `*.salesforce.com`, so the connector
fetches tokens itself and builds the client from the returned `instance_url` and token.
The grant works only on the org's My Domain host, and runs as the connected app's
"run as" user, whose id the response's identity URL (`.../id/<org id>/<user id>`) gives.

TODO: the JWT bearer grant (a signed assertion instead of a client secret) is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.settings import SalesforceSettings
from tierbridge.core.errors import AuthenticationError, PermanentError, RetryableError
from tierbridge.core.logs import register_secret

__all__ = ["AccessToken", "TokenSource"]

#: Hosts an `instance_url` may name besides the configured My Domain host.
_VENDOR_SUFFIXES = (".salesforce.com", ".force.com")


@dataclass(frozen=True)
class AccessToken:
    """A session: the bearer token, the API host, and the org and user it belongs to."""

    token: str = field(repr=False)
    instance_url: str
    organization_id: str
    user_id: str


class TokenSource:
    """Fetch access tokens for one connector. Each call of `fetch` requests a new one."""

    def __init__(self, settings: SalesforceSettings, session: requests.Session, connector: str):
        self._session = session
        self._connector = connector
        self._settings = settings
        auth = settings.auth
        self._url = (
            str(auth.token_url) if auth.token_url else f"{settings.url}/services/oauth2/token"
        )
        secret = auth.client_secret.resolve()
        register_secret(secret)
        self._form = {
            "grant_type": "client_credentials",
            "client_id": auth.client_id,
            "client_secret": secret,
        }

    def _where(self) -> dict[str, Any]:
        return {"connector": self._connector, "operation": "fetch access token"}

    def fetch(self) -> AccessToken:
        """Request a token; raise AuthenticationError if refused, RetryableError if unreachable."""
        try:
            response = self._session.post(self._url, data=self._form)
        except requests.RequestException as exc:
            msg = f"token endpoint unreachable ({type(exc).__name__}); check base_url"
            raise RetryableError(msg, **self._where()) from exc
        if response.status_code >= 500:
            msg = "token endpoint failed; retry later"
            raise RetryableError(msg, status=response.status_code, **self._where())
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            error = str(body.get("error") or "no error code")
            msg = (
                f"token request refused ({error}); check client_id and client_secret, that the "
                "connected app enables the client credentials flow with a run-as user, and that "
                "base_url is the org's My Domain URL"
            )
            raise AuthenticationError(msg, status=response.status_code, **self._where())
        token = str(body["access_token"])
        register_secret(token)
        return self._checked(token, body)

    def _checked(self, token: str, body: dict[str, Any]) -> AccessToken:
        instance_url = str(body.get("instance_url") or "").rstrip("/")
        parts = urlsplit(instance_url)
        host = parts.hostname or ""
        allowed = host == urlsplit(self._settings.url).hostname or host.endswith(_VENDOR_SUFFIXES)
        if parts.scheme != "https" or not allowed:
            msg = "the token response names an instance_url that is not https on a Salesforce host"
            raise PermanentError(msg, **self._where())

        try:
            org_id, user_id = (normalize_id(part) for part in str(body["id"]).split("/")[-2:])
        except (KeyError, ValueError) as exc:
            msg = "the token response has no identity URL ending in /<org id>/<user id>"
            raise PermanentError(msg, **self._where()) from exc
        if org_id != self._settings.organization_id:
            msg = (
                f"the token is for org {org_id}, but organization_id is "
                f"{self._settings.organization_id}; fix base_url or organization_id"
            )
            raise AuthenticationError(msg, **self._where())
        return AccessToken(token, instance_url, org_id, user_id)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
