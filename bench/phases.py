"""One measured phase: drive load, wait until it is all synced, and take the figures."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from bench.probe import CallCounts
from bench.procstat import cpu_seconds
from bench.stack import BenchStack, Target
from bench.tracker import Window, percentile

__all__ = ["PhaseResult", "measure"]

_log = structlog.get_logger(__name__)


@dataclass
class PhaseResult:
    """The figures of one phase; times in seconds unless a name says otherwise.

    `cpu_seconds` is the target process's CPU time, `bench_cpu_seconds` that of this process
    (emulators, load generator, notice senders), and `load_average` the machine's 1-minute
    load average at the end, which shows whether other processes competed for the CPUs.
    """

    name: str
    changes: int
    window: Window
    calls: CallCounts
    cpu_seconds: float
    bench_cpu_seconds: float
    started_at: float
    busy_seconds: float
    settled: bool
    load_average: float

    @property
    def drain_seconds(self) -> float:
        """From the first change to the target write that delivered the last one."""
        first, last = self.window.first_change_at, self.window.last_delivery_at
        return last - first if first is not None and last is not None else math.nan

    @property
    def changes_per_s(self) -> float:
        drain = self.drain_seconds
        return self.window.delivered / drain if drain > 0 else math.nan

    def per_change(self, count: int) -> float:
        return count / self.changes if self.changes else math.nan

    def summary(self) -> dict[str, Any]:
        """Return the phase's figures as JSON-ready values, rounded for reading."""
        window = self.window
        return {
            "changes": self.changes,
            "delivered": window.delivered,
            "delivered_before_send": window.delivered_before_send,
            "settled": self.settled,
            "e2e_p50_ms": _round(percentile(window.latencies_ms, 50)),
            "e2e_p99_ms": _round(percentile(window.latencies_ms, 99)),
            "e2e_p999_ms": _round(percentile(window.latencies_ms, 99.9)),
            "ack_p50_ms": _round(percentile(window.acks_ms, 50)),
            "ack_p99_ms": _round(percentile(window.acks_ms, 99)),
            "ack_failures": window.ack_failures,
            "drain_s": _round(self.drain_seconds, 2),
            "changes_per_s": _round(self.changes_per_s),
            "cpu_s": _round(self.cpu_seconds, 2),
            "cpu_cores": _round(self.cpu_seconds / self.busy_seconds, 2),
            "cpu_ms_per_change": _round(self.per_change(1) * self.cpu_seconds * 1000),
            "bench_cpu_cores": _round(self.bench_cpu_seconds / self.busy_seconds, 2),
            "load_average_1m": _round(self.load_average, 2),
            "reads_per_change": _round(self.per_change(self.calls.reads), 3),
            "writes_per_change": _round(self.per_change(self.calls.writes), 3),
            "echo_writes": self.calls.echo_writes,
            "calls_per_change": {
                f"{method} {path}": _round(self.per_change(count), 3)
                for (method, path), count in sorted(self.calls.by_route.items())
            },
        }


def _round(value: float, digits: int = 1) -> float:
    return round(value, digits) if math.isfinite(value) else math.nan


def measure(
    stack: BenchStack,
    target: Target,
    name: str,
    drive: Callable[[], int],
    *,
    settle_timeout: float,
) -> PhaseResult:
    """Run `drive` (which makes changes and returns how many) and wait for them to settle."""
    stack.tracker.take_window()
    calls_before = stack.calls()
    cpu_before = cpu_seconds(target.pid)
    bench_cpu_before = time.process_time()
    started = time.monotonic()

    changes = drive()
    settled = stack.settle(target, settle_timeout)

    busy = time.monotonic() - started
    result = PhaseResult(
        name=name,
        changes=changes,
        window=stack.tracker.take_window(),
        calls=stack.calls().minus(calls_before),
        cpu_seconds=cpu_seconds(target.pid) - cpu_before,
        bench_cpu_seconds=time.process_time() - bench_cpu_before,
        started_at=started,
        busy_seconds=busy,
        settled=settled,
        load_average=os.getloadavg()[0],
    )
    _log.info("phase_done", phase=name, changes=changes, seconds=round(busy, 1), settled=settled)
    if not settled:
        _log.warning(
            "phase_not_settled",
            phase=name,
            undelivered=stack.tracker.outstanding(),
            queue_depth=target.queue_depth(),
            timeout_seconds=settle_timeout,
        )
    return result
