from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.salesforce.conftest import WEBHOOK_TOKEN, MakeConnector
from tests.emulators.salesforce.support import AckSink, Api
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.connectors.salesforce.webhooks import parse_notifications
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError
from tierbridge.emulators.salesforce import DEFAULT_ORG_ID, SalesforceEmulator

CASE_ID = "500Hs00001XyZaBIAV"
TOKEN = {"token": WEBHOOK_TOKEN}


def notification(
    notification_id: str = "04lHs00000NoTiFIAV",
    *,
    sobject_type: str = "Case",
    fields: str = f"<sf:Id>{CASE_ID}</sf:Id><sf:SystemModstamp>2024-05-01T09:03:10.000Z</sf:SystemModstamp>",
) -> str:
    return (
        f"<Notification><Id>{notification_id}</Id>"
        f'<sObject xsi:type="sf:{sobject_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{fields}</sObject></Notification>"
    )


def envelope(*notifications: str, org_id: str = DEFAULT_ORG_ID) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId>"
        "<ActionId>04kHs000000AcTnIAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/00DHs000000OrGa</EnterpriseUrl>"
        "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/00DHs000000OrGa</PartnerUrl>"
        f"{''.join(notifications or (notification(),))}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    )
    return body.encode("utf-8")


# -- verify ---------------------------------------------------------------------------------


def test_verify_token_in_query(connector: SalesforceConnector) -> None:
    """The token in the endpoint URL's query and our org id pass."""
    connector.verify_webhook({}, envelope(), query=TOKEN)


def test_verify_token_in_header(make_connector: MakeConnector) -> None:
    """With webhook.signature_header set, the token may come in that header."""
    connector = make_connector(
        webhook={"secret": {"env": "TB_TEST_SF_WEBHOOK_TOKEN"}, "signature_header": "X-Om-Token"}
    )

    connector.verify_webhook({"x-om-token": WEBHOOK_TOKEN}, envelope())


@pytest.mark.parametrize(
    ("headers", "query"),
    [({}, {}), ({}, {"token": "wrong"}), ({"x-om-token": WEBHOOK_TOKEN}, {}), ({}, {"token": ""})],
)
def test_verify_bad_token(
    connector: SalesforceConnector, headers: dict[str, str], query: dict[str, str]
) -> None:
    """A missing, wrong or empty token, or one in an unconfigured header, is a 401."""
    with pytest.raises(WebhookAuthError) as caught:
        connector.verify_webhook(headers, envelope(), query=query)

    assert caught.value.status_code == 401


def test_token_checked_before_parsing(connector: SalesforceConnector) -> None:
    """A wrong token is refused even when the body is not XML."""
    with pytest.raises(WebhookAuthError):
        connector.verify_webhook({}, b"not xml at all", query={"token": "wrong"})


def test_verify_wrong_org(connector: SalesforceConnector) -> None:
    """A message from another org is a 401, even with the right token."""
    with pytest.raises(WebhookAuthError, match="00DHs000000OtHeMAK") as caught:
        connector.verify_webhook({}, envelope(org_id="00DHs000000OtHeMAK"), query=TOKEN)

    assert caught.value.status_code == 401


def test_verify_short_org_id(connector: SalesforceConnector) -> None:
    """A 15-character OrganizationId is compared in its 18-character form."""
    connector.verify_webhook({}, envelope(org_id=DEFAULT_ORG_ID[:15]), query=TOKEN)


def test_verify_missing_org(connector: SalesforceConnector) -> None:
    """A message without OrganizationId is a 401."""
    body = envelope().replace(f"<OrganizationId>{DEFAULT_ORG_ID}</OrganizationId>".encode(), b"")

    with pytest.raises(WebhookAuthError, match="none"):
        connector.verify_webhook({}, body, query=TOKEN)


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<a><b></a>",
        b'{"json": true}',
        b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>',
        b'<!DOCTYPE x [<!ENTITY e "00DHs000000OrGaMAK">]><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&e;</OrganizationId></notifications>',
        b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>',
    ],
)
def test_bad_soap_is_payload_error(connector: SalesforceConnector, body: bytes) -> None:
    """Malformed XML, a non-SOAP body, and DTDs or entities are 400s."""
    with pytest.raises(WebhookPayloadError) as caught:
        connector.verify_webhook({}, body, query=TOKEN)

    assert caught.value.status_code == 400


def test_no_webhook_settings(make_connector: MakeConnector) -> None:
    """Without webhook settings every message is refused."""
    connector = make_connector(webhook=None)

    with pytest.raises(WebhookAuthError, match=r"webhook\.secret"):
        connector.verify_webhook({}, envelope(), query=TOKEN)


# -- parse ----------------------------------------------------------------------------------


def test_parse_case_notification() -> None:
    """A Case notification becomes an event keyed on the Notification Id, versioned by stamp."""
    [event] = parse_notifications("sf", envelope())

    assert event.connector == "sf"
    assert event.delivery_id == "04lHs00000NoTiFIAV"
    assert event.ticket_id == CASE_ID
    assert event.kind == "updated"
    assert event.version == "2024-05-01T09:03:10.000Z"
    assert dict(event.payload) == {
        "object": "Case",
        "record_id": CASE_ID,
        "action_id": "04kHs000000AcTnIAK",
        "notification_id": "04lHs00000NoTiFIAV",
    }


def test_parse_dedupes_notification_ids() -> None:
    """A Notification Id repeated in one message gives one event; others give their own."""
    other = notification(
        "04lHs00000NoTiGIAV",
        fields="<sf:Id>500Hs00001XyZaC</sf:Id><sf:SystemModstamp>2024-05-01T09:00:00.000Z</sf:SystemModstamp>",
    )

    events = parse_notifications("sf", envelope(notification(), notification(), other))

    assert [event.delivery_id for event in events] == ["04lHs00000NoTiFIAV", "04lHs00000NoTiGIAV"]
    assert events[1].ticket_id == "500Hs00001XyZaCIAV"


def test_parse_out_of_order_versions() -> None:
    """Versions come from each record's stamp, so an older notification sorts as older."""
    late = notification(
        fields=f"<sf:Id>{CASE_ID}</sf:Id><sf:SystemModstamp>2024-05-01T10:00:00.000Z</sf:SystemModstamp>"
    )
    early = notification(
        "04lHs00000NoTiGIAV",
        fields=f"<sf:Id>{CASE_ID}</sf:Id><sf:SystemModstamp>2024-05-01T09:00:00.000Z</sf:SystemModstamp>",
    )

    first, second = parse_notifications("sf", envelope(late, early))

    assert first.version is not None
    assert second.version is not None
    assert second.version < first.version


def test_parse_created_kind() -> None:
    """A notification whose CreatedDate equals its SystemModstamp is a create."""
    fields = (
        f"<sf:Id>{CASE_ID}</sf:Id><sf:CreatedDate>2024-05-01T09:03:10.000Z</sf:CreatedDate>"
        "<sf:SystemModstamp>2024-05-01T09:03:10.000Z</sf:SystemModstamp>"
    )

    [event] = parse_notifications("sf", envelope(notification(fields=fields)))

    assert event.kind == "created"


def test_parse_comment_targets_case() -> None:
    """A CaseComment notification is an event for its parent Case."""
    fields = (
        "<sf:Id>00aHs00000AbCdE</sf:Id><sf:ParentId>500Hs00001XyZaB</sf:ParentId>"
        "<sf:SystemModstamp>2024-05-01T09:05:00.000Z</sf:SystemModstamp>"
    )

    [event] = parse_notifications(
        "sf", envelope(notification(sobject_type="CaseComment", fields=fields))
    )

    assert event.ticket_id == CASE_ID
    assert event.kind == "commented"
    assert event.payload["object"] == "CaseComment"


def test_parse_skips_other_objects() -> None:
    """Notifications on objects other than Case and CaseComment are ignored."""
    body = envelope(notification(sobject_type="Account", fields="<sf:Id>001A0000006Vm9r</sf:Id>"))

    assert parse_notifications("sf", body) == []


def test_parse_deleted_record() -> None:
    """A notification carrying only the Id (the record was deleted) has no version."""
    [event] = parse_notifications("sf", envelope(notification(fields=f"<sf:Id>{CASE_ID}</sf:Id>")))

    assert event.version is None


@pytest.mark.parametrize(
    "bad",
    [
        notification("not-an-id"),
        notification(fields="<sf:SystemModstamp>2024-05-01T09:03:10.000Z</sf:SystemModstamp>"),
        notification(
            fields=f"<sf:Id>{CASE_ID}</sf:Id><sf:SystemModstamp>yesterday</sf:SystemModstamp>"
        ),
        "<Notification><Id>04lHs00000NoTiFIAV</Id></Notification>",
    ],
)
def test_parse_malformed_notification(bad: str) -> None:
    """Bad ids, a missing Id or sObject, or a bad stamp raise WebhookPayloadError."""
    with pytest.raises(WebhookPayloadError):
        parse_notifications("sf", envelope(bad))


# -- with the emulator ----------------------------------------------------------------------


@pytest.fixture
def sink(emulator: SalesforceEmulator) -> Iterator[AckSink]:
    with AckSink().running() as running:
        emulator.set_webhook(running.url, WEBHOOK_TOKEN)
        yield running
        emulator.set_webhook(None, None)


def test_emulator_messages_accepted(
    connector: SalesforceConnector, emulator: SalesforceEmulator, sink: AckSink
) -> None:
    """Messages the emulator sends verify, parse and dedupe across resends."""
    sink.refuse = 1
    api = Api(emulator.base_url, emulator.ca_cert)
    case_id = api.create_case()
    api.close()
    assert emulator.drain_webhooks(5)

    events = []
    for delivery in sink.deliveries:
        query = {"token": delivery.path.split("token=", 1)[1]}
        connector.verify_webhook(delivery.headers, delivery.body, query=query)
        events.extend(connector.parse_webhook(delivery.headers, delivery.body))

    assert len(sink.deliveries) == 2
    assert {event.delivery_id for event in events} == {events[0].delivery_id}
    assert events[0].ticket_id == case_id
    assert events[0].kind == "created"
    assert events[0].version == "2024-05-01T07:15:42.000Z"
