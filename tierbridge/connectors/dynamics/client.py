"""All HTTP to one Dataverse organisation: Web API v9.2 reads, paging, writes and actions.

Every call carries the OData headers, a bearer token from the `TokenSource`, the timeout and
CA bundle, and is translated by `translate_errors`. After a 429 the client sends nothing
until the `Retry-After` wait is over: it raises ThrottledError for the remaining time
instead, because Dataverse lengthens the penalty of clients that keep sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from tierbridge.connectors.dynamics.auth import BearerAuth, MsalTokenSource, TokenSource
from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.connectors.dynamics.translate import retry_after_seconds, translate_errors
from tierbridge.connectors.dynamics.transport import build_session
from tierbridge.core.errors import NotFoundError, PermanentError, RetryableError, ThrottledError
from tierbridge.core.retry import replay_on_401

__all__ = ["ANNOTATIONS", "WebApiClient"]

#: Instance annotations every read requests: labels and the target table of lookups.
ANNOTATIONS = (
    'odata.include-annotations="OData.Community.Display.V1.FormattedValue,'
    'Microsoft.Dynamics.CRM.lookuplogicalname"'
)
_HEADERS = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}


class WebApiClient:
    """Web API calls for one connector; safe to share between threads."""

    def __init__(
        self,
        settings: DynamicsSettings,
        connector: str,
        *,
        tokens: TokenSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connector = connector
        ca_bundle = str(settings.ca_bundle) if settings.ca_bundle is not None else None
        timeout = settings.timeout_seconds
        self._token_session = build_session(
            connector=connector, timeout=timeout, ca_bundle=ca_bundle, raise_for_status=False
        )
        self.tokens = tokens or MsalTokenSource(settings, self._token_session, connector)
        slots = threading.BoundedSemaphore(settings.max_concurrent_requests)
        self.session = build_session(
            connector=connector, timeout=timeout, ca_bundle=ca_bundle, slots=slots
        )
        auth = BearerAuth(self.tokens, settings.scope)
        self.session.auth = auth
        # First among the session's hooks, so that an expired token is replaced and an
        # idempotent request sent again before the status check raises.
        replay = replay_on_401(auth, lambda _response: self.tokens.invalidate(), connector)
        self.session.hooks["response"].insert(0, replay)
        self.session.headers.update(_HEADERS)
        self.api_url = f"{settings.url}/api/data/v9.2"
        self._host = urlsplit(settings.url).netloc
        self._page_size = settings.page_size
        self._clock = clock
        self._resume_at = 0.0

    # -- plumbing ---------------------------------------------------------------------------

    def _wait_out_throttle(self, operation: str, record: str | None) -> None:
        remaining = self._resume_at - self._clock()
        if remaining > 0:
            msg = f"still inside the Retry-After wait of an earlier 429; {remaining:.1f} s left"
            raise ThrottledError(
                msg,
                retry_after=remaining,
                connector=self.connector,
                operation=operation,
                record=record,
            )

    def _note_throttle(self, exc: requests.HTTPError) -> None:
        response = exc.response
        if response is not None and response.status_code == 429:
            wait = retry_after_seconds(response.headers)
            if wait:
                self._resume_at = max(self._resume_at, self._clock() + wait)

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        record: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one call; `url` is absolute or relative to the Web API root."""
        full = url if url.startswith(("https://", "http://")) else f"{self.api_url}/{url}"
        if urlsplit(full).netloc != self._host:
            msg = "refusing to send the token to a host other than base_url's; check base_url"
            raise PermanentError(msg, connector=self.connector, operation=operation, record=record)
        self._wait_out_throttle(operation, record)
        with translate_errors(self.connector, operation, record):
            try:
                return self.session.request(
                    method, full, params=params, json=body, headers=dict(headers or {})
                )
            except requests.HTTPError as exc:
                self._note_throttle(exc)
                raise

    def _json(
        self, response: requests.Response, operation: str, record: str | None
    ) -> dict[str, Any]:
        with translate_errors(self.connector, operation, record):
            payload = response.json()
        if not isinstance(payload, dict):
            msg = (
                "response body is not a JSON object; check for a proxy in front of the organisation"
            )
            raise RetryableError(msg, connector=self.connector, operation=operation, record=record)
        return payload

    # -- reads ------------------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        operation: str,
        record: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET one resource (a row, metadata) with labels; return its JSON object."""
        headers = {"Prefer": ANNOTATIONS, "If-None-Match": "null"}
        response = self.request(
            "GET", path, operation=operation, record=record, params=params, headers=headers
        )
        return self._json(response, operation, record)

    def pages(
        self, path: str, params: Mapping[str, str], *, operation: str, record: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the rows of a collection page by page, following `@odata.nextLink` verbatim.

        Raises RetryableError when a next link repeats one already followed (the read would
        never end), and PermanentError when it points to another host (the token must not
        leave the organisation).
        """
        headers = {
            "Prefer": f"odata.maxpagesize={self._page_size},{ANNOTATIONS}",
            "If-None-Match": "null",
        }
        url: str | None = path
        query: Mapping[str, str] | None = params
        followed: set[str] = set()
        while url is not None:
            response = self.request(
                "GET", url, operation=operation, record=record, params=query, headers=headers
            )
            payload = self._json(response, operation, record)
            rows = payload.get("value")
            if not isinstance(rows, list):
                msg = (
                    "collection response has no 'value' list; check for a proxy rewriting responses"
                )
                raise RetryableError(
                    msg, connector=self.connector, operation=operation, record=record
                )
            yield rows
            url, query = (
                self._next(payload.get("@odata.nextLink"), followed, operation, record),
                None,
            )

    def _next(
        self, link: Any, followed: set[str], operation: str, record: str | None
    ) -> str | None:
        if link is None:
            return None
        if not isinstance(link, str) or urlsplit(link).netloc != self._host:
            msg = "@odata.nextLink points outside the organisation's host; check base_url"
            raise PermanentError(msg, connector=self.connector, operation=operation, record=record)
        if link in followed:
            msg = (
                "@odata.nextLink repeats a link already followed; the read is incomplete, "
                "so poll again from the same watermark"
            )
            raise RetryableError(msg, connector=self.connector, operation=operation, record=record)
        followed.add(link)
        return link

    # -- writes -----------------------------------------------------------------------------

    def create(
        self, entity_set: str, body: Mapping[str, Any], select: str, *, operation: str
    ) -> dict[str, Any]:
        """POST a row and return it as stored (`Prefer: return=representation`)."""
        headers = {"Prefer": f"return=representation,{ANNOTATIONS}"}
        response = self.request(
            "POST",
            entity_set,
            operation=operation,
            record=entity_set,
            params={"$select": select},
            body=dict(body),
            headers=headers,
        )
        if response.status_code == 201:
            return self._json(response, operation, entity_set)
        entity_id = response.headers.get("OData-EntityId", "")
        if not entity_id:
            msg = "the create answered without a row or an OData-EntityId header"
            raise RetryableError(
                msg, connector=self.connector, operation=operation, record=entity_set
            )
        return self.get(
            entity_id, operation=operation, record=entity_set, params={"$select": select}
        )

    def update(
        self,
        entity_set: str,
        row_id: str,
        body: Mapping[str, Any],
        select: str,
        *,
        etag: str,
        operation: str,
    ) -> dict[str, Any]:
        """PATCH an existing row with `If-Match` (never an upsert) and return it as stored."""
        record = f"{entity_set}({row_id})"
        headers = {"Prefer": f"return=representation,{ANNOTATIONS}", "If-Match": etag}
        response = self.request(
            "PATCH",
            record,
            operation=operation,
            record=record,
            params={"$select": select},
            body=dict(body),
            headers=headers,
        )
        if response.status_code == 200:
            return self._json(response, operation, record)
        found = self.get(record, operation=operation, record=record, params={"$select": select})
        if not found:
            raise NotFoundError(
                "row vanished right after the update",
                connector=self.connector,
                operation=operation,
                record=record,
            )
        return found

    def action(
        self, name: str, body: Mapping[str, Any], *, operation: str, record: str | None
    ) -> None:
        """POST an unbound action that returns nothing (CloseIncident)."""
        self.request("POST", name, operation=operation, record=record, body=dict(body))

    def close(self) -> None:
        """Close both HTTP sessions."""
        self.session.close()
        self._token_session.close()
