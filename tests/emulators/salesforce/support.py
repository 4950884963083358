"""Test helpers for the Salesforce emulator: a settable clock, an API session, an ack sink."""

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

from tierbridge.emulators.salesforce import DEFAULT_CLIENTS

START = datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
VERSION = "62.0"
DATA = f"/services/data/v{VERSION}"
ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


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
    """A requests session for one connected app that trusts the emulator's CA."""

    def __init__(self, base_url: str, ca_cert: Path, client_id: str | None = "tierbridge-client"):
        self.base_url = base_url
        self.verify = str(ca_cert)
        self.session = requests.Session()
        self.session.trust_env = False
        if client_id is not None:
            secret = DEFAULT_CLIENTS[client_id][0]
            self.session.headers["Authorization"] = f"Bearer {self.token(client_id, secret)}"

    def token(self, client_id: str, secret: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        response = self.post("/services/oauth2/token", data=form)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else self.base_url + path
        return self.session.request(method, url, verify=self.verify, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def query(self, soql: str, **kwargs: Any) -> requests.Response:
        return self.get(f"{DATA}/query", params={"q": soql}, **kwargs)

    def create_case(self, **values: Any) -> str:
        """POST a Case and return its id."""
        response = self.post(f"{DATA}/sobjects/Case", json={"Subject": "VPN drops", **values})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def close(self) -> None:
        self.session.close()


@dataclass
class Delivery:
    """One POST the sink received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class AckSink:
    """A plain-HTTP server on 127.0.0.1 that records POSTs and acknowledges them.

    `refuse` is how many of the next POSTs get a 200 without `Ack` (which Salesforce treats
    as a failure) instead of the acknowledgement.
    """

    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    refuse: int = 0

    @contextmanager
    def running(self) -> Iterator[AckSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                reply = ACK
                if sink.refuse > 0:
                    sink.refuse -= 1
                    reply = b"<ok/>"
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/sf"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
