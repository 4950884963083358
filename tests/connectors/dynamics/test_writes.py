from __future__ import annotations

import pytest

from tierbridge.connectors.dynamics.metadata import StatusPair
from tierbridge.connectors.dynamics.writes import Close, Patch, ReadOnlyCase, plan_writes

IN_PROGRESS = StatusPair(0, 1, "In Progress")
ON_HOLD = StatusPair(0, 2, "On Hold")
SOLVED = StatusPair(1, 5, "Problem Solved")
INFORMED = StatusPair(1, 1000, "Information Provided")
CANCELLED = StatusPair(2, 6, "Cancelled")
TITLE = {"title": "New"}


@pytest.mark.parametrize(
    ("current", "target", "columns", "steps"),
    [
        ((0, 1), None, TITLE, [Patch(TITLE)]),
        ((0, 1), None, {}, []),
        ((0, 1), ON_HOLD, TITLE, [Patch({"title": "New", "statuscode": 2})]),
        ((0, 1), SOLVED, {}, [Close(5)]),
        ((0, 1), SOLVED, TITLE, [Patch(TITLE), Close(5)]),
        ((0, 1), CANCELLED, TITLE, [Patch({"title": "New", "statecode": 2, "statuscode": 6})]),
        ((1, 5), IN_PROGRESS, TITLE, [Patch({"statecode": 0, "statuscode": 1}), Patch(TITLE)]),
        ((1, 5), ON_HOLD, {}, [Patch({"statecode": 0, "statuscode": 2})]),
        ((1, 5), INFORMED, {}, [Patch({"statecode": 0}), Close(1000)]),
        ((2, 6), SOLVED, TITLE, [Patch({"statecode": 0}), Patch(TITLE), Close(5)]),
        (
            (1, 5),
            CANCELLED,
            {},
            [Patch({"statecode": 0}), Patch({"statecode": 2, "statuscode": 6})],
        ),
        ((1, 5), SOLVED, {}, []),
    ],
)
def test_plans(
    current: tuple[int, int],
    target: StatusPair | None,
    columns: dict[str, str],
    steps: list[object],
) -> None:
    """Each move writes columns while the case is active and resolves only by CloseIncident."""
    assert plan_writes(current, target, columns) == steps


@pytest.mark.parametrize(
    ("current", "target"), [((1, 5), None), ((1, 5), SOLVED), ((2, 6), CANCELLED)]
)
def test_closed_stays_read_only(current: tuple[int, int], target: StatusPair | None) -> None:
    """Columns for a case that is closed and stays closed raise ReadOnlyCase."""
    with pytest.raises(ReadOnlyCase):
        plan_writes(current, target, TITLE)
