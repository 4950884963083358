"""Sample the daemon's stacks with py-spy while the measured phases run.

py-spy (a dev dependency) reads the process's memory from outside, so the daemon runs
unchanged. `--nonblocking` keeps it from pausing the daemon for each sample, at the cost
of an occasional torn stack. The output is py-spy's `raw` format: one line per distinct
stack, frames joined by `;`, then the sample count. `summarize` turns it into the
functions where the samples fall.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["Profiler", "summarize"]

_STOP_TIMEOUT_SECONDS = 30.0
#: The line number in a frame such as `handle_event (tierbridge/core/engine/process.py:64)`.
_LINE = re.compile(r":\d+\)$")
_SAMPLES_PER_SECOND = 100


class Profiler:
    """One `py-spy record` run against `pid`; `stop()` makes it write `output`."""

    def __init__(self, pid: int, output: Path) -> None:
        beside_python = Path(sys.executable).parent / "py-spy"
        executable = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
        if executable is None:
            msg = "py-spy is not installed; run `.venv/bin/pip install -e '.[dev]'`"
            raise RuntimeError(msg)
        command = [executable, "record", "--pid", str(pid), "--output", str(output)]
        command += ["--format", "raw", "--rate", str(_SAMPLES_PER_SECOND), "--nonblocking", "--gil"]
        self.output = output
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        """Stop sampling; py-spy writes its output on SIGINT."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def summarize(raw: Path, *, contains: str = "", top: int = 20) -> list[tuple[str, float, float]]:
    """Return the `top` frames whose name contains `contains`, by inclusive share of samples.

    Each entry is (frame, inclusive %, self %). Frames are taken per function, without line
    numbers, and a function counts once per stack even when it recurses.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return []
    matching = [(frame, count) for frame, count in inclusive.items() if contains in frame]
    matching.sort(key=lambda item: item[1], reverse=True)
    return [
        (frame, 100 * count / total, 100 * own[frame] / total) for frame, count in matching[:top]
    ]
