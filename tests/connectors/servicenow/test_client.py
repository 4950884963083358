from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from structlog.testing import capture_logs

from tierbridge.connectors.servicenow.client import TableClient, path_template
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.core.errors import (
    AuthenticationError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)

BASE = "https://127.0.0.1:9"
INCIDENTS = f"{BASE}/api/now/table/incident"
SYS_ID = "6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4"
PASSWORD = "pa55-word-for-tests"


def envelope(message: str, detail: str) -> dict[str, object]:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TableClient]:
    monkeypatch.setenv("TB_TEST_CLIENT_PASSWORD", PASSWORD)
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used: responses answers before TLS\n")
    settings = ServiceNowSettings.model_validate(
        {
            "system": "servicenow",
            "base_url": BASE,
            "mapping": tmp_path / "m.yaml",
            "auth": {
                "type": "basic",
                "username": "svc",
                "password": {"env": "TB_TEST_CLIENT_PASSWORD"},
            },
            "ca_bundle": bundle,
            "timeout_seconds": 7,
        }
    )
    table = TableClient(settings, "snow")
    yield table
    table.close()


def page(client: TableClient) -> object:
    return client.page("incident", "ORDERBYsys_id", ["sys_id"], operation="poll", limit=2, offset=0)


def test_path_template() -> None:
    """sys_ids in paths become {sys_id}; the query string is dropped."""
    url = f"{INCIDENTS}/{SYS_ID}?sysparm_query=email=a@example.com"

    assert path_template(url) == "/api/now/table/incident/{sys_id}"


@responses.activate
def test_timeout_and_bundle(client: TableClient) -> None:
    """Every request carries the configured timeout and CA bundle."""
    responses.get(INCIDENTS, json={"result": []}, headers={"X-Total-Count": "0"})

    page(client)

    sent = responses.calls[0].request
    # responses records the keyword arguments the adapter received as `req_kwargs`.
    kwargs = getattr(sent, "req_kwargs", {})
    assert kwargs["timeout"] == 7
    assert str(kwargs["verify"]).endswith("ca.pem")
    assert str(sent.headers["Authorization"]).startswith("Basic ")


@responses.activate
def test_one_log_line(client: TableClient) -> None:
    """Each call logs one line with connector, method, path template, status and duration."""
    responses.get(f"{INCIDENTS}/{SYS_ID}", json=envelope("No Record found", "gone"), status=404)

    with capture_logs() as logs, pytest.raises(Exception):  # noqa: B017, PT011
        client.get("incident", SYS_ID, ["sys_id"], operation="get_record")

    [line] = [entry for entry in logs if entry["event"] == "api_call"]
    assert line["connector"] == "snow"
    assert line["method"] == "GET"
    assert line["path"] == "/api/now/table/incident/{sys_id}"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], int)


@responses.activate
def test_server_error_retryable(client: TableClient) -> None:
    """A 5xx raises RetryableError."""
    responses.get(INCIDENTS, json=envelope("Internal error", "boom"), status=503)

    with pytest.raises(RetryableError) as caught:
        page(client)

    assert caught.value.status == 503
    assert not isinstance(caught.value, ThrottledError)


@responses.activate
def test_timeout_retryable(client: TableClient) -> None:
    """A timeout raises RetryableError naming the setting to check."""
    responses.get(INCIDENTS, body=requests.ReadTimeout("slow"))

    with pytest.raises(RetryableError, match="timeout_seconds"):
        page(client)


@responses.activate
def test_connection_error_retryable(client: TableClient) -> None:
    """A refused connection raises RetryableError."""
    responses.get(INCIDENTS, body=requests.ConnectionError("refused"))

    with pytest.raises(RetryableError, match="connection failed"):
        page(client)


@responses.activate
def test_tls_failure_permanent(client: TableClient) -> None:
    """A certificate failure raises PermanentError pointing at ca_bundle."""
    responses.get(INCIDENTS, body=requests.exceptions.SSLError("bad cert"))

    with pytest.raises(PermanentError, match="ca_bundle"):
        page(client)


@responses.activate
def test_read_403_is_auth(client: TableClient) -> None:
    """A 403 on a read is an ACL refusal: AuthenticationError."""
    responses.get(INCIDENTS, json=envelope("User Not Authorized", "ACL denied"), status=403)

    with pytest.raises(AuthenticationError):
        page(client)


@responses.activate
def test_write_403_acl_is_auth(client: TableClient) -> None:
    """A 403 on a write that names an ACL is AuthenticationError."""
    body = envelope("Operation Failed", "ACL Exception Update Failed due to security constraints")
    responses.patch(f"{INCIDENTS}/{SYS_ID}", json=body, status=403)

    with pytest.raises(AuthenticationError):
        client.update("incident", SYS_ID, {"state": "2"}, ["sys_id"], operation="update_record")


@responses.activate
def test_write_403_policy_rejected(client: TableClient) -> None:
    """A 403 from a data policy is RejectedError quoting the instance's detail."""
    body = envelope("Operation Failed", "Data Policy Exception: close_notes is mandatory")
    responses.patch(f"{INCIDENTS}/{SYS_ID}", json=body, status=403)

    with pytest.raises(RejectedError, match="close_notes is mandatory") as caught:
        client.update("incident", SYS_ID, {"state": "6"}, ["sys_id"], operation="update_record")

    assert caught.value.record == f"incident/{SYS_ID}"
    assert caught.value.operation == "update_record"


@responses.activate
def test_bad_request_rejected(client: TableClient) -> None:
    """A 400 raises RejectedError."""
    responses.post(INCIDENTS, json=envelope("Invalid payload", "bad"), status=400)

    with pytest.raises(RejectedError):
        client.insert("incident", {"short_description": "x"}, operation="create_record")


@responses.activate
def test_unauthorized_hides_password(client: TableClient) -> None:
    """A 401 raises AuthenticationError, and no message carries the password."""
    responses.get(INCIDENTS, json=envelope("User Not Authenticated", "Required"), status=401)

    with pytest.raises(AuthenticationError) as caught:
        page(client)

    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value.__cause__)


@responses.activate
def test_429_retry_after(client: TableClient) -> None:
    """Retry-After sets ThrottledError.retry_after."""
    responses.get(INCIDENTS, json=envelope("Rate limit exceeded", "x"), status=429,
                  headers={"Retry-After": "12"})  # fmt: skip

    with pytest.raises(ThrottledError) as caught:
        page(client)

    assert caught.value.retry_after == 12


@responses.activate
def test_429_reset_only(client: TableClient) -> None:
    """Without Retry-After, the wait is X-RateLimit-Reset minus now."""
    reset = str(int(time.time()) + 30)
    responses.get(INCIDENTS, json=envelope("Rate limit exceeded", "x"), status=429,
                  headers={"X-RateLimit-Reset": reset})  # fmt: skip

    with pytest.raises(ThrottledError) as caught:
        page(client)

    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 30


@responses.activate
def test_missing_total_count(client: TableClient) -> None:
    """A list response without X-Total-Count raises RetryableError."""
    responses.get(INCIDENTS, json={"result": []})

    with pytest.raises(RetryableError, match="X-Total-Count"):
        page(client)


@responses.activate
def test_not_json_retryable(client: TableClient) -> None:
    """A 200 that is not JSON (a login page, say) raises RetryableError."""
    responses.get(INCIDENTS, body="<html>login</html>", headers={"X-Total-Count": "0"})

    with pytest.raises(RetryableError, match="not JSON"):
        page(client)


@responses.activate
def test_pysnc_retries_off(client: TableClient) -> None:
    """pysnc's own retries are off: one 503 means one request."""
    responses.get(f"{INCIDENTS}/{SYS_ID}", json=envelope("Busy", "x"), status=503)

    with pytest.raises(RetryableError):
        client.get("incident", SYS_ID, ["sys_id"], operation="get_record")

    assert len(responses.calls) == 1


@responses.activate
def test_patch_204_reads_back(client: TableClient) -> None:
    """A 204 response to PATCH is followed by a read of the record."""
    responses.patch(f"{INCIDENTS}/{SYS_ID}", status=204)
    responses.get(f"{INCIDENTS}/{SYS_ID}", json={"result": {"sys_id": SYS_ID, "state": "2"}})

    row = client.update("incident", SYS_ID, {"state": "2"}, ["sys_id", "state"], operation="u")

    assert row == {"sys_id": SYS_ID, "state": "2"}
    body = responses.calls[0].request.body
    assert isinstance(body, bytes)
    assert json.loads(body) == {"state": "2"}


@responses.activate
def test_query_without_total(client: TableClient) -> None:
    """A pysnc query whose response lacks X-Total-Count raises RetryableError."""
    responses.get(INCIDENTS, json={"result": [{"sys_id": SYS_ID}]})

    with pytest.raises(RetryableError, match=r"(?i)x-total-count"):
        client.query("incident", "active=true", ["sys_id"], operation="find_by_correlation")


@responses.activate
def test_result_key_missing(client: TableClient) -> None:
    """A 200 without `result` raises RetryableError naming the key."""
    responses.patch(f"{INCIDENTS}/{SYS_ID}", json={"records": []})

    with pytest.raises(RetryableError, match="'result'"):
        client.update("incident", SYS_ID, {"state": "2"}, ["sys_id"], operation="update_record")
