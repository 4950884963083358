"""The `statecode` of each `statuscode`, read from the case table's status metadata.

Organisations may add status reasons, so the pairs come from
`EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$expand=OptionSet`,
read once per connector. NOTE: a status reason added while the daemon runs is known only
after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierbridge.core.errors import RejectedError, RetryableError

__all__ = ["STATE_NAMES", "StatusCatalog", "StatusPair"]

_PATH = (
    "EntityDefinitions(LogicalName='incident')/Attributes/"
    "Microsoft.Dynamics.CRM.StatusAttributeMetadata"
)
#: The three states of a case; fixed by the platform, unlike the status reasons.
STATE_NAMES = {0: "Active", 1: "Resolved", 2: "Canceled"}


@dataclass(frozen=True)
class StatusPair:
    """A valid (statecode, statuscode) pair and the status reason's label."""

    state: int
    status: int
    label: str


def _label(option: Mapping[str, Any]) -> str:
    label = option.get("Label")
    user = label.get("UserLocalizedLabel") if isinstance(label, Mapping) else None
    text = user.get("Label") if isinstance(user, Mapping) else None
    return str(text) if text else str(option.get("Value"))


class StatusCatalog:
    """The status reasons of the case table, loaded on first use.

    `fetch(path, params)` performs the GET and returns the JSON object.
    """

    def __init__(
        self, fetch: Callable[[str, Mapping[str, str]], Mapping[str, Any]], connector: str
    ) -> None:
        self._fetch = fetch
        self._connector = connector
        self._pairs: dict[int, StatusPair] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[int, StatusPair]:
        with self._lock:
            if self._pairs is None:
                payload = self._fetch(_PATH, {"$expand": "OptionSet"})
                self._pairs = self._parse(payload)
            return self._pairs

    def _parse(self, payload: Mapping[str, Any]) -> dict[int, StatusPair]:
        pairs: dict[int, StatusPair] = {}
        for attribute in payload.get("value") or []:
            option_set = attribute.get("OptionSet") if isinstance(attribute, Mapping) else None
            for option in (option_set or {}).get("Options") or []:
                status, state = option.get("Value"), option.get("State")
                if isinstance(status, int) and isinstance(state, int):
                    pairs[status] = StatusPair(state, status, _label(option))
        if not pairs:
            msg = "the status metadata of incident lists no status reasons; check the metadata read privilege"
            raise RetryableError(
                msg, connector=self._connector, operation="read status metadata", record="incident"
            )
        return pairs

    def describe(self) -> str:
        """List the valid pairs, for error messages: `0: 1 In Progress, 2 On Hold; 1: …`."""
        by_state: dict[int, list[str]] = {}
        for pair in self._load().values():
            by_state.setdefault(pair.state, []).append(f"{pair.status} {pair.label}")
        return "; ".join(
            f"{state} {STATE_NAMES.get(state, '?')}: {', '.join(items)}"
            for state, items in sorted(by_state.items())
        )

    def resolve(
        self, statecode: Any, statuscode: Any, *, operation: str, record: str | None
    ) -> StatusPair:
        """Return the pair to write for the given values; raise RejectedError if they do not pair.

        A status reason alone gives its own state. A state alone gives the lowest status
        reason of that state.
        """
        pairs = self._load()

        def reject(problem: str) -> RejectedError:
            msg = f"{problem}; valid statecode: statuscode pairs are {self.describe()}"
            return RejectedError(msg, connector=self._connector, operation=operation, record=record)

        try:
            state = None if statecode is None else int(statecode)
            status = None if statuscode is None else int(statuscode)
        except (TypeError, ValueError):
            raise reject(
                f"statecode {statecode!r} or statuscode {statuscode!r} is not a number"
            ) from None
        if status is not None:
            pair = pairs.get(status)
            if pair is None:
                raise reject(f"statuscode {status} is not a status reason of incident")
            if state is not None and state != pair.state:
                raise reject(
                    f"statuscode {status} ({pair.label}) does not belong to statecode {state}"
                )
            return pair
        if state is None:
            raise reject("neither statecode nor statuscode was given")
        candidates = sorted(code for code, pair in pairs.items() if pair.state == state)
        if not candidates:
            raise reject(f"statecode {state} has no status reasons")
        return pairs[candidates[0]]
