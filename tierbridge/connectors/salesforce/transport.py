"""The HTTP session every call of one Salesforce connector uses.

Its adapter applies `timeout_seconds` and the CA bundle to each request, because
simple-salesforce sets no timeout and `REQUESTS_CA_BUNDLE` would override a session-level
`verify`. It makes no retries. It logs one `api_call` line per request with a path template
instead of the URL, because query strings carry SOQL, which may quote e-mail addresses. It
keeps the last `Sforce-Limit-Info` header. Every request, token requests included, passes
the connector's `Limiter`, which holds calls back after REQUEST_LIMIT_EXCEEDED and paces
them as the allocation's usage nears `rate_limit.allocation_ceiling`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter

from tierbridge.core.limits import Limiter

__all__ = ["LimitInfo", "LimitTracker", "build_session", "parse_limit_info", "path_template"]

_log = structlog.get_logger(__name__)
_TEMPLATES = (
    (re.compile(r"/(query|queryAll)/[^/]+$"), r"/\1/{locator}"),
    (re.compile(r"(/sobjects/[^/]+)/[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?(?=/|$)"), r"\1/{id}"),
)
_USAGE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")
#: requests' timeout: seconds, or (connect, read) seconds.
Timeout = float | tuple[float | None, float | None] | None


def path_template(url: str) -> str:
    """Return the URL's path with record ids and query locators replaced by placeholders."""
    path = urlsplit(url).path
    for pattern, replacement in _TEMPLATES:
        path = pattern.sub(replacement, path)
    return path


@dataclass(frozen=True)
class LimitInfo:
    """One `Sforce-Limit-Info` header: each `name=used/max` item, by name."""

    items: Mapping[str, tuple[int, int]]

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """Requests used and allowed in the org's rolling 24 hours, if the header gave them."""
        return self.items.get("api-usage")


def parse_limit_info(value: str) -> LimitInfo | None:
    """Parse `api-usage=18/5000; per-app-api-usage=17/250(appName=x)`, skipping unknown forms."""
    items: dict[str, tuple[int, int]] = {}
    for part in value.split(";"):
        name, _, rest = part.partition("=")
        match = _USAGE.match(rest)
        if name.strip() and match:
            items[name.strip()] = (int(match.group(1)), int(match.group(2)))
    return LimitInfo(items) if items else None


class LimitTracker:
    """The newest limit header seen by one connector, recorded by its session's adapter."""

    def __init__(self) -> None:
        self._latest: LimitInfo | None = None
        self._lock = threading.Lock()

    @property
    def latest(self) -> LimitInfo | None:
        with self._lock:
            return self._latest

    def record(self, response: requests.Response) -> None:
        header = response.headers.get("Sforce-Limit-Info")
        parsed = parse_limit_info(header) if header else None
        if parsed is not None:
            with self._lock:
                self._latest = parsed


class _OrgAdapter(HTTPAdapter):
    def __init__(
        self,
        *,
        connector: str,
        timeout: float,
        ca_bundle: str | None,
        limits: LimitTracker,
        limiter: Limiter,
    ) -> None:
        super().__init__(max_retries=0)
        self._connector = connector
        self._timeout = timeout
        self._ca_bundle = ca_bundle
        self._limits = limits
        self._limiter = limiter

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        timeout = self._timeout if timeout is None else timeout
        # Verification is never turned off: a caller's verify=False becomes True.
        verify = self._ca_bundle if self._ca_bundle is not None else (verify or True)
        path = path_template(request.url or "")
        log = _log.bind(connector=self._connector, method=request.method, path=path)
        with self._limiter.permit(operation=f"{request.method} {path}"):
            started = time.perf_counter()
            try:
                response: requests.Response = super().send(
                    request,
                    stream=stream,
                    timeout=timeout,
                    verify=verify,
                    cert=cert,
                    proxies=proxies,
                )
            except requests.RequestException as exc:
                log.info(
                    "api_call", status=None, duration_ms=_ms(started), error=type(exc).__name__
                )
                raise
            # Inside the permit: a request waiting for it must see this answer's throttle.
            log.info("api_call", status=response.status_code, duration_ms=_ms(started))
            self._limits.record(response)
            body = response.content if response.status_code >= 400 and not stream else b""
            self._limiter.observe(response.status_code, response.headers, body)
        return response


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def build_session(
    *,
    connector: str,
    timeout: float,
    ca_bundle: str | None,
    limits: LimitTracker,
    limiter: Limiter,
) -> requests.Session:
    """Build the session for one connector's calls, token requests included."""
    adapter = _OrgAdapter(
        connector=connector, timeout=timeout, ca_bundle=ca_bundle, limits=limits, limiter=limiter
    )
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
    return session
