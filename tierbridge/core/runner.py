"""The embedded runner: one process runs the webhook server, the polls and the workers.

APScheduler 3 (memory job store, rebuilt from config at start) fires one poll per connector
per interval. Worker threads claim inbox events from the store and run `handle_event`. The
store is the only shared state, so the same units of work can move to another runner.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

import structlog
import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from tierbridge.core.engine import handle_event
from tierbridge.core.metrics import Metrics
from tierbridge.core.poller import poll_connector
from tierbridge.core.server import create_app

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["EmbeddedRunner"]

_log = structlog.get_logger(__name__)

#: How long a claimed event stays reserved for its worker before another may take it over.
LEASE_SECONDS = 120.0
#: Time SIGTERM gives in-flight events to finish before they are returned to the queue.
DRAIN_SECONDS = 10.0
_IDLE_WAIT_SECONDS = 0.5


class EmbeddedRunner:
    """Runs the daemon in this process until `stop()` or SIGTERM/SIGINT."""

    def __init__(self, rt: Runtime, *, workers: int = 1, serve_http: bool = True) -> None:
        self.rt = rt
        self.metrics = Metrics()
        self._workers = workers
        self._serve_http = serve_http
        self._stopping = threading.Event()
        self._wakeup = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_flight: dict[int, int] = {}
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._server: uvicorn.Server | None = None
        self.port: int | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> EmbeddedRunner:
        """Start the HTTP server, the workers and the poll schedule."""
        if self._serve_http:
            self._start_server()
        for index in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._schedule_polls()
        self._scheduler.start()
        _log.info(
            "daemon_started",
            workers=self._workers,
            port=self.port,
            connectors=sorted(self.rt.connectors),
        )
        return self

    def stop(self, timeout: float = DRAIN_SECONDS) -> None:
        """Stop taking work, let in-flight events finish within `timeout`, return the rest."""
        self._stopping.set()
        self._wakeup.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            unfinished = list(self._in_flight.values())
        for event_id in unfinished:
            self.rt.store.release_event(event_id)
        if self._server is not None:
            self._server.should_exit = True
        _log.info("daemon_stopped", returned_to_queue=len(unfinished))

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then drain and stop."""
        done = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            _log.info("signal_received", signal=signal.Signals(signum).name)
            done.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        done.wait()
        self.stop()

    def wake(self) -> None:
        """Tell idle workers that new events are waiting."""
        self._wakeup.set()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no event is pending or in flight; return False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._in_flight)
            if not busy and self.rt.store.pending_count() == 0:
                return True
            time.sleep(0.05)
        return False

    # -- parts --------------------------------------------------------------------------

    def _start_server(self) -> None:
        settings = self.rt.config.server
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        self.port = sock.getsockname()[1]
        app = create_app(self.rt, metrics=self.metrics, on_event=self.wake)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        server = self._server
        thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="http", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def _schedule_polls(self) -> None:
        for name, settings in self.rt.config.connectors.items():
            self._scheduler.add_job(
                self._poll,
                "interval",
                args=[name],
                seconds=settings.poll_interval_seconds,
                id=f"poll:{name}",
                max_instances=1,
                coalesce=True,
                next_run_time=self.rt.clock(),
            )

    def _poll(self, name: str) -> None:
        try:
            result = poll_connector(self.rt, name)
        except Exception as exc:  # the watermark stays; the next interval reads the window again
            self.metrics.polls.labels(connector=name, result="failed").inc()
            _log.warning("poll_failed", connector=name, error=str(exc))
            return
        self.metrics.polls.labels(connector=name, result="ok").inc()
        if result.queued:
            self.wake()

    def _work(self) -> None:
        while not self._stopping.is_set():
            event = self.rt.store.claim_event(self.rt.clock(), LEASE_SECONDS)
            if event is None:
                self._wakeup.wait(_IDLE_WAIT_SECONDS)
                self._wakeup.clear()
                continue
            ident = threading.get_ident()
            with self._lock:
                self._in_flight[ident] = event.id
            started = time.monotonic()
            try:
                handle_event(self.rt, event)
            finally:
                with self._lock:
                    self._in_flight.pop(ident, None)
            self.metrics.event_seconds.labels(connector=event.connector).observe(
                time.monotonic() - started
            )
            self.metrics.events.labels(connector=event.connector, outcome="settled").inc()
