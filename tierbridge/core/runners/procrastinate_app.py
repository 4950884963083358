"""The procrastinate App: one task per unit of work, and the periodic polls and sweeps.

| task | deferred by | lock | retried by procrastinate |
| --- | --- | --- | --- |
| `tierbridge.handle_ticket` | webhook node per stored event, poll, timer, sweep, itself at the engine's `available_at` | `ticket:<connector>:<id>` | on a store or queue outage |
| `tierbridge.poll_connector` | periodic, one job per connector and period | `poll:<connector>` | no: the next period polls |
| `tierbridge.fire_timer` | the worker that arms a timer, at its due time; the sweep | none | on a store or queue outage |
| `tierbridge.sweep` | periodic, every `sweep_seconds` | none | no |
| `tierbridge.recover_stalled_jobs` | periodic, every `sweep_seconds` | none | no |
| `tierbridge.remove_old_jobs` | periodic, hourly | none | no |

The engine itself settles every event (done, retry at `available_at`, dead), so
procrastinate's retries only cover failures around it, and a ticket job whose event is put
back for a retry defers the ticket's next job at the event's `available_at`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierbridge.core.errors import StoreError
from tierbridge.core.runners.connection import build_connector
from tierbridge.core.runners.deferral import (
    TASK_CLEANUP,
    TASK_FIRE_TIMER,
    TASK_HANDLE_TICKET,
    TASK_POLL,
    TASK_RECOVER,
    TASK_SWEEP,
    poll_lock,
)
from tierbridge.core.runners.sweep import recover_stalled_jobs, remove_old_jobs, sweep
from tierbridge.core.runners.tasks import fire_timer_job, handle_ticket, poll

if TYPE_CHECKING:
    from procrastinate import App

    from tierbridge.core.config import AppConfig

__all__ = ["RETRY_ATTEMPTS", "build_app", "interval_cron"]

#: Attempts of a ticket or timer job that fails around the engine (a store outage, say),
#: with waits of 2, 4, 8 and 16 s. Past them the sweep defers a new job once the event is due.
RETRY_ATTEMPTS = 5
_RETRY_BASE_SECONDS = 2

_SECOND_STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_HOUR_STEPS = (1, 2, 3, 4, 6, 8, 12)


def interval_cron(seconds: float) -> str:
    """Return a cron line for the longest period cron can express that is at most `seconds`.

    Periods repeat within the minute, hour or day (a 6th field contains seconds), so 90 s
    becomes 60 s and anything under a second becomes 1 s.
    """
    whole = max(1, int(seconds))
    if whole < 60:
        step = max(value for value in _SECOND_STEPS if value <= whole)
        return f"* * * * * */{step}"
    if whole < 3600:
        step = max(value for value in _SECOND_STEPS if value <= whole // 60)
        return f"*/{step} * * * *"
    if whole < 86400:
        step = max(value for value in _HOUR_STEPS if value <= whole // 3600)
        return f"0 */{step} * * *"
    return "0 0 * * *"


def build_app(config: AppConfig, *, max_connections: int = 4) -> App:
    """Build the App for `config`: tasks, one periodic poll per connector, and the sweeps.

    The App is not open; a worker opens it with `run_worker`, a webhook node with `open()`.
    """
    from procrastinate import App, RetryStrategy
    from procrastinate.exceptions import ConnectorException

    app = App(connector=build_connector(config, max_connections=max_connections))
    retry = RetryStrategy(
        max_attempts=RETRY_ATTEMPTS,
        exponential_wait=_RETRY_BASE_SECONDS,
        retry_exceptions=[StoreError, ConnectorException],
    )
    app.task(name=TASK_HANDLE_TICKET, pass_context=True, retry=retry)(handle_ticket)
    app.task(name=TASK_FIRE_TIMER, pass_context=True, retry=retry)(fire_timer_job)
    poll_task = app.task(name=TASK_POLL, pass_context=True)(poll)
    sweep_task = app.task(name=TASK_SWEEP, pass_context=True)(sweep)
    recover_task = app.task(name=TASK_RECOVER, pass_context=True)(recover_stalled_jobs)
    cleanup_task = app.task(name=TASK_CLEANUP, pass_context=True)(remove_old_jobs)

    settings = config.procrastinate
    sweep_cron = interval_cron(settings.sweep_seconds)
    app.periodic(cron=sweep_cron, periodic_id="sweep")(sweep_task)
    app.periodic(cron=sweep_cron, periodic_id="recover")(recover_task)
    app.periodic(cron="17 * * * *", periodic_id="cleanup")(cleanup_task)
    for name, connector in config.connectors.items():
        task_kwargs: dict[str, Any] = {"connector": name}
        app.periodic(
            cron=interval_cron(connector.poll_interval_seconds),
            periodic_id=f"poll:{name}",
            lock=poll_lock(name),
            task_kwargs=task_kwargs,
        )(poll_task)
    return app
