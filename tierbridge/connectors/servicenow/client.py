"""All HTTP to one ServiceNow instance: session set-up, pysnc, error translation, Table API calls.

pysnc (`pysnc.ServiceNowClient`) builds the client and serves single reads, inserts and the
small queries (lookups, journal). Paged reads and PATCH go through the same session directly,
because pysnc hides the page boundaries and reads back a PATCH with display values.

The session carries the rules every call needs:
* an adapter that applies `timeout_seconds` and the CA bundle to every request and logs one
  line per call (pysnc sets no timeout, and `REQUESTS_CA_BUNDLE` would override a
  session-level `verify`);
* a response hook that raises `requests.HTTPError` on any status >= 400 before pysnc reads
  the response, so `translate_errors` gets the status and headers (Retry-After);
* pysnc's own retries off (`auto_retry=False`): `core.retry` owns retries;
* the connector's `Limiter` around every request, token requests included, so no request
  is sent while a 429's wait is running;
* with OAuth, a 401 drops the access token, and an idempotent request is replayed once
  with a new one (the rule is in `core.retry`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pysnc
import requests
import structlog
from requests.adapters import HTTPAdapter

from tierbridge.connectors.servicenow.auth import ClientCredentialsAuth, build_auth
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.connectors.servicenow.translate import translate_errors
from tierbridge.core.errors import NotFoundError, RetryableError
from tierbridge.core.limits import Limiter, ensure_same_host, servicenow_signal
from tierbridge.core.retry import replay_on_401

__all__ = [
    "Page",
    "TableClient",
    "build_session",
    "ensure_same_host",
    "path_template",
    "translate_errors",
]

_log = structlog.get_logger(__name__)
_SYS_ID_SEGMENT = re.compile(r"/[0-9a-f]{32}(?=/|$)")
#: Values, not display values, and references as bare sys_ids.
#: requests' timeout: seconds, or (connect, read) seconds.
Timeout = float | tuple[float | None, float | None] | None
_VALUE_PARAMS = {"sysparm_display_value": "false", "sysparm_exclude_reference_link": "true"}


def path_template(url: str) -> str:
    """Return the URL's path with sys_ids replaced by `{sys_id}`, for logs and metrics."""
    return _SYS_ID_SEGMENT.sub("/{sys_id}", urlsplit(url).path)


class _InstanceAdapter(HTTPAdapter):
    """Apply the timeout, CA bundle and rate limit to every request and log one line per call."""

    def __init__(
        self, *, connector: str, timeout: float, ca_bundle: str | None, limiter: Limiter
    ) -> None:
        super().__init__(max_retries=0)
        self._connector = connector
        self._timeout = timeout
        self._ca_bundle = ca_bundle
        self.limiter = limiter

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
        # TLS verification stays on whatever a caller passes: there is no insecure mode.
        verify = True if verify is False else verify
        path = path_template(request.url or "")
        log = _log.bind(connector=self._connector, method=request.method, path=path)

        with self.limiter.permit(operation=f"{request.method} {path}"):
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
                    "api_call",
                    status=None,
                    duration_ms=_elapsed_ms(started),
                    error=type(exc).__name__,
                )
                raise
            log.info("api_call", status=response.status_code, duration_ms=_elapsed_ms(started))
            body = response.content if response.status_code >= 400 and not stream else b""
            self.limiter.observe(response.status_code, response.headers, body)
        return response


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _raise_for_status(
    response: requests.Response, *_args: Any, **_kwargs: Any
) -> requests.Response:
    """Raise HTTPError for 4xx and 5xx; its message omits the URL, whose query may hold e-mails.

    Hooks run before requests reads the body, so the body is read here first: that returns
    the connection to the pool instead of leaving it open for as long as the error lives.
    """
    if response.status_code >= 400:
        _ = response.content
        raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
    return response


def build_session(settings: ServiceNowSettings, connector: str) -> requests.Session:
    """Build the session every call of one connector uses; credentials are read here."""
    ca_bundle = str(settings.ca_bundle) if settings.ca_bundle is not None else None
    limiter = Limiter.from_settings(connector, settings.rate_limit, servicenow_signal)
    adapter = _InstanceAdapter(
        connector=connector,
        timeout=settings.timeout_seconds,
        ca_bundle=ca_bundle,
        limiter=limiter,
    )
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(_raise_for_status)
    session.headers["Accept"] = "application/json"
    session.auth = build_auth(settings, adapter)
    if isinstance(session.auth, ClientCredentialsAuth):
        # First among the session's hooks, so the replay happens before `_raise_for_status`.
        hook = replay_on_401(session.auth, session.auth._drop_token_on_401, connector)
        session.hooks["response"].insert(0, hook)
    return session


@dataclass(frozen=True)
class Page:
    """One page of a list read: its rows and the `X-Total-Count` the instance sent with it."""

    rows: list[dict[str, str]]
    total: int


def _flatten(row: Mapping[str, Any]) -> dict[str, str]:
    """Reduce `{"value": ...}` pairs to their value, so every field is a plain string."""
    flat: dict[str, str] = {}
    for name, value in row.items():
        if isinstance(value, Mapping):
            value = value.get("value", "")
        flat[name] = "" if value is None else str(value)
    return flat


class TableClient:
    """Table API calls for one connector; each call translates its errors.

    Not thread-safe: pysnc's GlideRecord and the session are used by one thread at a time.
    """

    def __init__(self, settings: ServiceNowSettings, connector: str) -> None:
        self.connector = connector
        self.session = build_session(settings, connector)
        adapter = self.session.get_adapter(settings.url)
        assert isinstance(adapter, _InstanceAdapter)
        #: The connector's rate limiter; the ServiceNow connector uses one scope only.
        self.limiter = adapter.limiter
        self._base = settings.url
        self._page_size = settings.page_size
        self._snc = pysnc.ServiceNowClient(self._base, auth=self.session, auto_retry=False)

    @contextmanager
    def _errors(self, operation: str, table: str, sys_id: str | None = None) -> Iterator[None]:
        """Translate failures, including a response without `result` or `X-Total-Count`.

        pysnc reads both with `[]`, so their absence surfaces as KeyError.
        """
        with translate_errors(self.connector, operation, table=table, sys_id=sys_id):
            try:
                yield
            except KeyError as exc:
                msg = f"response has no {exc.args[0]!r}; check that no proxy rewrites responses"
                record = f"{table}/{sys_id}" if sys_id else table
                raise RetryableError(
                    msg, connector=self.connector, operation=operation, record=record
                ) from exc

    def _record(self, table: str, fields: Sequence[str]) -> Any:
        record = self._snc.GlideRecord(table, batch_size=self._page_size)
        record.display_value = False
        record.exclude_reference_link = True
        record.fields = list(fields)
        return record

    def get(
        self, table: str, sys_id: str, fields: Sequence[str], *, operation: str
    ) -> dict[str, str] | None:
        """Read one record by sys_id; return None if a 200 response carries no record."""
        record = self._record(table, fields)
        with self._errors(operation, table, sys_id):
            found = record.get(sys_id)
        return _flatten(record.serialize()) if found else None

    def query(
        self,
        table: str,
        encoded_query: str,
        fields: Sequence[str],
        *,
        operation: str,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, str]]:
        """Read every row matching an encoded query, following pysnc's pages to the end."""
        record = self._record(table, fields)
        record.add_encoded_query(encoded_query)
        if order_by:
            record.order_by(order_by)
        if limit:
            record.limit = limit

        rows = []
        with self._errors(operation, table):
            record.query()
            while record.next():
                rows.append(_flatten(record.serialize()))
        return rows

    def page(
        self,
        table: str,
        encoded_query: str,
        fields: Sequence[str],
        *,
        operation: str,
        limit: int,
        offset: int,
    ) -> Page:
        """Read one page of a list; the total comes from `X-Total-Count`."""
        params = {
            **_VALUE_PARAMS,
            "sysparm_query": encoded_query,
            "sysparm_fields": ",".join(fields),
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
        }
        with self._errors(operation, table):
            response = self.session.get(f"{self._base}/api/now/table/{table}", params=params)
            rows = [_flatten(row) for row in response.json()["result"]]
        total = response.headers.get("X-Total-Count")
        if total is None or not total.isdigit():
            msg = "the list response has no X-Total-Count header; check that no proxy strips it"
            raise RetryableError(msg, connector=self.connector, operation=operation, record=table)
        return Page(rows, int(total))

    def insert(self, table: str, values: Mapping[str, str], *, operation: str) -> dict[str, str]:
        """Insert one record and return it as the instance stored it (POST response)."""
        record = self._snc.GlideRecord(table)
        record.initialize()
        for name, value in values.items():
            record.set_value(name, value)
        with self._errors(operation, table):
            record.insert()
        return _flatten(record.serialize())

    def update(
        self,
        table: str,
        sys_id: str,
        values: Mapping[str, str],
        fields: Sequence[str],
        *,
        operation: str,
    ) -> dict[str, str]:
        """PATCH one record and return it as stored; a 204 response is followed by a read."""
        params = {**_VALUE_PARAMS, "sysparm_fields": ",".join(fields)}
        url = f"{self._base}/api/now/table/{table}/{sys_id}"
        with self._errors(operation, table, sys_id):
            response = self.session.patch(url, params=params, json=dict(values))
            if response.status_code != 204:
                return _flatten(response.json()["result"])
        found = self.get(table, sys_id, fields, operation=operation)
        if found is None:
            msg = "record vanished right after the update; check for a delete business rule"
            raise NotFoundError(
                msg, connector=self.connector, operation=operation, record=f"{table}/{sys_id}"
            )
        return found

    def close(self) -> None:
        """Close the HTTP sessions, the token endpoint's included."""
        auth = self.session.auth
        if isinstance(auth, ClientCredentialsAuth):
            auth.close()
        self.session.close()
