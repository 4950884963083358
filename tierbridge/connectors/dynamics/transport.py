"""HTTP sessions of a Dynamics connector: timeouts, CA bundle, concurrency cap and call logs.

Two sessions share these rules. The token session serves MSAL (tenant discovery and the
token endpoint) and leaves error statuses to MSAL. The API session serves the Web API,
takes one of `max_concurrent_requests` slots per call and raises `requests.HTTPError` for
any status >= 400 so that `translate.py` gets the status, the headers and the error body.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter

__all__ = ["Timeout", "build_session", "path_template"]

_log = structlog.get_logger(__name__)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUOTED = re.compile(r"'[^']*'")
#: requests' timeout: seconds, or (connect, read) seconds.
Timeout = float | tuple[float | None, float | None] | None


def path_template(url: str) -> str:
    """Return the URL's path with GUIDs and quoted keys replaced, for logs and metrics."""
    path = _GUID.sub("{id}", urlsplit(url).path)
    return _QUOTED.sub("'{name}'", path)


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


class _LoggedAdapter(HTTPAdapter):
    """Apply timeout, CA bundle and the concurrency cap; log one line per call."""

    def __init__(
        self,
        *,
        connector: str,
        timeout: float,
        ca_bundle: str | None,
        slots: threading.BoundedSemaphore | None,
    ) -> None:
        super().__init__(max_retries=0)
        self._connector = connector
        self._timeout = timeout
        self._ca_bundle = ca_bundle
        self._slots = slots

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
        verify = self._ca_bundle if self._ca_bundle is not None else verify
        log = _log.bind(
            connector=self._connector,
            method=request.method,
            path=path_template(request.url or ""),
        )
        if self._slots is not None and not self._slots.acquire(timeout=self._timeout):
            log.info("api_call", status=None, duration_ms=0, error="ConcurrencyLimit")
            msg = f"no free request slot within {self._timeout} s; raise max_concurrent_requests"
            raise requests.Timeout(msg)

        started = time.perf_counter()
        try:
            response: requests.Response = super().send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        except requests.RequestException as exc:
            log.info(
                "api_call", status=None, duration_ms=_elapsed_ms(started), error=type(exc).__name__
            )
            raise
        finally:
            if self._slots is not None:
                self._slots.release()
        log.info("api_call", status=response.status_code, duration_ms=_elapsed_ms(started))
        return response


def _raise_for_status(
    response: requests.Response, *_args: Any, **_kwargs: Any
) -> requests.Response:
    """Raise HTTPError for 4xx and 5xx; its message omits the URL, whose query may hold e-mails.

    Hooks run before requests reads the body, so the body is read here first: that returns
    the connection to the pool and keeps the error body for the translation.
    """
    if response.status_code >= 400:
        _ = response.content
        raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
    return response


def build_session(
    *,
    connector: str,
    timeout: float,
    ca_bundle: str | None,
    slots: threading.BoundedSemaphore | None = None,
    raise_for_status: bool = True,
) -> requests.Session:
    """Build a session whose every request gets the timeout, the CA bundle and a log line."""
    adapter = _LoggedAdapter(connector=connector, timeout=timeout, ca_bundle=ca_bundle, slots=slots)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if raise_for_status:
        session.hooks["response"].append(_raise_for_status)
    return session
