"""The embedded runner: one process runs the webhook server, the polls and the workers.

APScheduler 3 (memory job store, rebuilt from config at start) fires one poll per connector
per interval. Worker threads claim inbox events from the store and run `handle_event`. Each
new event wakes one idle worker. The store is the only shared state, so the same units of
work can move to another runner.

With tenants (`tierbridge.core.tenants`), the runner serves the webhooks and the timers,
and one runner per tenant, without a server, runs that tenant's workers and polls: its
workers claim only its connectors' events, with the tenant's own config.
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

from tierbridge.core.census import schedule_census
from tierbridge.core.engine import handle_event
from tierbridge.core.metrics import Metrics
from tierbridge.core.poller import poll_connector
from tierbridge.core.server import create_app
from tierbridge.core.sla.scheduling import TimerScheduler

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import InboxRow

__all__ = ["EmbeddedRunner", "WakeUps"]

_log = structlog.get_logger(__name__)

#: Time SIGTERM gives in-flight events and polls to finish before the events are returned to
#: the queue. `tierbridge run` promises to exit within 10 s of SIGTERM, and the rest of the
#: shutdown took over 2 s on a heavily loaded 2-core VM.
DRAIN_SECONDS = 7.0

#: How long an idle worker waits for a wake-up before it claims again anyway. Events stored
#: without a wake-up only become claimable this way: retries falling due (the first waits
#: a random time up to `queue.backoff_base_seconds`, 5 s by default), expired leases, and
#: events that another process sharing the store added or requeued.
IDLE_WAIT_SECONDS = 2.0
#: Maximum wait, in seconds, for the HTTP server to finish its shutdown on stop.
_HTTP_STOP_SECONDS = 5.0

#: How long a worker waits after a failed claim or event before it tries again.
_ERROR_WAIT_SECONDS = 0.5

#: How often a scheduler thread that waits for a poll checks whether the runner stops.
_STOP_CHECK_SECONDS = 0.5


class WakeUps:
    """Counts wake-ups for idle workers, so that one new event wakes one worker.

    A wake-up that comes while no worker waits is kept for the next worker that does, so
    none is lost between a worker's empty claim and its wait. At most `limit` are kept,
    since every busy worker claims again anyway when it finishes its event.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._count = 0
        self._closed = False
        self._condition = threading.Condition()

    def release(self, count: int = 1) -> None:
        """Wake up to `count` waiting workers, or keep the wake-ups for the next ones."""
        with self._condition:
            self._count = min(self._limit, self._count + count)
            self._condition.notify(count)

    def close(self) -> None:
        """Wake every waiting worker, and make every later wait return at once."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a wake-up and take it.

        Returns False if the time ran out first. After `close()`, returns True at once.
        """
        with self._condition:
            woken = self._condition.wait_for(lambda: self._count > 0 or self._closed, timeout)
            if woken and not self._closed:
                self._count -= 1
            return woken


class EmbeddedRunner:
    """Runs the daemon in this process until `stop()` or SIGTERM/SIGINT."""

    def __init__(
        self,
        rt: Runtime,
        *,
        workers: int = 1,
        serve_http: bool = True,
        tenant: str | None = None,
        metrics: Metrics | None = None,
        idle_wait_seconds: float = IDLE_WAIT_SECONDS,
    ) -> None:
        self.rt = rt
        self.metrics = metrics or Metrics()
        #: The tenant whose events this runner's workers claim; None claims every event.
        self.tenant = tenant
        self._claim_only = tuple(rt.connectors) if tenant is not None else None
        self._workers = workers
        self._serve_http = serve_http
        self._idle_wait_seconds = idle_wait_seconds
        self._stopping = threading.Event()
        self._wakeups = WakeUps(limit=workers)
        self._threads: list[threading.Thread] = []
        self._in_flight: dict[int, int] = {}
        self._polls_running = 0
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone="UTC")
        #: One date job per pending SLA or age timer, re-armed from the store at start.
        self.timers = TimerScheduler(rt, self._scheduler, on_fired=self.wake)
        self._server: uvicorn.Server | None = None
        self._http: tuple[threading.Thread, socket.socket] | None = None
        self.port: int | None = None
        self._tenant_runners = self._runners_per_tenant() if tenant is None else []

    def _runners_per_tenant(self) -> list[EmbeddedRunner]:
        """Build one runner per tenant, each with `workers` worker threads of its own."""
        from tierbridge.core.tenants import tenant_runtime

        return [
            EmbeddedRunner(
                tenant_runtime(self.rt, name),
                workers=self._workers,
                serve_http=False,
                tenant=name,
                metrics=self.metrics,
                idle_wait_seconds=self._idle_wait_seconds,
            )
            for name in self.rt.config.tenant_configs()
        ]

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> EmbeddedRunner:
        """Start the HTTP server, the workers and the poll schedule."""
        if self._serve_http:
            self._start_server()
        if self._tenant_runners:
            self._start_tenants()
        else:
            for index in range(self._workers):
                thread = threading.Thread(target=self._work, name=f"worker-{index}", daemon=True)
                thread.start()
                self._threads.append(thread)
            self._schedule_polls()
            schedule_census(self._scheduler, self.rt)
        if self.tenant is None:
            self.timers.start()
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
        self._wakeups.close()
        self.timers.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        for runner in self._tenant_runners:
            runner.stop(max(0.0, deadline - time.monotonic()))
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._wait_for_polls(deadline)
        with self._lock:
            unfinished = list(self._in_flight.values())
        # NOTE: the workers of these events may still run until the process exits, so another
        # daemon on the same store can claim a released event while its old worker writes.
        for event_id in unfinished:
            self.rt.store.release_event(event_id)
        if self._server is not None:
            self._server.should_exit = True
        if self._http is not None:
            # Closed here too, since a server still shutting down when the process goes on
            # would leave its listening socket to the garbage collector.
            thread, sock = self._http
            thread.join(_HTTP_STOP_SECONDS)
            sock.close()
            self._http = None
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

    def wake(self, events: int = 1) -> None:
        """Wake one idle worker per new event, and as many in each tenant's runner.

        The events' tenant is not known here, so the workers woken in the other tenants'
        runners claim nothing and wait again.
        """
        self._wakeups.release(events)
        for runner in self._tenant_runners:
            runner.wake(events)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no event is pending or in flight; return False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = any(runner.busy() for runner in (self, *self._tenant_runners))
            if not busy and self.rt.store.pending_count() == 0:
                return True
            time.sleep(0.05)
        return False

    def busy(self) -> bool:
        """Tell whether one of this runner's workers is handling an event."""
        with self._lock:
            return bool(self._in_flight)

    # -- parts --------------------------------------------------------------------------

    def _start_tenants(self) -> None:
        from tierbridge.core.tenants import export_tenant_info

        export_tenant_info(self.metrics, self.rt.config)
        for runner in self._tenant_runners:
            runner.start()

    def _start_server(self) -> None:
        settings = self.rt.config.server
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        self.port = sock.getsockname()[1]
        app = create_app(
            self.rt, metrics=self.metrics, on_stored=lambda stored: self.wake(len(stored))
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        server = self._server
        thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="http", daemon=True
        )
        thread.start()
        self._http = (thread, sock)
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def _schedule_polls(self) -> None:
        for name, settings in self.rt.config.connectors.items():
            self._scheduler.add_job(
                self._poll_in_daemon_thread,
                "interval",
                args=[name],
                seconds=settings.poll_interval_seconds,
                id=f"poll:{name}",
                max_instances=1,
                coalesce=True,
                next_run_time=self.rt.clock(),
            )

    def _poll_in_daemon_thread(self, name: str) -> None:
        """Run `_poll` in a daemon thread and wait for it, or only until the runner stops.

        APScheduler runs jobs on concurrent.futures threads, which the interpreter joins at
        exit, so a poll stuck in an HTTP read would hold up the exit after SIGTERM until its
        timeout. A daemon thread is abandoned at exit; its watermark has not moved, so the
        next start reads the same window again.
        """
        thread = threading.Thread(target=self._poll, args=[name], name=f"poll-{name}", daemon=True)
        thread.start()
        while thread.is_alive() and not self._stopping.is_set():
            thread.join(_STOP_CHECK_SECONDS)

    def _wait_for_polls(self, deadline: float) -> None:
        """Wait until no poll runs, since the caller closes the store and connectors next."""
        while True:
            with self._lock:
                running = self._polls_running
            if not running:
                return
            if time.monotonic() >= deadline:
                _log.warning("poll_running_at_stop", polls=running)
                return
            time.sleep(0.01)

    def _poll(self, name: str) -> None:
        self._bind_tenant()
        with self._lock:
            self._polls_running += 1
        try:
            self._poll_once(name)
        finally:
            with self._lock:
                self._polls_running -= 1

    def _poll_once(self, name: str) -> None:
        try:
            result = poll_connector(self.rt, name)
        except Exception as exc:  # the watermark stays; the next interval reads the window again
            self.metrics.polls.labels(connector=name, result="failed").inc()
            _log.warning("poll_failed", connector=name, error=str(exc))
            return
        self.metrics.polls.labels(connector=name, result="ok").inc()
        if result.queued:
            self.wake(result.queued)

    def _bind_tenant(self) -> None:
        """Add the tenant to every log line of the calling thread."""
        if self.tenant is not None:
            structlog.contextvars.bind_contextvars(tenant=self.tenant)

    def _work(self) -> None:
        self._bind_tenant()
        while not self._stopping.is_set():
            try:
                self._work_once()
            except Exception as exc:  # a store outage must not end the worker thread
                _log.exception("worker_error", error=str(exc))
                self._stopping.wait(_ERROR_WAIT_SECONDS)

    def _claim(self) -> InboxRow | None:
        now, lease = self.rt.clock(), self.rt.config.queue.lease_seconds
        if self._claim_only is None:
            return self.rt.store.claim_event(now, lease)
        return self.rt.store.claim_event(now, lease, connectors=self._claim_only)

    def _work_once(self) -> None:
        """Claim and handle one event, or wait for a wake-up or the idle timeout."""
        event = self._claim()
        if event is None:
            self._wakeups.wait(self._idle_wait_seconds)
            return
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
