"""`DynamicsEmulator`: the Dataverse Web API and its Entra ID token endpoint over HTTPS."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from tierbridge.emulators._server import EmulatorServer
from tierbridge.emulators.dynamics.app import build_app
from tierbridge.emulators.dynamics.call import AppContext, Faults
from tierbridge.emulators.dynamics.documents import DEFAULT_MAX_UPLOAD_FILE_SIZE
from tierbridge.emulators.dynamics.guards import Identity, OAuthClient, Throttle
from tierbridge.emulators.dynamics.state import Clock, DynamicsState
from tierbridge.emulators.dynamics.webhooks import DEFAULT_HEADER, WebhookAuth, WebhookEndpoint

__all__ = ["AGENT_CLIENT", "DEFAULT_CLIENTS", "TENANT_ID", "TIERBRIDGE_CLIENT", "DynamicsEmulator"]

#: The Entra ID tenant the emulator serves tokens for.
TENANT_ID = "8c1f2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f"
#: App registration of the daemon: (client id, client secret).
TIERBRIDGE_CLIENT = ("5b0e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4", "tierbridge-client-secret")
#: App registration the human-agent helper uses to act as the seeded agent.
AGENT_CLIENT = ("6c1f2d3e-4a5b-4c6d-9e7f-8091a2b3c4d5", "agent-client-secret")
#: Every registered client id with its secret.
DEFAULT_CLIENTS: Mapping[str, str] = dict([TIERBRIDGE_CLIENT, AGENT_CLIENT])


class DynamicsEmulator:
    """A local Dynamics 365 Customer Service organisation: cases, notes, files, activities, users.

    The daemon's client acts as the application user `# tierbridge`, the agent client as
    `Alex Doe` (`agent.l2@example.com`). Changes go to `webhook_url`, authenticated with
    `webhook_secret` in the `x-tierbridge-webhook-key` header, once started. `clock` returns
    the organisation's time as an aware datetime. `max_upload_file_size` is the
    organisation's `maxuploadfilesize`: the longest Base64 file body a note takes.
    """

    def __init__(
        self,
        *,
        tls_dir: Path,
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        max_upload_file_size: int = DEFAULT_MAX_UPLOAD_FILE_SIZE,
    ) -> None:
        self.state = DynamicsState(
            clock=clock, seed=seed, max_upload_file_size=max_upload_file_size
        )
        self._identity = Identity(TENANT_ID, {}, self._now, self.state.new_guid)
        self._register_clients()
        self.throttle = Throttle()
        self.faults = Faults()
        self._webhooks = WebhookEndpoint(
            self.state.new_guid, url=webhook_url, secret=webhook_secret
        )
        self.state.listeners.append(self._webhooks)
        app = build_app(AppContext(self.state, self._identity, self.throttle, self.faults))
        self._server = EmulatorServer(app, tls_dir=tls_dir, port=port)

    def _now(self) -> datetime:
        return self.state.clock()

    def _register_clients(self) -> None:
        seed = self.state.seed
        self._identity.clients = {
            TIERBRIDGE_CLIENT[0]: OAuthClient(TIERBRIDGE_CLIENT[1], seed.integration_user),
            AGENT_CLIENT[0]: OAuthClient(AGENT_CLIENT[1], seed.agent_user),
        }

    def reset(self) -> None:
        """Start again from the seed data, with no pending faults, once queued webhooks are sent."""
        self.drain_webhooks()
        self.state.reset()
        self._register_clients()
        self.throttle.inject(0, 1)
        self.faults.repeat_next_link = 0
        self.faults.truncate_files = 0

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:<port>`: the organisation URL and the Entra ID authority host."""
        return self._server.base_url

    @property
    def ca_cert(self) -> Path:
        """PEM file of the CA that signed the server certificate; give it to clients."""
        return self._server.tls.ca_cert

    @property
    def tenant_id(self) -> str:
        return TENANT_ID

    def start(self) -> DynamicsEmulator:
        """Start serving; returns once the server accepts connections."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and the webhook sender."""
        self._server.stop()
        self._webhooks.sender.close()

    def __enter__(self) -> DynamicsEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_webhook(
        self,
        url: str | None,
        secret: str | None,
        *,
        auth: WebhookAuth = "header",
        header: str = DEFAULT_HEADER,
    ) -> None:
        """Send later changes to `url` (None stops them), with `secret` in a header or `?code=`."""
        self._webhooks.configure(url, secret, auth=auth, header=header)

    def inject_429(self, count: int, retry_after: int = 1, code: str = "0x80072322") -> None:
        """Reject the next `count` Web API requests with 429, `Retry-After` and a limit's code."""
        self.throttle.inject(count, retry_after, code)

    def inject_repeated_next_link(self, count: int = 1) -> None:
        """Make the next `count` follow-up pages return the link that led to them as next link."""
        self.faults.repeat_next_link = count

    def inject_truncated_files(self, count: int = 1) -> None:
        """Store the next `count` files posted on notes without their last byte.

        The create's response then reports a `filesize` one byte short of the upload.
        """
        self.faults.truncate_files = count

    def expire_tokens(self) -> None:
        """Invalidate every issued access token, so the next call gets a 401."""
        self._identity.expire_tokens()

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued webhook has been tried; return False on timeout."""
        return self._webhooks.sender.drain(timeout)
