"""The history checker: its parts on their own, two seeds of each pair in process, and 200
seeds as CI runs it."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import requests

from bench._history import oracle, scenario
from bench._history.actors import ACTORS, PAIRS
from bench._history.clock import START, ScenarioClock
from bench._history.deliveries import Build, Deliveries, FaultRates
from bench._history.journal import Journal, Write
from bench._history.oracle import _returns, _settled
from bench._history.world import ACTOR_MODULES, World
from bench.history import _judge_seed, main
from tierbridge.core.config import load_config
from tierbridge.core.model import Tier

ROOT = Path(__file__).resolve().parents[2]
RESULT_LINE = re.compile(r"^seeds=(\d+) lost=(\d+) regressions=(\d+) duplicates=(\d+)$")
NEW_PAIRS = ("salesforce-jsm", "dynamics-servicenow")
#: 200 seeds took about 2 minutes with 2 workers on a 2-core VM shared with other jobs.
#: The limit leaves room for a slower CI runner.
HISTORY_TIMEOUT_SECONDS = 2400


def _write(journal: Journal, connector: str, value: str, *, human: bool) -> None:
    journal.observe(connector, "t1", {"status": value}, human=human)


def _fixed(headers: dict[str, str], body: bytes = b"{}") -> Build:
    return lambda: (headers, body)


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
                deliveries.capture("snow", _fixed({"X-Delivery": str(index)}))
            runs.append([(n.headers, n.wait) for n in deliveries.waiting])

        assert runs[0] == runs[1]

    def test_drop_rate_one_drops_all(self) -> None:
        """With a drop rate of 1 nothing is queued, and each drop is counted."""
        deliveries = Deliveries(random.Random(1), FaultRates(drop=1.0))

        for index in range(5):
            deliveries.capture("snow", _fixed({"X-Delivery": str(index)}))

        assert deliveries.waiting == []
        assert deliveries.dropped == 5

    def test_undroppable_notice_arrives(self) -> None:
        """A notice that may not be dropped is queued even at a drop rate of 1."""
        deliveries = Deliveries(random.Random(1), FaultRates(drop=1.0, duplicate=0.0))

        deliveries.capture("dyn", _fixed({"X-Delivery": "d-1"}), droppable=False)

        assert [n.headers for n in deliveries.waiting] == [{"X-Delivery": "d-1"}]
        assert deliveries.dropped == 0

    def test_duplicate_new_id(self) -> None:
        """A duplicate with a new id is built anew: the same change under a new delivery id."""
        rates = FaultRates(drop=0.0, duplicate=1.0, new_id=1.0, delay=0.0)
        deliveries = Deliveries(random.Random(1), rates)
        ids = itertools.count(1)

        deliveries.capture("jsm", lambda: ({"X-Delivery": f"d-{next(ids)}"}, b"{}"))

        assert [n.headers for n in deliveries.waiting] == [
            {"X-Delivery": "d-1"},
            {"X-Delivery": "d-2"},
        ]

    def test_duplicate_same_id(self) -> None:
        """A vendor's retry repeats the delivery as it was, without building another."""
        rates = FaultRates(drop=0.0, duplicate=1.0, new_id=0.0, delay=0.0)
        deliveries = Deliveries(random.Random(1), rates)
        ids = itertools.count(1)

        deliveries.capture("jsm", lambda: ({"X-Delivery": f"d-{next(ids)}"}, b"{}"))

        assert [n.headers for n in deliveries.waiting] == [
            {"X-Delivery": "d-1"},
            {"X-Delivery": "d-1"},
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


class TestPairs:
    def test_every_system_has_actor(self) -> None:
        """Each pair names systems that have an actor, and modules register them all."""
        assert ACTOR_MODULES
        for pair in PAIRS.values():
            assert pair.l1[1] in ACTORS, pair.name
            assert pair.l2[1] in ACTORS, pair.name

    def test_configs_name_connectors(self) -> None:
        """Each pair's config exists and serves L1 and L2 with the pair's connectors."""
        for pair in PAIRS.values():
            config = load_config(pair.config)

            assert config.tiers[Tier.L1].connector == pair.l1[0], pair.name
            assert config.tiers[Tier.L2].connector == pair.l2[0], pair.name
            assert config.connectors[pair.l1[0]].system == pair.l1[1], pair.name
            assert config.connectors[pair.l2[0]].system == pair.l2[1], pair.name

    def test_salesforce_jsm_never_cancels(self) -> None:
        """Salesforce has no canceled status, so no move of the pair leads there."""
        moves = PAIRS["salesforce-jsm"].moves

        assert "canceled" not in moves
        assert all("canceled" not in targets for targets in moves.values())
        assert moves["resolved"] == ("in_progress",)

    def test_dynamics_servicenow_no_new(self) -> None:
        """Dynamics cases have no New status, so the pair neither starts from nor moves to it."""
        moves = PAIRS["dynamics-servicenow"].moves

        assert "new" not in moves
        assert all("new" not in targets for targets in moves.values())
        assert moves["canceled"] == ("in_progress",)

    def test_three_priorities_shared(self) -> None:
        """Both new pairs share only the three priorities Salesforce and Dynamics read back."""
        for name in NEW_PAIRS:
            assert PAIRS[name].priorities == ("P2", "P3", "P4"), name

    def test_servicenow_jsm_keeps_all(self) -> None:
        """ServiceNow and JSM share every priority and every move of the full table."""
        pair = PAIRS["servicenow-jsm"]

        assert pair.priorities == ("P1", "P2", "P3", "P4", "P5")
        assert pair.moves["new"] == ("in_progress", "pending", "resolved", "canceled")


def test_two_seeds_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """Two seeds play and judge cleanly, and the last line carries the counts."""
    status = main(["--seeds", "2", "--start", "11"])

    lines = capsys.readouterr().out.strip().splitlines()
    assert RESULT_LINE.match(lines[-1]), lines[-1]
    assert lines[-1] == "seeds=2 lost=0 regressions=0 duplicates=0"
    assert status == 0


@pytest.mark.parametrize("pair", NEW_PAIRS)
def test_new_pair_two_seeds(pair: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Two seeds of each new pair play and judge cleanly, and the last line has the counts."""
    status = main(["--seeds", "2", "--start", "11", "--pair", pair])

    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines == ["seeds=2 lost=0 regressions=0 duplicates=0"], captured.err[-3000:]
    assert status == 0


def test_pair_all_one_seed(capsys: pytest.CaptureFixture[str]) -> None:
    """`--pair all` prints one line per pair, each with its name, then the total."""
    status = main(["--seeds", "1", "--start", "5", "--pair", "all"])

    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    expected = [f"{name} seeds=1 lost=0 regressions=0 duplicates=0" for name in PAIRS]
    assert lines[:-1] == expected, captured.err[-3000:]
    assert RESULT_LINE.match(lines[-1]), lines[-1]
    assert lines[-1] == f"seeds={len(PAIRS)} lost=0 regressions=0 duplicates=0"
    assert status == 0


def test_unknown_pair_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    """A pair the checker has no actors for is a usage error that lists the known ones."""
    with pytest.raises(SystemExit) as stopped:
        main(["--pair", "zendesk-jsm"])

    assert stopped.value.code == 2
    assert "salesforce-jsm" in capsys.readouterr().err


class TestJudgeSeed:
    def test_lost_connection_replays(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A seed whose person lost the connection is played once more, then judged."""
        calls: list[str] = []
        run = SimpleNamespace(rt=SimpleNamespace(close=lambda: calls.append("close")))

        def play(_world: object, _seed: int) -> object:
            calls.append("play")
            if calls.count("play") == 1:
                raise requests.ConnectionError("Remote end closed connection without response")
            return run

        monkeypatch.setattr(scenario, "play", play)
        monkeypatch.setattr(oracle, "judge", lambda _run: [])

        findings = _judge_seed(cast(World, None), 3)

        assert findings == []
        assert calls == ["play", "play", "close"]

    def test_second_loss_raises(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A connection lost in both plays fails the seed."""

        def play(_world: object, _seed: int) -> object:
            raise requests.ConnectionError("Remote end closed connection without response")

        monkeypatch.setattr(scenario, "play", play)

        with pytest.raises(requests.ConnectionError):
            _judge_seed(cast(World, None), 3)


def test_seeds_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    """`--seeds 0` is a usage error."""
    with pytest.raises(SystemExit) as stopped:
        main(["--seeds", "0"])

    assert stopped.value.code == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_history_200_seeds() -> None:
    """200 seeds of each pair keep every promise: the checker exits 0 and reports zero."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.history",
            "--seeds",
            "200",
            "--workers",
            "2",
            "--pair",
            "all",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HISTORY_TIMEOUT_SECONDS,
        check=False,
    )

    last = completed.stdout.strip().splitlines()[-1]
    found = RESULT_LINE.match(last)
    assert found, completed.stderr[-3000:]
    assert found.group(1) == str(200 * len(PAIRS))
    assert found.groups()[1:] == ("0", "0", "0"), completed.stderr[-3000:]
    assert completed.returncode == 0


def test_crash_before_source_snapshot_seed(capsys: pytest.CaptureFixture[str]) -> None:
    """A value set back on the source after a write whose pass crashed still reaches the target.

    This seed writes P4 to JSM, crashes before the incident's snapshot is saved, and then
    sets the incident back to P2, the value the stale snapshot still holds.
    """
    status = main(["--seeds", "1", "--start", "8893"])

    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "seeds=1 lost=0 regressions=0 duplicates=0"
    )
    assert status == 0


def test_both_resolved_no_reopen(capsys: pytest.CaptureFixture[str]) -> None:
    """A case people resolved on both sides before a sync is not reopened by the daemon.

    In this history, a person resolves the incident and another the Dynamics case, with
    another status reason, before the daemon reads either. Writing the incident's status
    would reactivate the case to set the default reason, so the status would go back and forth.
    """
    status = main(["--seeds", "1", "--start", "450", "--pair", "dynamics-servicenow"])

    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "seeds=1 lost=0 regressions=0 duplicates=0"
    )
    assert status == 0
