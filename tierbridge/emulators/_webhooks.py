"""Deliver an emulator's change notices to a subscriber URL, in order, from one thread.

Real vendors retry failed deliveries; this sender retries a few times with a short pause,
then drops the notice and counts it, as a vendor would after its retry budget runs out.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
import structlog

__all__ = ["WebhookSender"]

_log = structlog.get_logger("tierbridge.emulators.webhooks")

#: Signs a raw body and returns the headers to send with it.
Signer = Callable[[bytes], Mapping[str, str]]


@dataclass
class _Stats:
    delivered: int = 0
    failed: int = 0
    attempts: list[int] = field(default_factory=list)


class WebhookSender:
    """A FIFO of outgoing webhooks; `url=None` means nobody is subscribed and nothing is sent."""

    def __init__(
        self,
        signer: Signer,
        *,
        url: str | None = None,
        retries: int = 3,
        retry_pause_seconds: float = 0.2,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.url = url
        self.stats = _Stats()
        self._signer = signer
        self._retries = retries
        self._pause = retry_pause_seconds
        self._timeout = timeout_seconds
        self._queue: queue.Queue[tuple[bytes, dict[str, str]] | threading.Event] = queue.Queue()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="emulator-webhooks", daemon=True)
        self._thread.start()

    def send(self, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Queue one delivery: the body plus its signature headers and any extra headers."""
        if self.url is None:
            return
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        all_headers.update(self._signer(body))
        self._queue.put((body, all_headers))

    def drain(self, timeout_seconds: float = 10.0) -> bool:
        """Wait until every queued delivery has been tried; return False on timeout."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout_seconds)

    def close(self) -> None:
        self.drain(1.0)
        self._session.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            body, headers = item
            self._deliver(body, headers)

    def _deliver(self, body: bytes, headers: dict[str, str]) -> None:
        url = self.url
        if url is None:
            return
        for attempt in range(1, self._retries + 2):
            try:
                response = self._session.post(
                    url, data=body, headers=headers, timeout=self._timeout
                )
            except requests.RequestException as exc:
                _log.info(
                    "webhook_delivery_failed", url=url, attempt=attempt, error=type(exc).__name__
                )
            else:
                if response.status_code < 300:
                    self.stats.delivered += 1
                    self.stats.attempts.append(attempt)
                    return
                _log.info(
                    "webhook_delivery_failed", url=url, attempt=attempt, status=response.status_code
                )
            threading.Event().wait(self._pause * attempt)
        self.stats.failed += 1
