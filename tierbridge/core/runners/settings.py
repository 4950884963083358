"""The `procrastinate:` config section, read when `runner: procrastinate` is set.

This module imports only pydantic, so the config loader can use it without loading
procrastinate itself.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["RUNNERS", "ProcrastinateSettings"]

#: Values of the config's top-level `runner` key.
RUNNERS = ("embedded", "procrastinate")


class ProcrastinateSettings(BaseModel):
    """Settings of the procrastinate runner: the jobs' schema, and when a worker counts as dead.

    A worker that stops sending heartbeats for `stalled_after_seconds` (a crash, SIGKILL, a
    lost host) is taken for dead: every `sweep_seconds`, its running jobs go back to the
    queue, except polls, which the next period repeats.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: PostgreSQL schema of procrastinate's tables, in the store's database. It is created,
    #: with the tables, when a worker or the webhook server starts.
    job_schema: str = Field(default="procrastinate", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    stalled_after_seconds: float = Field(default=30.0, gt=0)
    #: Period of the sweep that re-queues dead workers' jobs and defers due events and
    #: timers that have no job. Cron can express only some periods, so it is rounded down
    #: to 1-6, 10, 12, 15, 20 or 30 s, or to such a number of minutes or hours.
    sweep_seconds: int = Field(default=10, ge=1, le=86400)
    #: How often an idle worker looks for jobs that became runnable without a notice: a
    #: ticket's next job once the previous one released its lock, or a retry whose time
    #: came. New jobs wake workers at once through LISTEN/NOTIFY.
    fetch_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    #: Finished jobs (succeeded, failed, cancelled) are deleted, hourly, once this old.
    #: The sync log keeps the lasting record of what each job did.
    keep_jobs_hours: int = Field(default=24, ge=1)

    @model_validator(mode="after")
    def _heartbeat_before_stall(self) -> Self:
        if self.stalled_after_seconds <= 2 * self.heartbeat_seconds:
            msg = (
                f"stalled_after_seconds ({self.stalled_after_seconds:g}) must be more than "
                f"twice heartbeat_seconds ({self.heartbeat_seconds:g}), or a busy but live "
                "worker is taken for dead"
            )
            raise ValueError(msg)
        return self
