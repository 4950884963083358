"""Test helpers for the Dynamics emulator: a settable clock, a Web API session, a webhook sink."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tierbridge.emulators.dynamics import TENANT_ID, TIERBRIDGE_CLIENT, DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref

START = datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
API = "/api/data/v9.2"


class FakeClock:
    """A clock that moves only when a test advances it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Api:
    """A requests session holding a bearer token of one client, trusting the emulator's CA."""

    def __init__(self, base_url: str, ca_cert: Path, client: tuple[str, str] = TIERBRIDGE_CLIENT):
        self.base_url = base_url
        self.verify = str(ca_cert)
        self.session = requests.Session()
        self.session.trust_env = False
        self.token = self.fetch_token(client).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def fetch_token(
        self, client: tuple[str, str], *, scope: str | None = None, tenant: str = TENANT_ID
    ) -> requests.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": client[0],
            "client_secret": client[1],
            "scope": scope or f"{self.base_url}/.default",
        }
        url = f"{self.base_url}/{tenant}/oauth2/v2.0/token"
        return self.session.post(url, data=form, verify=self.verify, timeout=10)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.base_url}{API}/{path}"
        return self.session.request(method, url, verify=self.verify, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def close(self) -> None:
        self.session.close()


def new_case(emulator: DynamicsEmulator, **values: Any) -> dict[str, Any]:
    """Insert a case for the seeded account as the agent, straight into the emulator's state."""
    state = emulator.state
    return state.create(
        "incident",
        {"title": "VPN drops", "customerid": Ref("account", state.seed.account), **values},
        user_id=state.seed.agent_user,
    )


@dataclass
class Delivery:
    """One POST the sink received: its path with query, headers and body."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookSink:
    """A plain-HTTP server on 127.0.0.1 that records every POST and responds `status`."""

    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    status: int = 204

    @contextmanager
    def running(self) -> Iterator[WebhookSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/dynamics"
        # A short poll interval keeps shutdown() from waiting half a second per test.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
