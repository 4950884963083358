"""`ServiceNowEmulator`: the Table API emulator served over HTTPS, with its business rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from starlette.types import ASGIApp

from tierbridge.emulators._faults import FaultInjector, FaultMiddleware, FaultPlan
from tierbridge.emulators._server import EmulatorServer
from tierbridge.emulators.servicenow.app import build_app
from tierbridge.emulators.servicenow.faults import fault_renderer
from tierbridge.emulators.servicenow.guards import Authenticator, OAuthClient, Throttle
from tierbridge.emulators.servicenow.routing import AppContext
from tierbridge.emulators.servicenow.state import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    Clock,
    ServiceNowState,
)
from tierbridge.emulators.servicenow.webhook import BusinessRule

__all__ = ["DEFAULT_MAX_ATTACHMENT_MB", "DEFAULT_PASSWORDS", "ServiceNowEmulator"]

#: `com.glide.attachment.max_size` of a base instance, in MB.
DEFAULT_MAX_ATTACHMENT_MB = DEFAULT_MAX_ATTACHMENT_BYTES / (1024 * 1024)

#: Passwords of the seeded users unless `users` gives others.
DEFAULT_PASSWORDS: Mapping[str, str] = {
    "svc.tierbridge": "svc-tierbridge-password",
    "agent.l1": "agent-l1-password",
}


class ServiceNowEmulator:
    """A local ServiceNow instance: incidents, users, groups, journal, attachments and choices.

    `users` maps user_names to passwords; names other than the seeded `svc.tierbridge` and
    `agent.l1` are created as users. `oauth_clients` maps client ids to (secret, user_name)
    for the client-credentials grant. `clock` returns the instance time as an aware datetime.
    Change notices go to `webhook_url`, signed with `webhook_secret`, once started.
    `middleware`, if given, wraps the app; the benchmarks use it to delay and count requests.
    `faults` sets the injected faults (latency, resets, 5xx, 429 storms), drawn with `seed`,
    in front of everything else; change them at run time through `self.faults`.
    `max_attachment_mb` is the instance's `com.glide.attachment.max_size` in MB (2**20 bytes):
    larger uploads are refused. Change it at run time through `state.max_attachment_bytes`.
    """

    def __init__(
        self,
        *,
        tls_dir: Path,
        port: int = 0,
        users: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        oauth_clients: Mapping[str, tuple[str, str]] | None = None,
        middleware: Callable[[ASGIApp], ASGIApp] | None = None,
        faults: FaultPlan | None = None,
        max_attachment_mb: float = DEFAULT_MAX_ATTACHMENT_MB,
    ) -> None:
        self._max_attachment_bytes = int(max_attachment_mb * 1024 * 1024)
        self.state = ServiceNowState(
            clock=clock, seed=seed, max_attachment_bytes=self._max_attachment_bytes
        )
        self._passwords = {**DEFAULT_PASSWORDS, **(users or {})}
        self._add_users()

        clients = {
            cid: OAuthClient(secret, user) for cid, (secret, user) in (oauth_clients or {}).items()
        }
        auth = Authenticator(self._passwords, clients, self._now, self.state.new_guid)
        rule_id = self.state.new_guid()
        self.throttle = Throttle(self._now, rule_id=rule_id)
        self.faults = FaultInjector(faults, seed=seed)

        self._rule = BusinessRule(self.state.new_guid, url=webhook_url, secret=webhook_secret)
        self._sender = self._rule.sender
        self.state.listeners.append(self._rule)

        app: ASGIApp = build_app(AppContext(self.state, auth, self.throttle))
        if middleware is not None:
            app = middleware(app)
        app = FaultMiddleware(app, self.faults, fault_renderer(self._now, rule_id))
        self._server = EmulatorServer(app, tls_dir=tls_dir, port=port)

    def _now(self) -> datetime:
        return self.state.clock()

    def _add_users(self) -> None:
        for user_name in self._passwords:
            if self.state.user_by_name(user_name) is None:
                self.state.ensure_user(f"{user_name}@example.com")

    def reset(self) -> None:
        """Start again from the seed data, with no pending 429s, once queued notices are sent.

        The attachment size limit returns to the value given to the constructor.
        """
        self.drain_webhooks()
        self.state.reset()
        self.state.max_attachment_bytes = self._max_attachment_bytes
        self._add_users()
        self.throttle.inject(0, 1)
        self.faults.reset()

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:<port>`, without a trailing slash."""
        return self._server.base_url

    @property
    def ca_cert(self) -> Path:
        """PEM file of the CA that signed the server certificate; give it to clients."""
        return self._server.tls.ca_cert

    def start(self) -> ServiceNowEmulator:
        """Start serving; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and the notice sender."""
        self._server.stop()
        self._sender.close()

    def __enter__(self) -> ServiceNowEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        """Send later change notices to `url` (None stops them), signed with `secret`."""
        self._sender.url = url
        self._rule.secret = secret

    def inject_429(self, count: int, retry_after: int = 1) -> None:
        """Reject the next `count` authenticated requests with 429 and `Retry-After`."""
        self.throttle.inject(count, retry_after)

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notice has been tried; return False on timeout."""
        return self._sender.drain(timeout)
