"""Test helpers for the Jira emulator: a settable clock, an API session and a webhook sink."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

SVC = ("svc.tierbridge@example.com", "svc-api-token")
AGENT = ("agent.l2@example.com", "agent-api-token")
#: 07:15:42.117 UTC is 09:15:42.117 in Berlin (CEST) and 12:45:42.117 in Kolkata.
START = datetime(2024, 5, 1, 7, 15, 42, 117000, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Api:
    """A requests session for one emulator user, trusting the emulator's CA."""

    def __init__(self, base_url: str, ca_cert: Path, auth: tuple[str, str]) -> None:
        self.base_url = base_url
        self.verify = str(ca_cert)
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = auth

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(
            method, self.base_url + path, verify=self.verify, timeout=10, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def create_request(self, summary: str = "VPN drops", **values: Any) -> dict[str, Any]:
        """Raise a JSM request and return the servicedeskapi answer."""
        payload = {
            "serviceDeskId": "1",
            "requestTypeId": "10",
            "requestFieldValues": {"summary": summary, **values},
        }
        response = self.post("/rest/servicedeskapi/request", json=payload)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


class WebhookSink:
    """A plain-HTTP server on 127.0.0.1 that records every POST it receives."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.deliveries.append(Delivery(dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/jira"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @contextmanager
    def running(self) -> Iterator[WebhookSink]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
