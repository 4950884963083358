"""All REST calls to one org through simple-salesforce, with token refresh and error translation.

The `Salesforce` client is built from the token's `instance_url` and access token with an
explicit API version, on the connector's session (see `transport`). When a call fails with
401 INVALID_SESSION_ID, a new token is fetched once. The call is then sent again only if it
is idempotent (reads and PATCH). A create raises RetryableError instead, so that the
engine's create-once check runs before any second attempt.

Writes carry `Sforce-Call-Options: client=tierbridge`, which change events report as their
origin. Not thread-safe: give each worker thread its own client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from tierbridge.connectors.salesforce.auth import AccessToken, TokenSource
from tierbridge.connectors.salesforce.settings import SalesforceSettings
from tierbridge.connectors.salesforce.translate import error_codes, translate_errors
from tierbridge.connectors.salesforce.transport import LimitInfo, LimitTracker, build_session
from tierbridge.core.errors import RejectedError, RetryableError
from tierbridge.core.limits import Limiter, salesforce_signal

__all__ = ["CALL_OPTIONS", "CLIENT_NAME", "SalesforceClient"]

T = TypeVar("T")
CLIENT_NAME = "tierbridge"
CALL_OPTIONS = {"Sforce-Call-Options": f"client={CLIENT_NAME}"}
_INVALID_SESSION = "INVALID_SESSION_ID"
_INVALID_LOCATOR = "INVALID_QUERY_LOCATOR"
_ANY_TYPE = {"Accept": "*/*"}


class SalesforceClient:
    """The REST calls the connector makes; each translates its errors."""

    def __init__(self, connector: str, settings: SalesforceSettings) -> None:
        self.connector = connector
        self._settings = settings
        self._limits = LimitTracker()
        #: The connector's rate limiter; every request passes it.
        self.limiter = Limiter.from_settings(connector, settings.rate_limit, salesforce_signal)
        ca_bundle = str(settings.ca_bundle) if settings.ca_bundle is not None else None
        self._session = build_session(
            connector=connector,
            timeout=settings.timeout_seconds,
            ca_bundle=ca_bundle,
            limits=self._limits,
            limiter=self.limiter,
        )
        self._tokens = TokenSource(settings, self._session, connector)
        self._token: AccessToken | None = None
        self._api: Salesforce | None = None
        self._query_options = {"Sforce-Query-Options": f"batchSize={settings.page_size}"}

    @property
    def limit_info(self) -> LimitInfo | None:
        """The last `Sforce-Limit-Info` the org sent, or None before the first call."""
        return self._limits.latest

    @property
    def user_id(self) -> str | None:
        """The id of the user the token runs as, once a token was fetched."""
        return self._token.user_id if self._token is not None else None

    def _client(self) -> Salesforce:
        if self._api is None:
            self._token = self._tokens.fetch()
            self._api = Salesforce(
                instance_url=self._token.instance_url,
                session_id=self._token.token,
                version=self._settings.api_version,
                session=self._session,
            )
        return self._api

    def _call(
        self,
        operation: str,
        record: str | None,
        action: Callable[[Salesforce], T],
        *,
        idempotent: bool,
    ) -> T:
        with translate_errors(self.connector, operation, record):
            try:
                return action(self._client())
            except SalesforceExpiredSession as exc:
                if _INVALID_SESSION not in error_codes(exc.content):
                    raise
                self._api = None
                api = self._client()
                if not idempotent:
                    msg = (
                        "the session expired and a new token was fetched; the request was not "
                        "sent again because it is not idempotent"
                    )
                    raise RetryableError(
                        msg, connector=self.connector, operation=operation, record=record
                    ) from exc
                return action(api)

    # -- reads -----------------------------------------------------------------------------

    def query(self, soql: str, *, operation: str, include_deleted: bool = False) -> dict[str, Any]:
        """Run a query (`queryAll` when `include_deleted`) and return its first page."""

        def run(api: Salesforce) -> dict[str, Any]:
            page: dict[str, Any] = api.query(
                soql, include_deleted=include_deleted, headers=self._query_options
            )
            return page

        return self._call(operation, None, run, idempotent=True)

    def query_more(self, next_url: str, *, operation: str) -> dict[str, Any] | None:
        """Return the page a `nextRecordsUrl` names, or None if its query locator expired."""

        def run(api: Salesforce) -> dict[str, Any] | None:
            try:
                page: dict[str, Any] = api.query_more(
                    next_url, identifier_is_url=True, headers=self._query_options
                )
            except SalesforceMalformedRequest as exc:
                if _INVALID_LOCATOR in error_codes(exc.content):
                    return None
                raise
            return page

        return self._call(operation, None, run, idempotent=True)

    def get(
        self, object_name: str, record_id: str, fields: Sequence[str], *, operation: str
    ) -> dict[str, Any]:
        """Read some fields of one record (`GET .../sobjects/{object}/{id}?fields=...`)."""

        def run(api: Salesforce) -> dict[str, Any]:
            row = getattr(api, object_name).get(record_id, params={"fields": ",".join(fields)})
            return dict(row)

        return self._call(operation, record_id, run, idempotent=True)

    def download(self, object_name: str, record_id: str, field: str, *, operation: str) -> bytes:
        """Read the raw bytes of a blob field (`GET .../sobjects/{object}/{id}/{field}`)."""

        def run(api: Salesforce) -> bytes:
            sobject = getattr(api, object_name)
            # The session's Accept header requests JSON, and a blob is not JSON.
            content = sobject.get_base64(record_id, base64_field=field, headers=_ANY_TYPE)
            return bytes(content)

        return self._call(operation, record_id, run, idempotent=True)

    # -- writes ----------------------------------------------------------------------------

    def create(self, object_name: str, values: Mapping[str, Any], *, operation: str) -> str:
        """Create a record and return its id; a POST is never sent twice.

        Raises RejectedError when the 201 response carries no id, because the caller cannot
        then tell which record it made.
        """

        def run(api: Salesforce) -> str:
            created = getattr(api, object_name).create(dict(values), headers=CALL_OPTIONS)
            record_id = created.get("id") if isinstance(created, Mapping) else None
            if not record_id or created.get("success") is False:
                msg = "the create response carries no record id; check the org's response"
                raise RejectedError(
                    msg, connector=self.connector, operation=operation, record=object_name
                )
            return str(record_id)

        return self._call(operation, object_name, run, idempotent=False)

    def update(
        self, object_name: str, record_id: str, values: Mapping[str, Any], *, operation: str
    ) -> None:
        """PATCH fields of a record (204); replayed after a token refresh."""

        def run(api: Salesforce) -> None:
            getattr(api, object_name).update(record_id, dict(values), headers=CALL_OPTIONS)

        self._call(operation, record_id, run, idempotent=True)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
