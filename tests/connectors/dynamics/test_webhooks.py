from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from structlog.testing import capture_logs

from tests.connectors.dynamics.conftest import WEBHOOK_KEY, MakeSettings
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.connectors.dynamics.webhooks import QUERY_KEY, parse_context, parse_wcf_date
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError
from tierbridge.emulators.dynamics.state import ChangeEvent
from tierbridge.emulators.dynamics.values import Ref
from tierbridge.emulators.dynamics.webhooks import context_body

CASE_ID = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"
MODIFIED = datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)


def _ids() -> Any:
    counter = iter(range(1, 100))
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


def _case_body(message: str = "Update", **overrides: Any) -> bytes:
    row = {
        "incidentid": CASE_ID,
        "ticketnumber": "CAS-01026-K7M2Q9",
        "title": "VPN",
        "statecode": 0,
        "statuscode": 1,
        "prioritycode": 1,
        "modifiedon": MODIFIED,
        "modifiedby": Ref("systemuser", "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"),
        "versionnumber": 4471203,
    }
    user = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"
    correlation = "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"
    event = ChangeEvent("incident", cast(Any, message), row, ("prioritycode",), user, correlation)
    return json.dumps({**context_body(event, _ids()), **overrides}).encode()


def _note_body(target_table: str = "incident", **file: Any) -> bytes:
    row = {
        "annotationid": "11111111-2222-4333-8444-555555555555",
        "objectid": Ref(target_table, CASE_ID),
        "subject": "s",
        "isdocument": False,
        "createdon": MODIFIED,
        "modifiedon": MODIFIED,
        "modifiedby": Ref("systemuser", "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"),
        "versionnumber": 4471204,
        **file,
    }
    written = ("objectid", "subject", *file)
    event = ChangeEvent("annotation", "Create", row, written, "u", "c")
    return json.dumps(context_body(event, _ids())).encode()


@pytest.fixture
def key_connector(make_settings: MakeSettings) -> Any:
    dynamics = DynamicsConnector(
        "dyn",
        make_settings(
            webhook={"secret": {"env": "TB_TEST_DYNAMICS_WEBHOOK_KEY"}, "auth": "webhookkey"}
        ),
    )
    yield dynamics
    dynamics.close()


def test_header_auth_accepts(connector: DynamicsConnector) -> None:
    """The configured header with the shared value passes, in any letter case."""
    connector.verify_webhook({"X-Tierbridge-Webhook-Key": WEBHOOK_KEY}, b"{}")


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "missing"),
        ({"x-tierbridge-webhook-key": "wrong"}, "does not match"),
        ({"x-tierbridge-webhook-key": ""}, "missing"),
    ],
)
def test_header_auth_rejects(
    connector: DynamicsConnector, headers: dict[str, str], problem: str
) -> None:
    """A missing, empty or wrong header value raises WebhookAuthError."""
    with pytest.raises(WebhookAuthError, match=problem):
        connector.verify_webhook(headers, b"{}")


def test_custom_header_name(make_settings: MakeSettings) -> None:
    """webhook.signature_header names the header of the HttpHeader option."""
    dynamics = DynamicsConnector(
        "dyn",
        make_settings(
            webhook={
                "secret": {"env": "TB_TEST_DYNAMICS_WEBHOOK_KEY"},
                "signature_header": "x-api-key",
            }
        ),
    )

    dynamics.verify_webhook({"x-api-key": WEBHOOK_KEY}, b"{}")
    with pytest.raises(WebhookAuthError):
        dynamics.verify_webhook({"x-tierbridge-webhook-key": WEBHOOK_KEY}, b"{}")
    dynamics.close()


def test_webhook_key_accepts(key_connector: DynamicsConnector) -> None:
    """WebhookKey auth checks the code query parameter."""
    key_connector.verify_webhook({QUERY_KEY: f"code={WEBHOOK_KEY}"}, b"{}")


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({QUERY_KEY: "code=wrong"}, "does not match"),
        ({QUERY_KEY: ""}, "exactly one"),
        ({QUERY_KEY: f"code={WEBHOOK_KEY}&code=x"}, "exactly one"),
        ({"x-tierbridge-webhook-key": WEBHOOK_KEY}, "query string"),
    ],
)
def test_webhook_key_rejects(
    key_connector: DynamicsConnector, headers: dict[str, str], problem: str
) -> None:
    """A bad, missing or repeated code, or no query string at all, raises WebhookAuthError."""
    with pytest.raises(WebhookAuthError, match=problem):
        key_connector.verify_webhook(headers, b"{}")


def test_no_webhook_settings(make_settings: MakeSettings) -> None:
    """Without webhook settings every webhook is refused."""
    dynamics = DynamicsConnector("dyn", make_settings(webhook=None))

    with pytest.raises(WebhookAuthError, match=r"webhook\.secret"):
        dynamics.verify_webhook({}, b"{}")
    dynamics.close()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"MessageName": "Update"}',
        b'{"MessageName": "Update", "PrimaryEntityName": "incident", "PrimaryEntityId": "x", "InputParameters": {"Target": 1}}',
    ],
)
def test_malformed_bodies(connector: DynamicsConnector, body: bytes) -> None:
    """Bodies that are not a RemoteExecutionContext raise WebhookPayloadError."""
    with pytest.raises(WebhookPayloadError):
        connector.parse_webhook({}, body)


def test_update_event(connector: DynamicsConnector) -> None:
    """An Update context becomes an updated event with the post-image's version."""
    [event] = connector.parse_webhook({}, _case_body())

    assert event.ticket_id == CASE_ID
    assert event.kind == "updated"
    assert event.version == "00000000000004471203"
    assert event.payload["OperationCreatedOn"] == "2024-05-01T09:03:10+00:00"
    assert event.payload["CorrelationId"] == "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"
    assert "InputParameters" not in event.payload


def test_create_event(connector: DynamicsConnector) -> None:
    """A Create context becomes a created event."""
    [event] = connector.parse_webhook({}, _case_body("Create"))

    assert event.kind == "created"


def test_dedupe_key_operation(connector: DynamicsConnector) -> None:
    """The dedupe key comes from OperationId, so two changes of one chain stay apart."""
    first = _case_body(OperationId="aaaaaaaa-0000-4000-8000-000000000001")
    second = _case_body(OperationId="aaaaaaaa-0000-4000-8000-000000000002")

    [one] = connector.parse_webhook({}, first)
    [again] = connector.parse_webhook({}, first)
    [other] = connector.parse_webhook({}, second)

    assert one.delivery_id == again.delivery_id
    assert one.delivery_id != other.delivery_id
    assert "aaaaaaaa-0000-4000-8000-000000000001" in one.delivery_id


def test_dedupe_key_request_id(connector: DynamicsConnector) -> None:
    """An empty OperationId (synchronous step) falls back to RequestId, then to a body hash."""
    empty = "00000000-0000-0000-0000-000000000000"
    [by_request] = connector.parse_webhook(
        {}, _case_body(OperationId=empty, RequestId="bbbbbbbb-0000-4000-8000-000000000001")
    )
    [by_hash] = connector.parse_webhook({}, _case_body(OperationId=empty, RequestId=None))

    assert by_request.delivery_id.startswith("RequestId:bbbbbbbb")
    assert by_hash.delivery_id.startswith("sha256:")


def test_stripped_body(connector: DynamicsConnector) -> None:
    """A body cut for size still names the case; its version is unknown."""
    body = _case_body(InputParameters=[], PostEntityImages=[], PreEntityImages=[])

    [event] = connector.parse_webhook({"x-ms-dynamics-msg-size-exceeded": "true"}, body)

    assert event.ticket_id == CASE_ID
    assert event.version is None


def test_note_event(connector: DynamicsConnector) -> None:
    """A note on a case becomes a commented event for the case."""
    [event] = connector.parse_webhook({}, _note_body())

    assert event.kind == "commented"
    assert event.ticket_id == CASE_ID
    assert event.version is None


def test_file_note_event(connector: DynamicsConnector) -> None:
    """A note with a file on a case becomes an attached event for the case."""
    body = _note_body(isdocument=True, filename="vpn.log", documentbody="bG9n", filesize=3)

    [event] = connector.parse_webhook({}, body)

    assert event.kind == "attached"
    assert event.ticket_id == CASE_ID
    assert event.version is None


def test_file_note_cut_for_size(connector: DynamicsConnector) -> None:
    """A file note whose body lost Target for size gives no event and a warning."""
    body = json.loads(_note_body(isdocument=True, documentbody="bG9n"))
    body.update(InputParameters=[], PostEntityImages=[], PreEntityImages=[])
    headers = {"x-ms-dynamics-msg-size-exceeded": "true"}

    with capture_logs() as logs:
        events = connector.parse_webhook(headers, json.dumps(body).encode())

    assert events == []
    assert [(log["event"], log["log_level"], log["reason"]) for log in logs] == [
        ("webhook_note_ignored", "warning", "body cut for size")
    ]


def test_ignored_contexts(connector: DynamicsConnector) -> None:
    """Notes on other tables and other messages give no event."""
    assert connector.parse_webhook({}, _note_body("account")) == []
    assert connector.parse_webhook({}, _case_body("Delete")) == []


def test_doc_shaped_sample() -> None:
    """A trimmed context as documented (no OperationId or RequestId) parses."""
    body = {
        "MessageName": "Update",
        "PrimaryEntityName": "incident",
        "PrimaryEntityId": CASE_ID.upper(),
        "CorrelationId": "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706",
        "OperationCreatedOn": "/Date(1714554190000)/",
        "InputParameters": [
            {
                "key": "Target",
                "value": {
                    "LogicalName": "incident",
                    "Id": CASE_ID,
                    "Attributes": [
                        {
                            "key": "prioritycode",
                            "value": {
                                "__type": "OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts",
                                "Value": 1,
                            },
                        }
                    ],
                },
            }
        ],
        "PostEntityImages": [
            {
                "key": "PostImage",
                "value": {
                    "LogicalName": "incident",
                    "Id": CASE_ID,
                    "Attributes": [{"key": "versionnumber", "value": 4471290}],
                },
            }
        ],
    }

    [event] = parse_context("dyn", {}, json.dumps(body).encode())

    assert event.ticket_id == CASE_ID
    assert event.version == "00000000000004471290"
    assert event.delivery_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1714547742000)/", datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)),
        ("/Date(1722582039000+0000)/", datetime(2024, 8, 2, 7, 0, 39, tzinfo=UTC)),
        ("/Date(1714547742000-0700)/", datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)),
        ("/Date(-1000)/", datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_wcf_dates(text: str, expected: datetime) -> None:
    """WCF dates are epoch milliseconds in UTC; an offset suffix does not move the instant."""
    assert parse_wcf_date(text) == expected


@pytest.mark.parametrize("text", ["2024-05-01T07:15:42Z", "/Date()/", "/Date(12)", None])
def test_wcf_dates_rejected(text: object) -> None:
    """Anything but /Date(<ms>[±hhmm])/ raises ValueError."""
    with pytest.raises(ValueError, match="WCF"):
        parse_wcf_date(text)


def test_bad_operation_date(connector: DynamicsConnector) -> None:
    """An OperationCreatedOn that is not a WCF date is a malformed payload."""
    with pytest.raises(WebhookPayloadError, match="OperationCreatedOn"):
        connector.parse_webhook({}, _case_body(OperationCreatedOn="2024-05-01"))
