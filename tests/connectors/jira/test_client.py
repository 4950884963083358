from __future__ import annotations

import json
import socket
from pathlib import Path

import certifi
import pytest
import requests
from jira import JIRAError
from structlog.testing import capture_logs

from tests.connectors.jira.conftest import SettingsFactory
from tierbridge.connectors.jira.client import JiraClient, path_template, translate_errors
from tierbridge.core.connector_settings import OAuthClientCredentials
from tierbridge.core.errors import (
    AuthenticationError,
    ConfigError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.secrets import SecretRef
from tierbridge.emulators.jira import JiraEmulator


def _response(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


def _translated(error: Exception) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught, translate_errors("jira-l2", "read issue", "10"):
        raise error
    return caught.value


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (400, RejectedError),
        (409, RejectedError),
        (408, RetryableError),
        (500, RetryableError),
        (503, RetryableError),
    ],
)
def test_status_translation(status: int, expected: type[ConnectorError]) -> None:
    """Each HTTP status maps to the error class the engine retries, escalates or skips by."""
    error = _translated(JIRAError(status_code=status, response=_response(status)))

    assert type(error) is expected
    assert error.status == status
    assert error.record == "10"


def test_429_carries_retry_after() -> None:
    """429 becomes ThrottledError with the Retry-After seconds."""
    response = _response(429, {"errorMessages": []}, {"Retry-After": "7"})

    error = _translated(JIRAError(status_code=429, response=response))

    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7.0


def test_400_names_fields_not_values() -> None:
    """A refusal names the fields Jira complained about but never their values."""
    body = {
        "errorMessages": ["Issue text here"],
        "errors": {"customfield_10050": "Option value 'Secret stuff' is not valid."},
    }

    error = _translated(JIRAError(status_code=400, response=_response(400, body)))

    assert "customfield_10050" in str(error)
    assert "Secret stuff" not in str(error)
    assert "Issue text here" not in str(error)
    assert "1 general error message" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        requests.ReadTimeout("slow"),
        requests.ConnectionError("reset"),
        requests.exceptions.SSLError("bad cert"),
        JIRAError("Empty Response!"),
    ],
)
def test_transport_errors_retryable(error: Exception) -> None:
    """Timeouts, resets, TLS failures and empty responses are retryable."""
    assert isinstance(_translated(error), RetryableError)


def test_path_template() -> None:
    """Keys, ids and comment ids are replaced by placeholders."""
    assert path_template("https://x/rest/api/3/issue/L2-5/transitions?expand=a") == (
        "/rest/api/3/issue/{issueIdOrKey}/transitions"
    )
    assert path_template("https://x/rest/servicedeskapi/request/10001/comment") == (
        "/rest/servicedeskapi/request/{issueIdOrKey}/comment"
    )
    assert path_template("https://x/rest/api/3/issue/1/comment/77") == (
        "/rest/api/3/issue/{issueIdOrKey}/comment/{commentId}"
    )


def test_path_template_attachments() -> None:
    """Attachment ids, media file ids and the token query stay out of logged paths."""
    assert path_template("https://x/rest/api/3/attachment/content/10300?redirect=false") == (
        "/rest/api/3/attachment/content/{attachmentId}"
    )
    assert path_template("https://x/rest/api/3/attachment/10300") == (
        "/rest/api/3/attachment/{attachmentId}"
    )
    assert path_template("https://x/rest/api/3/attachment/meta") == "/rest/api/3/attachment/meta"
    assert path_template("https://x/file/8a47-c11e/binary?token=secret") == (
        "/file/{fileId}/binary"
    )


def test_one_log_line_per_call(make_settings: SettingsFactory) -> None:
    """Each HTTP call logs connector, method, path template, status and duration."""
    client = JiraClient("jira-l2", make_settings())
    with capture_logs() as logs:
        client.myself()
        with pytest.raises(NotFoundError):
            client.get_issue("L2-404", ["summary"])
    client.close()

    calls = [entry for entry in logs if entry["event"] == "api_call"]
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("GET", "/rest/api/3/myself", 200),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}", 404),
    ]
    assert all(call["connector"] == "jira-l2" for call in calls)
    assert all(isinstance(call["duration_ms"], int) for call in calls)
    assert "svc-api-token" not in repr(logs)


def test_wrong_token_is_authentication_error(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused API token raises AuthenticationError."""
    monkeypatch.setenv("TIERBRIDGE_TEST_JIRA_TOKEN", "wrong")
    client = JiraClient("jira-l2", make_settings())

    with pytest.raises(AuthenticationError, match="credentials"):
        client.myself()
    client.close()


def test_unreachable_is_retryable(make_settings: SettingsFactory) -> None:
    """A closed port raises RetryableError and still logs the call."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = JiraClient("jira-l2", make_settings(base_url=f"https://127.0.0.1:{port}"))

    with capture_logs() as logs, pytest.raises(RetryableError, match="cannot reach"):
        client.myself()
    client.close()

    assert logs[0]["status"] is None
    assert logs[0]["error"] == "ConnectionError"


def test_wrong_ca_is_permanent(
    make_settings: SettingsFactory, tmp_path: Path, emulator: JiraEmulator
) -> None:
    """A certificate the CA bundle does not vouch for is a permanent error naming ca_bundle."""
    other_ca = tmp_path / "other.pem"
    other_ca.write_bytes(Path(certifi.where()).read_bytes())
    client = JiraClient("jira-l2", make_settings(ca_bundle=other_ca))

    with pytest.raises(PermanentError, match="ca_bundle"):
        client.myself()
    client.close()


def test_oauth_auth_refused(make_settings: SettingsFactory) -> None:
    """Jira connectors take basic auth only; OAuth settings raise ConfigError."""
    auth = OAuthClientCredentials(
        type="oauth_client_credentials", client_id="c", client_secret=SecretRef(env="NOPE")
    )

    with pytest.raises(ConfigError, match="basic"):
        JiraClient("jira-l2", make_settings(auth=auth))
