"""Tests for `replay_batches`, the order in which the demo replays the sample."""

from __future__ import annotations

from tests.core.demo.support import logged
from tierbridge.core.demo.actors import replay_batches
from tierbridge.core.demo.dataset import IncidentHistory
from tierbridge.core.demo.plan import PlannedIncident


def planned(number: str, steps: list[int]) -> PlannedIncident:
    events = tuple(logged(number, step) for step in steps)
    return PlannedIncident(IncidentHistory(number, events), None, events, l2_resolves=False)


class TestReplayBatches:
    def test_each_incident_once_per_batch(self) -> None:
        """No batch contains two updates of one incident, so a batch may run in any order."""
        sample = [planned("INC-A", [0, 1, 2]), planned("INC-B", [0, 1])]

        batches = list(replay_batches(sample))

        for batch in batches:
            numbers = [item.number for item, _ in batch]
            assert len(numbers) == len(set(numbers))
        assert sum(len(batch) for batch in batches) == 5

    def test_time_order_kept(self) -> None:
        """Updates come out in logged time order, and each incident's in its own order."""
        sample = [planned("INC-A", [0, 2]), planned("INC-B", [1, 3])]

        order = [(item.number, index) for batch in replay_batches(sample) for item, index in batch]

        assert order == [("INC-A", 0), ("INC-B", 0), ("INC-A", 1), ("INC-B", 1)]

    def test_same_time_batched_together(self) -> None:
        """Updates of different incidents logged at the same time share a batch."""
        sample = [planned("INC-A", [0, 1]), planned("INC-B", [0, 1])]

        batches = [
            [(item.number, index) for item, index in batch] for batch in replay_batches(sample)
        ]

        assert batches == [[("INC-A", 0), ("INC-B", 0)], [("INC-A", 1), ("INC-B", 1)]]

    def test_empty_sample(self) -> None:
        """An empty sample yields no batch."""
        assert list(replay_batches([])) == []
