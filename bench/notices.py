"""The ServiceNow business rule, delivered by a pool of threads that time each POST.

The emulator's own rule queues its notices on one thread that posts them one at a time,
which would cap intake at one notice per acknowledgement and hide when each notice left.
This listener builds the same body, signature and headers with the emulator's functions
and delivers them from several threads, each with its own connection. Notices of one
incident always go through the same thread, so they arrive in the order they were made.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
import zlib

import requests
import structlog

from bench.tracker import ChangeTracker, parse_marker
from tierbridge.emulators.servicenow.state import ChangeEvent
from tierbridge.emulators.servicenow.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    notice_body,
    sign,
)

__all__ = ["NoticeSender"]

_log = structlog.get_logger(__name__)
_TIMEOUT_SECONDS = 30.0
_RETRIES = 3
_RETRY_PAUSE_SECONDS = 0.2

_Notice = tuple[bytes, dict[str, str], int | None]


class NoticeSender:
    """A ServiceNow state listener that posts one signed notice per incident change.

    `url` may be changed between phases to point at another receiver; None drops notices.
    """

    def __init__(
        self, tracker: ChangeTracker, *, secret: str, url: str | None = None, threads: int = 4
    ) -> None:
        self.url = url
        self._tracker = tracker
        self._secret = secret
        self._queues: list[queue.Queue[_Notice]] = [queue.Queue() for _ in range(threads)]
        for index, inbox in enumerate(self._queues):
            thread = threading.Thread(
                target=self._run, args=(inbox,), name=f"bench-notices-{index}", daemon=True
            )
            thread.start()

    def __call__(self, event: ChangeEvent) -> None:
        if event.table != "incident" or self.url is None:
            return
        body = notice_body(event)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            DELIVERY_HEADER: uuid.uuid4().hex,
        }
        # Only a change of the short description carries a new marker.
        parsed = parse_marker(event.record.get("short_description", ""))
        seq = parsed[1] if parsed and "short_description" in event.changed else None
        sys_id = event.record["sys_id"]
        inbox = self._queues[zlib.crc32(sys_id.encode()) % len(self._queues)]
        inbox.put((body, headers, seq))

    def drain(self, timeout_seconds: float) -> bool:
        """Wait until every queued notice has been delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout_seconds
        while not all(inbox.unfinished_tasks == 0 for inbox in self._queues):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _run(self, inbox: queue.Queue[_Notice]) -> None:
        session = requests.Session()
        session.trust_env = False
        while True:
            body, headers, seq = inbox.get()
            try:
                self._deliver(session, body, headers, seq)
            finally:
                inbox.task_done()

    def _deliver(
        self, session: requests.Session, body: bytes, headers: dict[str, str], seq: int | None
    ) -> None:
        sent_at = time.monotonic()
        for attempt in range(1, _RETRIES + 2):
            url = self.url
            if url is None:
                return
            started = time.perf_counter()
            try:
                response = session.post(url, data=body, headers=headers, timeout=_TIMEOUT_SECONDS)
            except requests.RequestException as exc:
                _log.warning("notice_failed", attempt=attempt, error=type(exc).__name__)
            else:
                if response.status_code < 300:
                    ack_ms = (time.perf_counter() - started) * 1000
                    self._tracker.sent(seq, sent_at, ack_ms)
                    return
                _log.warning("notice_failed", attempt=attempt, status=response.status_code)
            time.sleep(_RETRY_PAUSE_SECONDS * attempt)
        self._tracker.sent(seq, sent_at, None)
