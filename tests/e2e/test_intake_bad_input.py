"""Bad input at the webhook endpoint of the Salesforce and Dynamics intakes.

Each request goes to `POST /webhooks/{connector}` of the daemon's ASGI app. A rejected one
gets a status and an error message naming what to fix, and leaves nothing in the store: no inbox
event and no sync log row. A valid request of each kind is accepted, so that every
rejection here is caused by the one thing each test breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tierbridge.core.config import load_config
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.server import MAX_BODY_BYTES, create_app

ROOT = Path(__file__).resolve().parents[2]
ORG_ID = "00DHs000000OrGaMAK"
SF_TOKEN = "sf-outbound-token"
DYNAMICS_KEY = "dynamics-shared-value"
CASE_ID = "500Hs0000000H3E"
INCIDENT_ID = "b4862b21-fb97-4435-8856-1712e8e5216a"
_CONFIG = f"""
store: {{url: "sqlite:///{{store}}"}}
connectors:
  sf:
    system: salesforce
    base_url: https://127.0.0.1:9
    mapping: {ROOT}/mappings/salesforce.yaml
    organization_id: {ORG_ID}
    auth: {{type: oauth_client_credentials, client_id: tb, client_secret: {{env: TB_TEST_SF_SECRET}}}}
    webhook: {{secret: {{env: TB_TEST_SF_TOKEN}}}}
  dyn:
    system: dynamics
    base_url: https://127.0.0.1:9
    mapping: {ROOT}/mappings/dynamics.yaml
    tenant_id: 8c1f2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f
    auth: {{type: oauth_client_credentials, client_id: tb, client_secret: {{env: TB_TEST_DYN_SECRET}}}}
    webhook: {{secret: {{env: TB_TEST_DYN_KEY}}}}
  dynkey:
    system: dynamics
    base_url: https://127.0.0.1:9
    mapping: {ROOT}/mappings/dynamics.yaml
    tenant_id: 8c1f2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f
    auth: {{type: oauth_client_credentials, client_id: tb, client_secret: {{env: TB_TEST_DYN_SECRET}}}}
    webhook: {{secret: {{env: TB_TEST_DYN_KEY}}, auth: webhookkey}}
tiers:
  L1: {{connector: sf}}
  L2: {{connector: dyn}}
"""
_SOAP = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04kHs000000TeSt</ActionId>
   <Notification>
    <Id>04lHs000000AbCd</Id>
    <sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{case}</sf:Id>
     <sf:CreatedDate>2024-05-01T10:00:00.000Z</sf:CreatedDate>
     <sf:SystemModstamp>2024-05-01T10:05:00.000Z</sf:SystemModstamp>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""
_ENTITY_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound">&lol2;</notifications>
"""
_XML = {"content-type": "text/xml; charset=utf-8"}
_JSON = {"content-type": "application/json"}


def soap(org: str = ORG_ID, case: str = CASE_ID) -> bytes:
    return _SOAP.format(org=org, case=case).encode()


def dynamics_context() -> bytes:
    """A serialised RemoteExecutionContext of a case update, without images."""
    context = {
        "MessageName": "Update",
        "PrimaryEntityName": "incident",
        "PrimaryEntityId": INCIDENT_ID,
        "OperationId": "5f0d6a8e-3c1b-4e2a-9d7f-0a1b2c3d4e5f",
        "OperationCreatedOn": "/Date(1714547742000)/",
        "InputParameters": [],
        "PostEntityImages": [],
    }
    return json.dumps(context).encode()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A runtime with one Salesforce and two Dynamics connectors (header and webhook key)."""
    for name, value in {
        "TB_TEST_SF_SECRET": "client-secret",
        "TB_TEST_SF_TOKEN": SF_TOKEN,
        "TB_TEST_DYN_SECRET": "client-secret",
        "TB_TEST_DYN_KEY": DYNAMICS_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "intake.yaml"
    path.write_text(_CONFIG.replace("{store}", str(tmp_path / "store.db")), encoding="utf-8")
    rt = build_runtime(load_config(path))
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def assert_nothing_stored(rt: Runtime) -> None:
    assert rt.store.list_events() == []
    assert rt.store.count_actions() == {}


class TestSalesforceIntake:
    def test_valid_message_accepted(self, runtime: Runtime, client: TestClient) -> None:
        """A message with the token and our org id is acknowledged and stored once."""
        response = client.post(f"/webhooks/sf?token={SF_TOKEN}", content=soap(), headers=_XML)

        assert response.status_code == 200
        assert b"<Ack>true</Ack>" in response.content
        assert len(runtime.store.list_events()) == 1

    def test_bad_token_401(self, runtime: Runtime, client: TestClient) -> None:
        """A wrong token is rejected before the body is read."""
        response = client.post("/webhooks/sf?token=guessed", content=soap(), headers=_XML)

        assert response.status_code == 401
        assert "missing or wrong token" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_missing_token_401(self, runtime: Runtime, client: TestClient) -> None:
        """A message without any token is rejected."""
        response = client.post("/webhooks/sf", content=soap(), headers=_XML)

        assert response.status_code == 401
        assert "?token=" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_wrong_org_id_401(self, runtime: Runtime, client: TestClient) -> None:
        """A message from another org is rejected even with the right token."""
        other = "00D000000000001"
        response = client.post(
            f"/webhooks/sf?token={SF_TOKEN}", content=soap(org=other), headers=_XML
        )

        assert response.status_code == 401
        assert f"from organization {other}" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_not_xml_400(self, runtime: Runtime, client: TestClient) -> None:
        """A body that is not XML is a malformed request."""
        response = client.post(
            f"/webhooks/sf?token={SF_TOKEN}", content=b"<soapenv:Envelope", headers=_XML
        )

        assert response.status_code == 400
        assert "not well-formed XML" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_not_outbound_message_400(self, runtime: Runtime, client: TestClient) -> None:
        """Well-formed SOAP without a notifications element is rejected."""
        body = b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>'
        response = client.post(f"/webhooks/sf?token={SF_TOKEN}", content=body, headers=_XML)

        assert response.status_code == 400
        assert "no notifications element" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_entity_expansion_400(self, runtime: Runtime, client: TestClient) -> None:
        """A DTD with entities is refused by the XML parser, never expanded."""
        response = client.post(
            f"/webhooks/sf?token={SF_TOKEN}", content=_ENTITY_BOMB.encode(), headers=_XML
        )

        assert response.status_code == 400
        assert "forbidden XML feature" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_bad_case_id_400(self, runtime: Runtime, client: TestClient) -> None:
        """A notification whose Case Id is not a Salesforce id is rejected."""
        response = client.post(
            f"/webhooks/sf?token={SF_TOKEN}", content=soap(case="not-an-id"), headers=_XML
        )

        assert response.status_code == 400
        assert "is not a Salesforce id" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_json_body_415(self, runtime: Runtime, client: TestClient) -> None:
        """Outbound messages are XML; a JSON body is an unsupported media type."""
        response = client.post(f"/webhooks/sf?token={SF_TOKEN}", json={"Id": CASE_ID})

        assert response.status_code == 415
        assert "text/xml" in response.json()["error"]
        assert_nothing_stored(runtime)


class TestDynamicsIntake:
    def test_valid_header_accepted(self, runtime: Runtime, client: TestClient) -> None:
        """A context with the shared value in the header is stored once."""
        headers = {**_JSON, "x-tierbridge-webhook-key": DYNAMICS_KEY}
        response = client.post("/webhooks/dyn", content=dynamics_context(), headers=headers)

        assert response.status_code == 200
        assert len(runtime.store.list_events()) == 1

    def test_wrong_header_value_401(self, runtime: Runtime, client: TestClient) -> None:
        """A wrong value in the configured header is rejected."""
        headers = {**_JSON, "x-tierbridge-webhook-key": "guessed"}
        response = client.post("/webhooks/dyn", content=dynamics_context(), headers=headers)

        assert response.status_code == 401
        assert "does not match" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_missing_header_401(self, runtime: Runtime, client: TestClient) -> None:
        """A request without the header names the header to add."""
        response = client.post(
            "/webhooks/dyn",
            content=dynamics_context(),
            headers=_JSON,
        )

        assert response.status_code == 401
        assert "missing x-tierbridge-webhook-key header" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_valid_webhook_key_accepted(self, runtime: Runtime, client: TestClient) -> None:
        """A WebhookKey endpoint accepts the shared value as the `code` parameter."""
        response = client.post(
            f"/webhooks/dynkey?code={DYNAMICS_KEY}",
            content=dynamics_context(),
            headers=_JSON,
        )

        assert response.status_code == 200
        assert len(runtime.store.list_events()) == 1

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("code=guessed", "code parameter does not match"),
            ("", "needs exactly one code parameter"),
            (f"code={DYNAMICS_KEY}&code=guessed", "needs exactly one code parameter"),
        ],
        ids=["wrong", "missing", "repeated"],
    )
    def test_bad_webhook_key_401(
        self, runtime: Runtime, client: TestClient, query: str, message: str
    ) -> None:
        """A wrong, missing or repeated `code` parameter is rejected."""
        response = client.post(
            f"/webhooks/dynkey?{query}",
            content=dynamics_context(),
            headers=_JSON,
        )

        assert response.status_code == 401
        assert message in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_header_ignored_by_key_endpoint(self, runtime: Runtime, client: TestClient) -> None:
        """A WebhookKey endpoint does not accept the value in the header instead."""
        headers = {"x-tierbridge-webhook-key": DYNAMICS_KEY, "content-type": "application/json"}
        response = client.post("/webhooks/dynkey", content=dynamics_context(), headers=headers)

        assert response.status_code == 401
        assert_nothing_stored(runtime)

    def test_not_json_400(self, runtime: Runtime, client: TestClient) -> None:
        """An authenticated body that is not JSON is a malformed request."""
        headers = {"x-tierbridge-webhook-key": DYNAMICS_KEY, "content-type": "application/json"}
        response = client.post("/webhooks/dyn", content=b"{not json", headers=headers)

        assert response.status_code == 400
        assert "body is not JSON" in response.json()["error"]
        assert_nothing_stored(runtime)

    def test_context_without_entity_400(self, runtime: Runtime, client: TestClient) -> None:
        """A JSON body that is not an execution context is rejected."""
        headers = {"x-tierbridge-webhook-key": DYNAMICS_KEY}
        response = client.post("/webhooks/dyn", json={"MessageName": "Update"}, headers=headers)

        assert response.status_code == 400
        assert "PrimaryEntityName" in response.json()["error"]
        assert_nothing_stored(runtime)


class TestOversizedBody:
    @pytest.mark.parametrize(
        ("path", "headers"),
        [
            (f"/webhooks/sf?token={SF_TOKEN}", _XML),
            ("/webhooks/dyn", {"x-tierbridge-webhook-key": DYNAMICS_KEY}),
        ],
        ids=["salesforce", "dynamics"],
    )
    def test_oversized_body_413(
        self, runtime: Runtime, client: TestClient, path: str, headers: dict[str, str]
    ) -> None:
        """A body over the limit is rejected before it is read or verified."""
        body = b" " * (MAX_BODY_BYTES + 1)
        content_type = headers.get("content-type", "application/json")
        response = client.post(
            path, content=body, headers={**headers, "content-type": content_type}
        )

        assert response.status_code == 413
        assert f"body larger than {MAX_BODY_BYTES} bytes" in response.json()["error"]
        assert_nothing_stored(runtime)
