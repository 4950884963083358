"""The history checker: its parts on their own, two seeds in process, and 200 seeds as CI runs it."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bench._history.clock import START, ScenarioClock
from bench._history.deliveries import Deliveries, FaultRates
from bench._history.journal import Journal, Write
from bench._history.oracle import _returns, _settled
from bench.history import main

ROOT = Path(__file__).resolve().parents[2]
RESULT_LINE = re.compile(r"^seeds=(\d+) lost=(\d+) regressions=(\d+) duplicates=(\d+)$")
#: 200 seeds took about 2 minutes with 2 workers on a 2-core VM shared with other jobs.
#: The limit leaves room for a slower CI runner.
HISTORY_TIMEOUT_SECONDS = 900


def _write(journal: Journal, connector: str, value: str, *, human: bool) -> None:
    journal.observe(connector, "t1", {"status": value}, human=human)


class TestScenarioClock:
    def test_reading_ticks_one_ms(self) -> None:
        """Each reading is 1 ms after the one before."""
        clock = ScenarioClock()

        first, second = clock(), clock()

        assert second - first == timedelta(milliseconds=1)

    def test_reset_rewinds(self) -> None:
        """`reset` goes back to the start time."""
        clock = ScenarioClock()
        clock.advance(90)

        clock.reset()

        assert clock() == START + timedelta(milliseconds=1)


class TestDeliveries:
    def test_same_seed_same_faults(self) -> None:
        """Two runs with one seed drop, double and delay the same notices."""
        runs = []
        for _ in range(2):
            deliveries = Deliveries(random.Random(7))
            for index in range(50):
                deliveries.capture("snow", {"X-Delivery": str(index)}, b"{}")
            runs.append([(n.headers, n.wait) for n in deliveries.waiting])

        assert runs[0] == runs[1]

    def test_drop_rate_one_drops_all(self) -> None:
        """With a drop rate of 1 nothing is queued, and each drop is counted."""
        deliveries = Deliveries(random.Random(1), FaultRates(drop=1.0))

        for index in range(5):
            deliveries.capture("snow", {"X-Delivery": str(index)}, b"{}")

        assert deliveries.waiting == []
        assert deliveries.dropped == 5

    def test_duplicate_new_id(self) -> None:
        """A duplicate with a new id differs from its original only in the delivery id."""
        rates = FaultRates(drop=0.0, duplicate=1.0, new_id=1.0, delay=0.0)
        deliveries = Deliveries(random.Random(1), rates)

        deliveries.capture("jsm", {"X-Delivery": "d-1"}, b"{}")

        assert [n.headers for n in deliveries.waiting] == [
            {"X-Delivery": "d-1"},
            {"X-Delivery": "d-1-again"},
        ]


class TestOracle:
    def test_stale_write_is_regression(self) -> None:
        """The daemon restoring a value the source no longer has is a regression."""
        journal = Journal()
        _write(journal, "snow", "new", human=True)
        _write(journal, "jsm", "new", human=False)
        journal.note_synced("jsm", "t1", {"status": "new"})
        _write(journal, "snow", "pending", human=True)
        _write(journal, "jsm", "pending", human=False)
        journal.note_synced("jsm", "t1", {"status": "pending"})
        _write(journal, "jsm", "new", human=False)
        history = journal.history("jsm", "t1", "status")
        source = journal.history("snow", "t1", "status")

        found = list(_returns(journal, history, [], source))

        assert [write.value for write in found] == ["new"]

    def test_value_set_again_passes(self) -> None:
        """Restoring a value a person set again in between is no regression."""
        journal = Journal()
        _write(journal, "jsm", "new", human=False)
        _write(journal, "jsm", "pending", human=False)
        _write(journal, "snow", "new", human=True)
        _write(journal, "jsm", "new", human=False)
        people = [write for write in journal.writes if write.human]
        history = journal.history("jsm", "t1", "status")

        found = list(_returns(journal, history, people, journal.history("snow", "t1", "status")))

        assert found == []

    def test_synced_value_overwrite_passes(self) -> None:
        """Copying the source's value over one the daemon took as synced is no regression."""
        journal = Journal()
        _write(journal, "snow", "pending", human=True)
        _write(journal, "jsm", "pending", human=False)
        journal.note_synced("jsm", "t1", {"status": "new"})
        _write(journal, "jsm", "new", human=True)
        _write(journal, "jsm", "pending", human=False)
        history = journal.history("jsm", "t1", "status")

        found = list(_returns(journal, history, [], journal.history("snow", "t1", "status")))

        assert found == []

    def test_unseen_change_overwrite_fails(self) -> None:
        """Overwriting a value the daemon never took as synced, with no conflict, fails."""
        journal = Journal()
        _write(journal, "snow", "pending", human=True)
        _write(journal, "jsm", "pending", human=False)
        journal.note_synced("jsm", "t1", {"status": "pending"})
        _write(journal, "jsm", "new", human=True)
        _write(journal, "jsm", "pending", human=False)
        history = journal.history("jsm", "t1", "status")

        found = list(_returns(journal, history, [], journal.history("snow", "t1", "status")))

        assert [write.seq for write in found] == [history[-1].seq]

    def test_passing_value_dropped(self) -> None:
        """Two daemon writes with no snapshot in between keep only the second value."""
        journal = Journal()
        _write(journal, "jsm", "canceled", human=True)
        _write(journal, "jsm", "in_progress", human=False)
        _write(journal, "jsm", "resolved", human=False)
        journal.note_synced("jsm", "t1", {"status": "resolved"})

        kept = _settled(journal, journal.history("jsm", "t1", "status"))

        assert [write.value for write in kept] == ["canceled", "resolved"]


def test_write_record_shape() -> None:
    """The journal records only values that changed, with one position per save."""
    journal = Journal()
    journal.observe("snow", "t1", {"title": "a", "status": "new"}, human=True)
    journal.observe("snow", "t1", {"title": "a", "status": "pending"}, human=False)

    assert journal.writes == [
        Write(1, "snow", "t1", "title", "a", True),
        Write(1, "snow", "t1", "status", "new", True),
        Write(2, "snow", "t1", "status", "pending", False),
    ]


def test_two_seeds_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """Two seeds play and judge cleanly, and the last line carries the counts."""
    status = main(["--seeds", "2", "--start", "11"])

    lines = capsys.readouterr().out.strip().splitlines()
    assert RESULT_LINE.match(lines[-1]), lines[-1]
    assert lines[-1] == "seeds=2 lost=0 regressions=0 duplicates=0"
    assert status == 0


def test_seeds_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    """`--seeds 0` is a usage error."""
    with pytest.raises(SystemExit) as stopped:
        main(["--seeds", "0"])

    assert stopped.value.code == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_history_200_seeds() -> None:
    """200 seeds keep every promise: the checker exits 0 and reports zero of each."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.history", "--seeds", "200", "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HISTORY_TIMEOUT_SECONDS,
        check=False,
    )

    last = completed.stdout.strip().splitlines()[-1]
    found = RESULT_LINE.match(last)
    assert found, completed.stderr[-3000:]
    assert found.group(1) == "200"
    assert found.groups()[1:] == ("0", "0", "0"), completed.stderr[-3000:]
    assert completed.returncode == 0
