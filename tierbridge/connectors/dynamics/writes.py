"""Plan the Web API calls that take a case from its current status to the one requested.

Dataverse rules the plan follows:
* Resolving is only possible through the CloseIncident action, on an active case.
* A resolved or cancelled case is read-only until it is reactivated (statecode 0), so
  other columns are written before a close or cancel, or after a reactivation.
* Cancelling is an update of statecode 2 with a Canceled status reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tierbridge.connectors.dynamics.metadata import STATE_NAMES, StatusPair

__all__ = [
    "ACTIVE",
    "CANCELED",
    "RESOLVED",
    "Close",
    "Patch",
    "ReadOnlyCase",
    "Step",
    "plan_writes",
]

ACTIVE, RESOLVED, CANCELED = 0, 1, 2


@dataclass(frozen=True)
class Patch:
    """An update of the case with these column values."""

    body: Mapping[str, Any]


@dataclass(frozen=True)
class Close:
    """A CloseIncident call with this Resolved status reason."""

    status: int


Step = Patch | Close


class ReadOnlyCase(Exception):
    """Columns were to be written to a resolved or cancelled case that stays closed."""

    def __init__(self, state: int) -> None:
        self.state = state
        super().__init__(STATE_NAMES.get(state, str(state)))


def plan_writes(
    current: tuple[int, int], target: StatusPair | None, columns: Mapping[str, Any]
) -> list[Step]:
    """Return the steps, in order, that write `columns` and move the case to `target`.

    `current` is the case's (statecode, statuscode). Raises ReadOnlyCase when `columns`
    must be written to a case that is closed and stays closed.
    """
    state, status = current
    body = dict(columns)
    if target is None or (target.state, target.status) == (state, status):
        if body and state != ACTIVE:
            raise ReadOnlyCase(state)
        return [Patch(body)] if body else []

    steps: list[Step] = []
    if state != ACTIVE:
        reactivate = (
            {"statecode": ACTIVE, "statuscode": target.status}
            if target.state == ACTIVE
            else {"statecode": ACTIVE}
        )
        steps.append(Patch(reactivate))
        if target.state == ACTIVE:
            return [*steps, Patch(body)] if body else steps

    if target.state == ACTIVE:
        return [Patch({**body, "statuscode": target.status})]
    if target.state == CANCELED:
        return [*steps, Patch({**body, "statecode": CANCELED, "statuscode": target.status})]
    if body:
        steps.append(Patch(body))
    return [*steps, Close(target.status)]
