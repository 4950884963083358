"""Plain authenticated HTTP to one instance, bypassing the connector under test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

__all__ = ["RawApi"]

_TIMEOUT_SECONDS = 30.0


class RawApi:
    """A `requests` session for one base URL that trusts `ca_cert` and authenticates each call.

    `authorize` returns the headers that authenticate a request (a bearer token, say); basic
    credentials go in `basic` instead. Environment proxies and CA bundles are ignored, so
    requests reach exactly `base_url`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ca_cert: Path | None = None,
        basic: tuple[str, str] | None = None,
        authorize: Callable[[], Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._verify: str | bool = str(ca_cert) if ca_cert is not None else True
        self._authorize = authorize
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = basic
        self.session.headers.update(headers or {})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request; `path` is absolute or relative to `base_url`. Errors are returned."""
        url = path if path.startswith("https://") else f"{self.base_url}{path}"
        headers = dict(kwargs.pop("headers", None) or {})
        if self._authorize is not None:
            headers.update(self._authorize())
        return self.session.request(
            method, url, headers=headers, verify=self._verify, timeout=_TIMEOUT_SECONDS, **kwargs
        )

    def close(self) -> None:
        """Close the session."""
        self.session.close()
