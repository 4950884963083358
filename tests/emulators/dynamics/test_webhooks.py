from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulators.dynamics.conftest import WEBHOOK_SECRET
from tests.emulators.dynamics.support import Delivery, WebhookSink, new_case
from tierbridge.emulators.dynamics import DynamicsAgent, DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref
from tierbridge.emulators.dynamics.webhooks import DEFAULT_HEADER, wcf_date

OPTION_SET = "OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts"


def _pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: item["value"] for item in items}


def _deliveries(emulator: DynamicsEmulator, sink: WebhookSink) -> list[Delivery]:
    assert emulator.drain_webhooks(5)
    return list(sink.deliveries)


@pytest.fixture
def hooked(emulator: DynamicsEmulator, sink: WebhookSink) -> DynamicsEmulator:
    emulator.set_webhook(sink.url, WEBHOOK_SECRET)
    return emulator


def test_create_context(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """A new case posts a Create context with key/value lists, typed values and WCF dates."""
    case = new_case(hooked, prioritycode=1)

    [delivery] = _deliveries(hooked, sink)

    body = json.loads(delivery.body)
    assert body["MessageName"] == "Create"
    assert body["PrimaryEntityName"] == "incident"
    assert body["PrimaryEntityId"] == case["incidentid"]
    assert (body["Stage"], body["Mode"], body["Depth"]) == (40, 1, 1)
    assert body["OperationCreatedOn"] == "/Date(1714547742000)/"
    target = _pairs(_pairs(body["InputParameters"])["Target"]["Attributes"])
    assert target["prioritycode"] == {"__type": OPTION_SET, "Value": 1}
    assert target["customerid"]["LogicalName"] == "account"
    assert target["modifiedon"] == "/Date(1714547742000)/"
    assert _pairs(body["OutputParameters"]) == {"id": case["incidentid"]}


def test_update_context(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """An update's Target contains the written columns; the post-image carries the row version."""
    case = new_case(hooked)
    hooked.state.update(
        "incident", case["incidentid"], {"title": "New"}, user_id=hooked.state.seed.agent_user
    )

    update = json.loads(_deliveries(hooked, sink)[1].body)

    target = _pairs(_pairs(update["InputParameters"])["Target"]["Attributes"])
    assert set(target) == {"title", "incidentid", "modifiedon", "modifiedby"}
    images = _pairs(update["PostEntityImages"])
    assert set(images) == {"AsynchronousStepPrimaryName", "PostImage"}
    image = _pairs(images["PostImage"]["Attributes"])
    assert image["versionnumber"] == 4471202
    assert image["ticketnumber"] == case["ticketnumber"]
    assert update["OperationId"] != update["CorrelationId"]


def test_webhook_headers(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """Deliveries carry the Dataverse headers and the shared value in the configured header."""
    new_case(hooked)

    [delivery] = _deliveries(hooked, sink)

    headers = {key.lower(): value for key, value in delivery.headers.items()}
    assert headers[DEFAULT_HEADER] == WEBHOOK_SECRET
    assert headers["x-ms-dynamics-entity-name"] == "incident"
    assert headers["x-ms-dynamics-request-name"] == "Create"
    assert headers["x-ms-dynamics-organization"] == "contoso-example.crm.dynamics.com"
    assert "x-ms-correlation-request-id" in headers


def test_webhook_key_query(emulator: DynamicsEmulator, sink: WebhookSink) -> None:
    """WebhookKey auth sends the value as the code query parameter, not as a header."""
    emulator.set_webhook(sink.url, "k&y=1", auth="webhookkey")
    new_case(emulator)

    [delivery] = _deliveries(emulator, sink)

    assert parse_qs(urlsplit(delivery.path).query) == {"code": ["k&y=1"]}
    assert DEFAULT_HEADER not in {key.lower() for key in delivery.headers}


def test_note_context(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """A note posts an annotation Create whose Target points at the case."""
    case = new_case(hooked)
    note = {"notetext": "hi", "objectid": Ref("incident", case["incidentid"])}
    hooked.state.create("annotation", note, user_id=hooked.state.seed.agent_user)

    body = json.loads(_deliveries(hooked, sink)[1].body)

    assert body["PrimaryEntityName"] == "annotation"
    target = _pairs(_pairs(body["InputParameters"])["Target"]["Attributes"])
    assert target["objectid"]["Id"] == case["incidentid"]
    assert target["objectid"]["LogicalName"] == "incident"


def _agent_file(emulator: DynamicsEmulator, case_id: str, content: bytes) -> None:
    with DynamicsAgent(emulator.base_url, emulator.ca_cert) as agent:
        agent.attach(case_id, "vpn.log", content, "text/plain")


def test_file_note_context(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """A file attached by an agent posts an annotation Create naming the case and the file."""
    case = new_case(hooked)
    _agent_file(hooked, case["incidentid"], b"log line")

    [_, delivery] = _deliveries(hooked, sink)

    body = json.loads(delivery.body)
    assert (body["PrimaryEntityName"], body["MessageName"]) == ("annotation", "Create")
    target = _pairs(_pairs(body["InputParameters"])["Target"]["Attributes"])
    assert target["objectid"]["Id"] == case["incidentid"]
    assert target["isdocument"] is True
    assert target["filename"] == "vpn.log"
    assert target["documentbody"] == "bG9nIGxpbmU="
    assert target["filesize"] == 8


def test_large_file_context_stripped(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """A file of 200 KB makes the context exceed 256 KB, so Target and images are dropped."""
    case = new_case(hooked)
    _agent_file(hooked, case["incidentid"], bytes(200 * 1024))

    [_, delivery] = _deliveries(hooked, sink)

    body = json.loads(delivery.body)
    assert body["PrimaryEntityName"] == "annotation"
    assert body["InputParameters"] == []
    assert body["PostEntityImages"] == []
    assert {k.lower(): v for k, v in delivery.headers.items()}[
        "x-ms-dynamics-msg-size-exceeded"
    ] == "true"


def test_resolution_is_update(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """CloseIncident posts an Update of the case, not of the resolution."""
    case = new_case(hooked)
    resolution = {"subject": "Done", "incidentid": Ref("incident", case["incidentid"])}
    hooked.state.close_incident(resolution, 5, user_id=hooked.state.seed.agent_user)

    bodies = [json.loads(d.body) for d in _deliveries(hooked, sink)]

    assert [(b["PrimaryEntityName"], b["MessageName"]) for b in bodies] == [
        ("incident", "Create"),
        ("incident", "Update"),
    ]
    target = _pairs(_pairs(bodies[1]["InputParameters"])["Target"]["Attributes"])
    assert target["statecode"]["Value"] == 1


def test_oversized_body_stripped(hooked: DynamicsEmulator, sink: WebhookSink) -> None:
    """Over 256 KB the context loses Target and images and sets a header."""
    new_case(hooked, description="x" * 300_000)

    [delivery] = _deliveries(hooked, sink)

    body = json.loads(delivery.body)
    assert body["InputParameters"] == []
    assert body["PostEntityImages"] == []
    assert {k.lower(): v for k, v in delivery.headers.items()}[
        "x-ms-dynamics-msg-size-exceeded"
    ] == "true"


def test_no_url_no_delivery(emulator: DynamicsEmulator, sink: WebhookSink) -> None:
    """Without a webhook URL nothing is sent."""
    new_case(emulator)

    assert _deliveries(emulator, sink) == []


def test_wcf_date_of_date() -> None:
    """A date is sent as its UTC midnight."""
    assert wcf_date(date(2024, 5, 1)) == "/Date(1714521600000)/"
