"""Smoke test of `python -m bench`, and checks of the parts its figures rest on.

The smoke run applies load for a few seconds, so its figures tell nothing about performance.
It only shows that every phase runs and every headline key gets a number.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.probe import RequestProbe
from bench.results import REQUIRED_KEYS, rss_summary
from bench.tracker import ChangeTracker, percentile

ROOT = Path(__file__).resolve().parents[2]
_TINY_RUN = [
    *("--tickets", "4", "--light-seconds", "1", "--rate", "10", "--steady-seconds", "2"),
    *("--burst", "4"),
    *("--workers", "2", "--senders", "2", "--rss-interval", "0.5", "--settle-timeout", "120"),
]


@pytest.mark.slow
def test_bench_writes_every_key(tmp_path: Path) -> None:
    """A tiny run writes a results file with a number under every headline key."""
    output = tmp_path / "latest.json"

    completed = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "bench", *_TINY_RUN, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())
    for key in REQUIRED_KEYS:
        value = results.get(key)
        assert isinstance(value, int | float), f"{key} is {value!r}"
        assert math.isfinite(value), f"{key} is {value!r}"
    assert results["settled"] is True
    assert results["echo_writes"] == 0
    assert results["machine"]["cpu_count"] >= 1
    assert results["profile"] == "local"
    assert results["date"]


async def _app(scope: Any, receive: Any, send: Any, *, changes: int, probe: RequestProbe) -> None:
    for _ in range(changes):
        probe.note_change()
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _request(probe: RequestProbe, method: str, path: str, *, changes: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await _app(scope, receive, send, changes=changes, probe=probe)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Any) -> None:
        return None

    async def serve() -> None:
        await probe(app)({"type": "http", "method": method, "path": path}, receive, send)

    asyncio.run(serve())


def test_probe_counts_echo_write() -> None:
    """A write that changed nothing counts as an echo write; a changing one does not."""
    probe = RequestProbe()
    issue = "/rest/api/3/issue/L2-7"

    _request(probe, "PUT", issue, changes=0)
    _request(probe, "PUT", issue, changes=1)
    _request(probe, "GET", issue, changes=0)

    counts = probe.snapshot()
    assert counts.echo_writes == 1
    assert counts.writes == 2
    assert counts.reads == 1
    assert counts.by_route[("PUT", "/rest/api/3/issue/{id}")] == 2


def test_probe_search_post_is_read() -> None:
    """A POST to a search endpoint counts as a read, never as an echo write."""
    probe = RequestProbe()

    _request(probe, "POST", "/rest/api/3/search/jql", changes=0)

    counts = probe.snapshot()
    assert counts.reads == 1
    assert counts.echo_writes == 0


def test_tracker_delivers_older_changes() -> None:
    """A target write carrying change 3 also settles the ticket's pending changes 1 and 2."""
    tracker = ChangeTracker()
    for seq in (1, 2, 3):
        tracker.changed(0, seq)
        tracker.sent(seq, 0.0, ack_ms=1.0)
    tracker.changed(1, 4)

    tracker.delivered(0, 3, "L2-1")

    window = tracker.take_window()
    assert window.delivered == 3
    assert len(window.latencies_ms) == 3
    assert tracker.outstanding() == 1


def test_percentile_interpolates() -> None:
    """Percentiles interpolate between ranks; no values give NaN."""
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 50))


def test_rss_growth_compares_fifths() -> None:
    """RSS growth compares the medians of the soak's first and last fifths."""
    samples = [(float(i), mb) for i, mb in enumerate([90, 100, 100, 101, 103, 110, 110, 110])]

    largest, growth = rss_summary(samples, soak=(1.0, 7.0))

    assert largest == 110
    assert growth == pytest.approx(10.0)
