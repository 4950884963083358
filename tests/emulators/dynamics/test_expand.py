from __future__ import annotations

import pytest
from fastapi import HTTPException

from tierbridge.emulators.dynamics.expand import parse_expand
from tierbridge.emulators.dynamics.schema import TABLES

INCIDENT = TABLES["incident"]


def test_expand_with_select() -> None:
    """$expand reads nested $select and rejects unknown navigation properties."""
    expansions = parse_expand(
        INCIDENT, "owninguser($select=internalemailaddress),customerid_account"
    )

    assert [(e.name, e.select) for e in expansions] == [
        ("owninguser", ["internalemailaddress"]),
        ("customerid_account", None),
    ]
    with pytest.raises(HTTPException):
        parse_expand(INCIDENT, "Incident_Annotation")
