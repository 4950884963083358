"""Access to the worker's Runtime, which every task reads from its procrastinate job context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from procrastinate import JobContext

    from tierbridge.core.runtime import Runtime

__all__ = ["RUNTIME_KEY", "as_utc", "runtime_of"]

#: Key of the Runtime in the worker's `additional_context`.
RUNTIME_KEY = "runtime"


def runtime_of(context: JobContext) -> Runtime:
    """Return the worker's Runtime, which `tierbridge worker` puts in every job context."""
    runtime: Runtime = context.additional_context[RUNTIME_KEY]
    return runtime


def as_utc(moment: datetime) -> datetime:
    """Return `moment` with a time zone, taking a naive time as UTC (as SQLite returns it)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
