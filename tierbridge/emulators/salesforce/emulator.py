"""`SalesforceEmulator`: a Service Cloud org's REST API and outbound messages over HTTPS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from tierbridge.emulators._server import EmulatorServer
from tierbridge.emulators.salesforce.app import MAX_REQUEST_BYTES, AppContext, build_app
from tierbridge.emulators.salesforce.cursors import QueryCursors
from tierbridge.emulators.salesforce.guards import (
    DEFAULT_ALLOCATION,
    ApiLimits,
    Authenticator,
    OAuthClient,
)
from tierbridge.emulators.salesforce.outbound import OutboundMessenger
from tierbridge.emulators.salesforce.state import (
    AGENT_USERNAME,
    DEFAULT_ORG_ID,
    INTEGRATION_USERNAME,
    Clock,
    SalesforceState,
)

__all__ = ["DEFAULT_CLIENTS", "SalesforceEmulator"]

#: Connected apps enabled for client credentials: client id -> (secret, run-as Username).
DEFAULT_CLIENTS: Mapping[str, tuple[str, str]] = {
    "tierbridge-client": ("tierbridge-client-secret", INTEGRATION_USERNAME),
    "agent-console": ("agent-console-secret", AGENT_USERNAME),
}


class SalesforceEmulator:
    """A local org with Cases, CaseComments, Files, Users, a queue and a Contact.

    `oauth_clients` maps client ids to (secret, Username) for the client-credentials grant;
    `DEFAULT_CLIENTS` are used when it is None. Changes of the `outbound_objects` are sent
    as outbound messages to `webhook_url`, with `webhook_secret` added as its `token` query
    parameter. `min_batch_size` is the smallest `batchSize` the query honours (200 in real
    orgs; tests lower it to page small result sets). `clock` returns the org time.
    `max_request_bytes` is the largest JSON request body (50 MB in real orgs); tests lower it
    to reach the limit on a file upload with a small file.
    """

    def __init__(
        self,
        *,
        tls_dir: Path,
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        clock: Clock | None = None,
        org_id: str = DEFAULT_ORG_ID,
        oauth_clients: Mapping[str, tuple[str, str]] | None = None,
        api_allocation: int = DEFAULT_ALLOCATION,
        min_batch_size: int = 200,
        outbound_objects: Sequence[str] = ("Case", "CaseComment"),
        outbound_retry_cap_seconds: float = 5.0,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.state = SalesforceState(clock=clock, org_id=org_id)
        clients = {
            client_id: OAuthClient(secret, username)
            for client_id, (secret, username) in (oauth_clients or DEFAULT_CLIENTS).items()
        }
        self.auth = Authenticator(self.state, clients, lambda: self.base_url)
        self.limits = ApiLimits(api_allocation)
        self.cursors = QueryCursors(
            lambda: self.state.new_id("01g"), self._now, min_batch=min_batch_size
        )
        self.outbound = OutboundMessenger(
            self.state,
            lambda: self.base_url,
            objects=outbound_objects,
            url=webhook_url,
            token=webhook_secret,
            retry_cap_seconds=outbound_retry_cap_seconds,
        )
        self.state.listeners.append(self.outbound)
        context = AppContext(self.state, self.auth, self.limits, self.cursors, max_request_bytes)
        app = build_app(context)
        self._server = EmulatorServer(app, tls_dir=tls_dir, port=port)

    def _now(self) -> datetime:
        return self.state.clock()

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:<port>`, the org's My Domain and instance URL."""
        return self._server.base_url

    @property
    def ca_cert(self) -> Path:
        """PEM file of the CA that signed the server certificate; give it to clients."""
        return self._server.tls.ca_cert

    @property
    def organization_id(self) -> str:
        """The org's 18-character id, sent in every outbound message."""
        return self.state.org_id

    def start(self) -> SalesforceEmulator:
        """Start serving; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and the outbound message sender."""
        self._server.stop()
        self.outbound.close()

    def __enter__(self) -> SalesforceEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Start again from the seed data: no records, sessions, locators or pending refusals.

        Outbound messages still waiting are dropped and their counts zeroed.
        """
        self.outbound.reset()
        self.state.reset()
        self.auth.expire_sessions()
        self.cursors.expire_all()
        self.limits.reset()

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        """Send later outbound messages to `url` (None stops them) with `token=secret`."""
        self.outbound.url = url
        self.outbound.token = secret
        if url is None:
            self.outbound.clear()

    def inject_limit_exceeded(self, count: int) -> None:
        """Reject the next `count` API requests with 403 REQUEST_LIMIT_EXCEEDED."""
        self.limits.inject(count)

    def expire_sessions(self) -> None:
        """Invalidate every access token, so the next call gets 401 INVALID_SESSION_ID."""
        self.auth.expire_sessions()

    def expire_query_locators(self) -> None:
        """Invalidate every open `nextRecordsUrl`, as an org does after 15 idle minutes."""
        self.cursors.expire_all()

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every outbound message is acknowledged or dropped; False on timeout."""
        return self.outbound.drain(timeout)
