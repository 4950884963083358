"""Schedule the store's timers as APScheduler date jobs, one job per pending timer.

The embedded runner owns one `TimerScheduler`. At start it loads every pending timer from
the store, so a restart loses none. While it runs, `subscribe` calls it for each timer
that an event arms, moves or cancels in this process. A reload every minute also picks up
timers armed by other processes and retries timers whose firing failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from apscheduler.jobstores.base import JobLookupError

from tierbridge.core.sla.timers import fire_timer, subscribe

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store.sla_rows import TimerRow

__all__ = ["RELOAD_SECONDS", "TimerScheduler"]

_log = structlog.get_logger(__name__)

#: How often the pending timers are read again from the store.
RELOAD_SECONDS = 60.0
_PREFIX = "timer:"


class TimerScheduler:
    """Keeps one date job per pending timer in `scheduler`; `on_fired` runs after a firing."""

    def __init__(self, rt: Runtime, scheduler: BaseScheduler, on_fired: Callable[[], None]) -> None:
        self.rt = rt
        self._scheduler = scheduler
        self._on_fired = on_fired
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Schedule every pending timer, then follow new ones and reload every minute."""
        self._unsubscribe = subscribe(self.rt.store, self._changed)
        self.reload()
        self._scheduler.add_job(
            self.reload,
            "interval",
            seconds=RELOAD_SECONDS,
            id="timers:reload",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def reload(self) -> None:
        """Make the scheduled jobs match the store's pending timers."""
        try:
            pending = self.rt.store.pending_timers()
        except Exception as exc:  # the next reload tries again; the jobs already scheduled stay
            _log.warning("timer_reload_failed", error=str(exc))
            return
        for timer in pending:
            self._schedule(timer)
        wanted = {timer.id for timer in pending}
        for timer_id in set(self.scheduled()) - wanted:
            self._remove(timer_id)

    def scheduled(self) -> dict[int, datetime]:
        """Return the scheduled timers: timer id to run time."""
        return {
            int(job.id.removeprefix(_PREFIX)): job.trigger.run_date
            for job in self._scheduler.get_jobs()
            if job.id.startswith(_PREFIX)
        }

    def _changed(self, armed: list[TimerRow], canceled: list[int]) -> None:
        for timer in armed:
            self._schedule(timer)
        for timer_id in canceled:
            self._remove(timer_id)

    def _schedule(self, timer: TimerRow) -> None:
        # No misfire limit: a timer that fell due while the daemon was down fires at start.
        self._scheduler.add_job(
            self._fire,
            "date",
            run_date=timer.due_at,
            args=[timer.id],
            id=f"{_PREFIX}{timer.id}",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def _remove(self, timer_id: int) -> None:
        try:
            self._scheduler.remove_job(f"{_PREFIX}{timer_id}")
        except JobLookupError:
            return

    def _fire(self, timer_id: int) -> None:
        try:
            fired = fire_timer(self.rt, timer_id)
        except Exception as exc:  # the timer stays pending, and the next reload retries it
            _log.warning("timer_failed", timer_id=timer_id, error=str(exc))
            return
        if fired:
            self._on_fired()
