"""Latency profiles: the delay each emulator adds to every request, drawn from a seeded RNG.

The delays are our assumption, not vendor figures, because we found no published per-call
latency for these APIs. `local` stands for a nearby instance (about 20 ms a call) and
`realistic` for a SaaS tenant across the internet: a lognormal with a median of 200 ms
whose p99 is about 1.5 s. The emulator's own handling time comes on top of the delay.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["PROFILES", "LatencyProfile"]

#: The 99th percentile of the standard normal distribution.
_Z99 = 2.326


@dataclass(frozen=True)
class LatencyProfile:
    """A lognormal delay per request: `median_ms`, and `p99_ms` to fix the tail."""

    name: str
    median_ms: float
    p99_ms: float

    @property
    def sigma(self) -> float:
        """The lognormal shape parameter that puts the 99th percentile at `p99_ms`."""
        return math.log(self.p99_ms / self.median_ms) / _Z99

    def sampler(self, seed: int) -> Callable[[], float]:
        """Return a thread-safe function that draws one delay in seconds per call."""
        rng = random.Random(seed)
        lock = threading.Lock()
        mu = math.log(self.median_ms / 1000)
        sigma = self.sigma

        def draw() -> float:
            with lock:
                return rng.lognormvariate(mu, sigma)

        return draw


PROFILES: dict[str, LatencyProfile] = {
    "local": LatencyProfile("local", median_ms=20.0, p99_ms=32.0),
    "realistic": LatencyProfile("realistic", median_ms=200.0, p99_ms=1500.0),
}
