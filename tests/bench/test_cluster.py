"""The cluster bench: three procrastinate workers, one killed, as CI runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.store.conftest import pg_unreachable_reason

ROOT = Path(__file__).resolve().parents[2]
RESULT_LINE = re.compile(
    r"workers=(\d+) lost=(\d+) duplicates=(\d+) order_violations=(\d+) "
    r"polls_per_period_max=(\d+)"
)
#: The run took 38 s on a 2-core VM with nothing else running.
CLUSTER_TIMEOUT_SECONDS = 240


@pytest.mark.slow
@pytest.mark.postgres
def test_cluster_three_workers() -> None:
    """Three workers, one killed mid-job, lose and double nothing and keep ticket order."""
    reason = pg_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)

    completed = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--workers", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CLUSTER_TIMEOUT_SECONDS,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr[-3000:]
    match = RESULT_LINE.fullmatch(lines[-1])
    assert match is not None, completed.stdout
    workers, lost, duplicates, violations, polls = (int(group) for group in match.groups())

    assert workers == 3
    assert "while it ran a ticket job" in completed.stderr
    assert lost == 0, completed.stderr[-3000:]
    assert violations == 0, completed.stderr[-3000:]
    assert polls == 1, completed.stderr[-3000:]
    assert duplicates == 0, completed.stderr[-3000:]
    assert completed.returncode == 0, completed.stderr[-3000:]
