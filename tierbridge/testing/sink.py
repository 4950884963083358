"""A local HTTP server that records the webhooks an emulator sends."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tierbridge.testing.target import Delivery

__all__ = ["WebhookSink"]

#: The acknowledgement a Salesforce Outbound Message needs; other senders ignore the body.
_ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


class WebhookSink:
    """Plain HTTP on 127.0.0.1; every POST is stored as a `Delivery` and acknowledged with 200.

    The query string is kept under the pseudo-header `:query`, as the intake server passes it.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = dict(self.headers.items())
                query = urlsplit(self.path).query
                if query:
                    headers[":query"] = query
                with sink._lock:
                    sink.deliveries.append(Delivery(headers, body))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(_ACK)))
                self.end_headers()
                self.wfile.write(_ACK)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/contract"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="contract-webhook-sink",
            daemon=True,
        )

    def start(self) -> WebhookSink:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def take(self) -> list[Delivery]:
        """Return the deliveries received so far and forget them."""
        with self._lock:
            taken, self.deliveries = self.deliveries, []
        return taken

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
