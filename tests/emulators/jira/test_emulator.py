from __future__ import annotations

from pathlib import Path

from tests.emulators.jira.support import Api
from tierbridge.emulators.jira import JiraEmulator


def test_inject_429_headers(emulator: JiraEmulator, svc: Api) -> None:
    """Injected throttling returns 429 with Jira's rate-limit headers, then recovers."""
    emulator.inject_429(2, retry_after=7)

    first = svc.get("/rest/api/3/myself")
    second = svc.get("/rest/api/3/myself")
    third = svc.get("/rest/api/3/myself")

    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"
    assert first.headers["RateLimit-Reason"] == "jira-burst-based"
    assert first.headers["X-RateLimit-Reset"] == "2024-05-01T07:15Z"
    assert first.json()["errorMessages"]


def test_inject_error_status(emulator: JiraEmulator, svc: Api) -> None:
    """Injected errors return the given status once."""
    emulator.inject_error(503)

    assert svc.get("/rest/api/3/myself").status_code == 503
    assert svc.get("/rest/api/3/myself").status_code == 200


def test_reset_empties_state(emulator: JiraEmulator, svc: Api) -> None:
    """reset() deletes issues and restarts keys."""
    svc.create_request()

    emulator.reset()

    assert emulator.state.issues == {}
    assert svc.create_request()["issueKey"] == "L2-1"


def test_custom_users(jira_tls_dir: Path) -> None:
    """`users` replaces the built-in accounts; unknown e-mails get a UTC profile."""
    with JiraEmulator(
        tls_dir=jira_tls_dir, users={"ops@example.com": "tok"}, project="OPS"
    ) as emulator:
        api = Api(emulator.base_url, emulator.ca_cert, ("ops@example.com", "tok"))
        me = api.get("/rest/api/3/myself").json()
        created = api.create_request()
        api.session.close()

    assert me["timeZone"] == "UTC"
    assert created["issueKey"] == "OPS-1"
