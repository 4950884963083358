from __future__ import annotations

import threading

import pytest
import requests

from tierbridge.connectors.dynamics.transport import build_session, path_template


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://org.crm.dynamics.com/api/data/v9.2/incidents(3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c)?$select=title",
            "/api/data/v9.2/incidents({id})",
        ),
        (
            "https://org.crm.dynamics.com/api/data/v9.2/EntityDefinitions(LogicalName='incident')/Attributes",
            "/api/data/v9.2/EntityDefinitions(LogicalName='{name}')/Attributes",
        ),
        (
            "https://login.microsoftonline.com/8c1f2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f/oauth2/v2.0/token",
            "/{id}/oauth2/v2.0/token",
        ),
    ],
)
def test_path_template(url: str, expected: str) -> None:
    """Logged paths drop ids, quoted keys and the query string."""
    assert path_template(url) == expected


def test_no_free_slot_times_out() -> None:
    """With every request slot taken a call fails as a timeout instead of waiting forever."""
    slots = threading.BoundedSemaphore(1)
    session = build_session(connector="dyn", timeout=0.01, ca_bundle=None, slots=slots)
    slots.acquire()

    with pytest.raises(requests.Timeout, match="max_concurrent_requests"):
        session.get("https://127.0.0.1:9/never-sent")
    session.close()
