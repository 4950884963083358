"""A local Jira Cloud site with one Jira Service Management project, served over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from starlette.types import ASGIApp

from tierbridge.emulators._faults import FaultInjector, FaultMiddleware, FaultPlan
from tierbridge.emulators._server import EmulatorServer
from tierbridge.emulators.jira.app import build_app
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.faults import fault_renderer
from tierbridge.emulators.jira.render import Renderer
from tierbridge.emulators.jira.site import DEFAULT_ATTACHMENT_MAX_BYTES, Fault, Site
from tierbridge.emulators.jira.state import Change, JiraState, StoredAttachment
from tierbridge.emulators.jira.webhooks import WebhookEmitter

__all__ = ["JiraEmulator"]


def _system_clock() -> datetime:
    return datetime.now(UTC)


class JiraEmulator:
    """The Jira Cloud REST API (v3, search/jql, servicedeskapi) on 127.0.0.1.

    `users` maps e-mail addresses to API tokens; the two built-in accounts
    (`svc.tierbridge@example.com` in Europe/Berlin, `agent.l2@example.com` in Asia/Kolkata)
    are used when it is None. Every change by any user is sent to `webhook_url`, signed with
    `webhook_secret` when one is set. `clock` returns the current time as an aware datetime.
    `middleware`, if given, wraps the app; the benchmarks use it to delay and count requests.
    `faults` sets the injected faults (latency, resets, 5xx, 429 storms), drawn with
    `fault_seed`, in front of everything else; change them at run time through `self.faults`.
    An upload with a file larger than `attachment_max_bytes` is rejected with 413.
    With `resolution_on_edit_screen`, the edit screen contains the Resolution field. Then
    editmeta lists it, and an edit (PUT) may change the resolution of an issue in a done status.
    """

    def __init__(
        self,
        *,
        tls_dir: Path,
        port: int = 0,
        users: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        project: str = "L2",
        clock: Callable[[], datetime] | None = None,
        middleware: Callable[[ASGIApp], ASGIApp] | None = None,
        faults: FaultPlan | None = None,
        fault_seed: int = 0,
        attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES,
        resolution_on_edit_screen: bool = False,
    ) -> None:
        #: Called with every change while the state lock is held, before its webhook is queued.
        self.listeners: list[Callable[[Change], None]] = []
        self.state = JiraState(
            project.upper(),
            users if users is not None else DEFAULT_TOKENS,
            clock or _system_clock,
            self._publish,
        )
        renderer = Renderer("", self.state)
        self._attachment_max_bytes = attachment_max_bytes
        self._resolution_on_edit_screen = resolution_on_edit_screen
        self._site = Site(
            self.state,
            renderer,
            attachment_max_bytes=attachment_max_bytes,
            resolution_on_edit_screen=resolution_on_edit_screen,
        )
        app: ASGIApp = build_app(self._site)
        if middleware is not None:
            app = middleware(app)
        self.faults = FaultInjector(faults, seed=fault_seed)
        app = FaultMiddleware(app, self.faults, fault_renderer(self._site))
        self._server = EmulatorServer(app, tls_dir=tls_dir, port=port)
        # The port is bound by the server's constructor, so links can only be built now.
        renderer.base_url = self._server.base_url
        self._webhooks = WebhookEmitter(renderer, webhook_url, webhook_secret)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def ca_cert(self) -> Path:
        """The CA certificate that clients must trust to reach `base_url`."""
        return self._server.tls.ca_cert

    def start(self) -> JiraEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._webhooks.sender.close()

    def __enter__(self) -> JiraEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        """Send later changes to `url`, signed with `secret` (None sends them unsigned)."""
        self._webhooks.set_target(url, secret)

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued webhook has been tried; return False on timeout."""
        return self._webhooks.sender.drain(timeout)

    def reset(self) -> None:
        """Forget all issues and pending faults, so one running emulator can serve many tests.

        The attachment limit and the edit screen return to the values given at construction.
        """
        self.state.reset()
        self._site.faults.pending.clear()
        self._site.attachment_max_bytes = self._attachment_max_bytes
        self._site.resolution_on_edit_screen = self._resolution_on_edit_screen
        self.faults.reset()

    @property
    def attachment_max_bytes(self) -> int:
        """Maximum size of one uploaded file, in bytes. Set it to change the limit."""
        return self._site.attachment_max_bytes

    @attachment_max_bytes.setter
    def attachment_max_bytes(self, value: int) -> None:
        self._site.attachment_max_bytes = value

    @property
    def resolution_on_edit_screen(self) -> bool:
        """Whether the edit screen contains the Resolution field. Set it to change the screen."""
        return self._site.resolution_on_edit_screen

    @resolution_on_edit_screen.setter
    def resolution_on_edit_screen(self, value: bool) -> None:
        self._site.resolution_on_edit_screen = value

    def attachments(self, id_or_key: str) -> list[StoredAttachment]:
        """Return the files attached to an issue, oldest first, with their bytes.

        Raises KeyError for an unknown issue.
        """
        with self.state.lock:
            issue = self.state.find(id_or_key)
            if issue is None:
                raise KeyError(id_or_key)
            return list(issue.attachments)

    def inject_429(self, count: int, retry_after: int = 1) -> None:
        """Respond to the next `count` requests with 429 and Jira's rate-limit headers."""
        self._site.faults.add(Fault(429, retry_after), count)

    def inject_error(self, status: int, count: int = 1) -> None:
        """Respond to the next `count` requests with `status` (a 5xx, say) and a Jira error body."""
        self._site.faults.add(Fault(status), count)

    def webhook_payload(self, change: Change) -> dict[str, object]:
        """Return the body the emulator sends for `change`; lets tests check shapes offline."""
        return self._webhooks.payload(change)

    def _publish(self, change: Change) -> None:
        for listener in list(self.listeners):
            listener(change)
        self._webhooks.publish(change)
