from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.connectors.salesforce.conftest import MakeConnector, MakeSettings, seed_case
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.core.errors import (
    AuthenticationError,
    RetryableError,
    ThrottledError,
)
from tierbridge.emulators.salesforce import SalesforceEmulator

TOKEN_PATH = "/services/oauth2/token"


def calls(logs: list[dict[str, Any]]) -> list[tuple[str, str, int | None]]:
    return [
        (line["method"], line["path"], line["status"])
        for line in logs
        if line.get("event") == "api_call"
    ]


def test_refresh_on_invalid_session(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """After INVALID_SESSION_ID a new token is fetched once and the read is replayed."""
    case_id = seed_case(emulator)
    connector.get_record(case_id)
    emulator.expire_sessions()

    with capture_logs() as logs:
        record = connector.get_record(case_id)

    assert record.id == case_id
    assert [(method, path) for method, path, _ in calls(logs)] == [
        ("GET", "/services/data/v62.0/query/"),
        ("POST", TOKEN_PATH),
        ("GET", "/services/data/v62.0/query/"),
    ]
    assert [status for _, _, status in calls(logs)] == [401, 200, 200]


def test_patch_replayed_after_refresh(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """An update (PATCH, idempotent) is sent again with the new token."""
    case_id = seed_case(emulator)
    connector.get_record(case_id)
    emulator.expire_sessions()

    record = connector.update_record(case_id, {"Status": "Working"})

    assert record.fields["Status"] == "Working"


def test_create_not_replayed(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """A create refused for an expired session is not sent twice; the next one works."""
    connector.find_by_correlation("warm-up")
    emulator.expire_sessions()

    with pytest.raises(RetryableError, match="not idempotent"):
        connector.create_record({"Subject": "Printer"}, "snow:1")

    assert emulator.state.rows("Case") == []
    assert connector.create_record({"Subject": "Printer"}, "snow:1").fields["Subject"] == "Printer"


def test_second_refusal_is_auth_error(
    connector: SalesforceConnector, emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token refused again right after the refresh raises AuthenticationError."""
    case_id = seed_case(emulator)
    issue = emulator.auth.issue_token

    def issue_and_expire(*args: Any) -> dict[str, Any]:
        token = issue(*args)
        emulator.expire_sessions()
        return token

    monkeypatch.setattr(emulator.auth, "issue_token", issue_and_expire)

    with pytest.raises(AuthenticationError) as caught:
        connector.get_record(case_id)

    assert caught.value.status == 401


def test_limit_exceeded_throttles(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """403 REQUEST_LIMIT_EXCEEDED raises ThrottledError without a wait, naming the 24 h quota."""
    case_id = seed_case(emulator)
    emulator.inject_limit_exceeded(1)

    with pytest.raises(ThrottledError) as caught:
        connector.get_record(case_id)

    assert caught.value.retry_after is None
    assert caught.value.status == 403
    assert "24 hours" in str(caught.value)


def test_limit_exceeded_defers_connector(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """After REQUEST_LIMIT_EXCEEDED the limiter keeps later calls from reaching the org."""
    case_id = seed_case(emulator)
    emulator.inject_limit_exceeded(1)
    with pytest.raises(ThrottledError):
        connector.get_record(case_id)

    with capture_logs() as logs, pytest.raises(ThrottledError, match="REQUEST_LIMIT_EXCEEDED"):
        connector.get_record(case_id)

    assert calls(logs) == []


def test_limit_info_exposed(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """The last Sforce-Limit-Info is exposed as used/allowed."""
    assert connector.limit_info is None
    connector.find_by_correlation("x")
    connector.find_by_correlation("y")

    usage = connector.limit_info

    assert usage is not None
    assert usage.api_usage == (2, 15000)


def test_wrong_client_secret(
    make_connector: MakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused client secret raises AuthenticationError naming the OAuth error code."""
    monkeypatch.setenv("TB_TEST_SF_WRONG", "not-the-secret")
    auth = {
        "type": "oauth_client_credentials",
        "client_id": "tierbridge-client",
        "client_secret": {"env": "TB_TEST_SF_WRONG"},
    }
    connector = make_connector(auth=auth)

    with pytest.raises(AuthenticationError, match="invalid_client") as caught:
        connector.find_by_correlation("x")

    assert "not-the-secret" not in str(caught.value)


def test_other_org_refused(make_connector: MakeConnector) -> None:
    """A token issued for another org than organization_id raises AuthenticationError."""
    connector = make_connector(organization_id="00DHs000000OtHe")

    with pytest.raises(AuthenticationError, match="organization_id"):
        connector.find_by_correlation("x")


def test_log_lines_carry_no_query(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """Each call logs connector, method, path template, status and duration; never SOQL."""
    case_id = seed_case(emulator)

    with capture_logs() as logs:
        connector.update_record(case_id, {"Subject": "secret subject"})

    lines = [line for line in logs if line.get("event") == "api_call"]
    assert {line["path"] for line in lines} == {
        TOKEN_PATH,
        "/services/data/v62.0/sobjects/Case/{id}",
        "/services/data/v62.0/query/",
    }
    for line in lines:
        assert set(line) >= {"connector", "method", "path", "status", "duration_ms"}
        assert line["connector"] == "sf"
    assert "secret subject" not in repr(logs)
    assert case_id not in repr(logs)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    listener.close()


def test_timeout_applies(make_settings: MakeSettings, silent_port: int) -> None:
    """A host that never responds times out within timeout_seconds as RetryableError."""
    settings = make_settings(base_url=f"https://127.0.0.1:{silent_port}", timeout_seconds=0.2)
    connector = SalesforceConnector("sf", settings)

    with pytest.raises(RetryableError, match="Timeout"):
        connector.find_by_correlation("x")
    connector.close()
