"""Test helpers for the ServiceNow emulator: a settable clock, an API session, a webhook sink."""

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

from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS

SVC = ("svc.tierbridge", DEFAULT_PASSWORDS["svc.tierbridge"])
AGENT = ("agent.l1", DEFAULT_PASSWORDS["agent.l1"])
#: 07:15:42 UTC is 09:15:42 in Berlin (CEST), the seeded agent's time zone.
START = datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
INCIDENTS = "/api/now/table/incident"
JOURNAL = "/api/now/table/sys_journal_field"


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
    """A requests session for one emulator user that trusts the emulator's CA."""

    def __init__(self, base_url: str, ca_cert: Path, auth: tuple[str, str] | None) -> None:
        self.base_url = base_url
        self.verify = str(ca_cert)
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = auth

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else self.base_url + path
        return self.session.request(method, url, verify=self.verify, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def create(self, **values: Any) -> dict[str, Any]:
        """POST an incident and return its stored values."""
        response = self.post(INCIDENTS, json={"short_description": "VPN drops", **values})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()["result"]
        return result

    def close(self) -> None:
        self.session.close()


@dataclass
class Delivery:
    """One POST the sink received."""

    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookSink:
    """A plain-HTTP server on 127.0.0.1 that records every POST and responds 204."""

    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""

    @contextmanager
    def running(self) -> Iterator[WebhookSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.deliveries.append(Delivery(dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/snow"
        # A short poll interval keeps shutdown() from waiting half a second per test.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
