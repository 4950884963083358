"""The crash bench: its kill plan, and a 20-kill run as CI runs it."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.crash import plan_kills

ROOT = Path(__file__).resolve().parents[2]
RESULT_LINE = re.compile(r"kills=(\d+) lost=(\d+) duplicates=(\d+)")
#: The run took 52-61 s on a 2-core VM, and up to 160 s while other test suites ran on it.
CRASH_TIMEOUT_SECONDS = 300


def test_plan_kills_seeded() -> None:
    """The same seed gives the same plan, with every kill placed on a step."""
    first = plan_kills(20, 29, random.Random(5))
    second = plan_kills(20, 29, random.Random(5))

    assert first == second
    assert sum(len(kills) for kills in first.values()) == 20
    assert all(0 <= step < 29 for step in first)


def test_plan_kills_before_step() -> None:
    """Only the first kill of a step may come before the step's changes."""
    plan = plan_kills(200, 10, random.Random(1))

    assert all(not kill.before_step for kills in plan.values() for kill in kills[1:])
    assert any(kills[0].before_step for kills in plan.values())


@pytest.mark.slow
def test_crash_twenty_kills() -> None:
    """Twenty SIGKILLs during a replay lose nothing and duplicate nothing."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.crash", "--kills", "20", "--seed", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CRASH_TIMEOUT_SECONDS,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr[-3000:]
    match = RESULT_LINE.fullmatch(lines[-1])
    assert match is not None, completed.stdout
    kills, lost, duplicates = (int(group) for group in match.groups())

    assert kills == 20
    assert lost == 0, completed.stderr[-3000:]
    assert duplicates == 0, completed.stderr[-3000:]
    assert completed.returncode == 0, completed.stderr[-3000:]
