from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tierbridge.connectors.dynamics.metadata import StatusCatalog, StatusPair
from tierbridge.core.errors import RejectedError, RetryableError


def _option(value: int, state: int, label: str) -> dict[str, Any]:
    return {"Value": value, "State": state, "Label": {"UserLocalizedLabel": {"Label": label}}}


PAYLOAD = {
    "value": [
        {
            "LogicalName": "statuscode",
            "OptionSet": {
                "Options": [
                    _option(1, 0, "In Progress"),
                    _option(100000001, 0, "Escalated to vendor"),
                    _option(5, 1, "Problem Solved"),
                    _option(6, 2, "Cancelled"),
                ]
            },
        }
    ]
}


class Fetch:
    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload
        self.calls: list[tuple[str, Mapping[str, str]]] = []

    def __call__(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        self.calls.append((path, params))
        return self.payload


def test_loads_once() -> None:
    """The metadata is read once, with the OptionSet expanded, and reused."""
    fetch = Fetch(PAYLOAD)
    catalog = StatusCatalog(fetch, "dyn")

    catalog.resolve(None, 1, operation="u", record=None)
    catalog.resolve(None, 5, operation="u", record=None)

    assert fetch.calls == [
        (
            "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata",
            {"$expand": "OptionSet"},
        )
    ]


def test_custom_status_reason() -> None:
    """A status reason the organisation added pairs with its state."""
    catalog = StatusCatalog(Fetch(PAYLOAD), "dyn")

    assert catalog.resolve("0", "100000001", operation="u", record=None) == StatusPair(
        0, 100000001, "Escalated to vendor"
    )


def test_describe_lists_pairs() -> None:
    """Error messages list the valid pairs by state."""
    catalog = StatusCatalog(Fetch(PAYLOAD), "dyn")

    assert catalog.describe() == (
        "0 Active: 1 In Progress, 100000001 Escalated to vendor; 1 Resolved: 5 Problem Solved; 2 Canceled: 6 Cancelled"
    )


def test_neither_given() -> None:
    """Without statecode and statuscode there is nothing to resolve."""
    with pytest.raises(RejectedError, match="neither"):
        StatusCatalog(Fetch(PAYLOAD), "dyn").resolve(None, None, operation="u", record=None)


def test_empty_metadata() -> None:
    """Metadata without status reasons raises RetryableError and is read again next time."""
    fetch = Fetch({"value": []})
    catalog = StatusCatalog(fetch, "dyn")

    for _ in range(2):
        with pytest.raises(RetryableError, match="no status reasons"):
            catalog.resolve(None, 1, operation="u", record=None)

    assert len(fetch.calls) == 2
