"""CPU time and resident memory of one process, read from Linux's /proc.

The bench runs the daemon (and the floor) as a child process, so these figures cover that
process alone: the emulators and the load generator run in the bench's own process.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RssSampler", "cpu_seconds", "rss_mb"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU seconds a live process has used so far."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which sits in brackets and may contain spaces.
    fields = text.rsplit(")", 1)[1].split()
    user_ticks, system_ticks = int(fields[11]), int(fields[12])
    return (user_ticks + system_ticks) / _CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Return a live process's resident set size in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    msg = f"/proc/{pid}/status has no VmRSS line; is the process a zombie?"
    raise RuntimeError(msg)


@dataclass
class RssSampler:
    """Samples a process's RSS every `interval_seconds` on a background thread.

    `samples` contains (time.monotonic(), MiB) pairs.
    """

    pid: int
    interval_seconds: float
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), rss_mb(self.pid)))
            except (FileNotFoundError, ProcessLookupError, RuntimeError):
                return
            self._stop.wait(self.interval_seconds)
