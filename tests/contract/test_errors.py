"""Vendor error bodies become tierbridge errors that name the cause."""

from __future__ import annotations

import pytest

from tierbridge.core.errors import PermanentError, RejectedError
from tierbridge.testing import Target


def test_rejected_update_names_cause(target: Target) -> None:
    """A write the system refuses raises RejectedError with the vendor's reason in it."""
    facts = target.facts
    seeded = target.seed("Wi-Fi slow in room 4")
    connector = target.connector()

    with pytest.raises(RejectedError) as raised:
        connector.update_record(seeded.id, facts.rejected_update)

    assert isinstance(raised.value, PermanentError)
    assert raised.value.status is not None
    assert 400 <= raised.value.status < 500
    assert facts.rejection_hint in str(raised.value)
