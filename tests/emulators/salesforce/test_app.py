from __future__ import annotations

import pytest

from tests.emulators.salesforce.support import DATA, Api, FakeClock
from tierbridge.emulators.salesforce import SalesforceEmulator
from tierbridge.emulators.salesforce.ids import canonical_id


def test_token_response(api: Api, emulator: SalesforceEmulator) -> None:
    """Client credentials return a token, the instance URL and the identity URL."""
    form = {
        "grant_type": "client_credentials",
        "client_id": "tierbridge-client",
        "client_secret": "tierbridge-client-secret",
    }

    body = api.post("/services/oauth2/token", data=form).json()

    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == emulator.base_url
    assert body["access_token"].startswith("00DHs000000OrGa!")
    org_id, user_id = body["id"].rsplit("/", 2)[-2:]
    assert org_id == emulator.organization_id
    assert canonical_id(user_id) == user_id
    assert user_id.startswith("005")


def test_token_basic_auth(emulator: SalesforceEmulator) -> None:
    """The client may authenticate with HTTP Basic instead of form fields."""
    anonymous = Api(emulator.base_url, emulator.ca_cert, None)
    response = anonymous.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("agent-console", "agent-console-secret"),
    )
    anonymous.close()

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "tierbridge-client",
                "client_secret": "x",
            },
            "invalid_client",
        ),
        ({"grant_type": "client_credentials", "client_id": "nobody"}, "invalid_client"),
    ],
)
def test_token_refused(api: Api, form: dict[str, str], error: str) -> None:
    """A bad grant type or client gets the OAuth 400 error body."""
    response = api.post("/services/oauth2/token", data=form)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_missing_token_is_invalid_session(emulator: SalesforceEmulator) -> None:
    """A call without a valid bearer token gets 401 INVALID_SESSION_ID as an array."""
    anonymous = Api(emulator.base_url, emulator.ca_cert, None)
    response = anonymous.get(f"{DATA}/limits")
    anonymous.close()

    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_expired_sessions(api: Api, emulator: SalesforceEmulator, clock: FakeClock) -> None:
    """Tokens stop working when expired by the test or after two idle hours."""
    assert api.get(f"{DATA}/limits").status_code == 200
    emulator.expire_sessions()
    assert api.get(f"{DATA}/limits").status_code == 401

    fresh = Api(emulator.base_url, emulator.ca_cert)
    clock.advance(7201)
    assert fresh.get(f"{DATA}/limits").status_code == 401
    fresh.close()


def test_limit_header_on_every_response(api: Api) -> None:
    """Sforce-Limit-Info counts API requests, on errors too, but not on the versions root."""
    first = api.get(f"{DATA}/limits")
    missing = api.get(f"{DATA}/sobjects/Case/500Hs00001XyZaBIAV")
    root = api.get("/services/data/")

    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert missing.status_code == 404
    assert missing.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    assert "Sforce-Limit-Info" not in root.headers
    assert {"version": "62.0", "url": "/services/data/v62.0", "label": "API 62.0"} in root.json()


def test_injected_limit_exceeded(api: Api, emulator: SalesforceEmulator) -> None:
    """inject_limit_exceeded refuses the next calls with 403 REQUEST_LIMIT_EXCEEDED."""
    emulator.inject_limit_exceeded(2)

    refused = [api.get(f"{DATA}/limits") for _ in range(2)]
    after = api.get(f"{DATA}/limits")

    for response in refused:
        assert response.status_code == 403
        assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert "Retry-After" not in response.headers
    assert after.status_code == 200


def test_allocation_exhausted(api: Api, emulator: SalesforceEmulator) -> None:
    """Once the allocation is used up, every call is refused."""
    emulator.limits.allocation = 2
    statuses = [api.get(f"{DATA}/limits").status_code for _ in range(3)]

    assert statuses == [200, 200, 403]


def test_unknown_version_and_route(api: Api) -> None:
    """An unknown API version or path returns 404 NOT_FOUND as an array."""
    old = api.get("/services/data/v20.0/limits")
    unknown = api.get(f"{DATA}/nothing-here")

    assert old.status_code == 404
    assert unknown.status_code == 404
    assert unknown.json()[0]["errorCode"] == "NOT_FOUND"


def test_case_crud(api: Api) -> None:
    """POST creates (201), GET reads, PATCH and DELETE return 204, then GET returns 404."""
    case_id = api.create_case(Priority="High")
    path = f"{DATA}/sobjects/Case/{case_id}"

    read = api.get(path).json()
    patched = api.patch(path, json={"Status": "Working"})
    after = api.get(path, params={"fields": "Status,CaseNumber"}).json()
    deleted = api.delete(path)
    gone = api.get(path)

    assert read["attributes"] == {"type": "Case", "url": path}
    assert read["CaseNumber"] == "00001001"
    assert read["CreatedDate"] == "2024-05-01T07:15:42.000+0000"
    assert patched.status_code == 204
    assert after == {
        "attributes": {"type": "Case", "url": path},
        "Status": "Working",
        "CaseNumber": "00001001",
    }
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_case_lookup_by_short_id(api: Api) -> None:
    """A Case can be read by its 15-character id."""
    case_id = api.create_case()

    assert api.get(f"{DATA}/sobjects/Case/{case_id[:15]}").json()["Id"] == case_id


def test_rejected_write_array(api: Api) -> None:
    """A bad value returns 400 with one entry naming the field."""
    response = api.post(f"{DATA}/sobjects/Case", json={"Status": "Bogus"})

    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Status: bad value for restricted picklist field: Bogus",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status"],
        }
    ]


def test_bad_json_body(api: Api) -> None:
    """A body that is not a JSON object answers 400 JSON_PARSER_ERROR."""
    response = api.post(
        f"{DATA}/sobjects/Case", data=b"[1]", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_read_only_objects(api: Api, emulator: SalesforceEmulator) -> None:
    """Users can be read but not created through the API."""
    response = api.post(f"{DATA}/sobjects/User", json={"Username": "x@example.com"})

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_call_options_client_recorded(api: Api, emulator: SalesforceEmulator) -> None:
    """The client named in Sforce-Call-Options is kept with the change."""
    case_id = api.create_case()
    api.patch(
        f"{DATA}/sobjects/Case/{case_id}",
        json={"Subject": "x"},
        headers={"Sforce-Call-Options": "client=tierbridge"},
    )

    assert emulator.state.client_of(case_id) == "tierbridge"


def test_if_unmodified_since(api: Api, clock: FakeClock) -> None:
    """PATCH with an If-Unmodified-Since before the last change answers 412."""
    case_id = api.create_case()
    clock.advance(60)
    path = f"{DATA}/sobjects/Case/{case_id}"
    api.patch(path, json={"Subject": "changed"})

    stale = api.patch(
        path,
        json={"Subject": "mine"},
        headers={"If-Unmodified-Since": "Wed, 01 May 2024 07:15:42 GMT"},
    )

    assert stale.status_code == 412


def test_query_paging(api: Api) -> None:
    """batchSize pages the result; nextRecordsUrl serves the rest until done."""
    ids = [api.create_case(Subject=f"case {n}") for n in range(5)]
    soql = "SELECT Id FROM Case ORDER BY Id"
    options = {"Sforce-Query-Options": "batchSize=2"}

    pages = [api.query(soql, headers=options).json()]
    while not pages[-1]["done"]:
        pages.append(api.get(pages[-1]["nextRecordsUrl"], headers=options).json())

    assert [len(page["records"]) for page in pages] == [2, 2, 1]
    assert all(page["totalSize"] == 5 for page in pages)
    assert pages[0]["nextRecordsUrl"].startswith(f"{DATA}/query/01gHs")
    assert pages[0]["nextRecordsUrl"].endswith("-2")
    assert [row["Id"] for page in pages for row in page["records"]] == ids


def test_query_trailing_slash(api: Api) -> None:
    """`/query/?q=` works as simple-salesforce sends it."""
    api.create_case()

    response = api.get(f"{DATA}/query/", params={"q": "SELECT Id FROM Case"})

    assert response.json()["totalSize"] == 1


def test_expired_locator(api: Api, emulator: SalesforceEmulator, clock: FakeClock) -> None:
    """A locator expired by the test, or idle for 15 minutes, answers INVALID_QUERY_LOCATOR."""
    for _ in range(3):
        api.create_case()
    options = {"Sforce-Query-Options": "batchSize=1"}
    first = api.query("SELECT Id FROM Case", headers=options).json()
    emulator.expire_query_locators()
    second = api.query("SELECT Id FROM Case", headers=options).json()
    clock.advance(16 * 60)

    for page in (first, second):
        response = api.get(page["nextRecordsUrl"])
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted(api: Api) -> None:
    """queryAll returns deleted rows that query leaves out."""
    case_id = api.create_case()
    api.delete(f"{DATA}/sobjects/Case/{case_id}")
    soql = "SELECT Id FROM Case WHERE IsDeleted = true"

    live = api.query(soql).json()
    every = api.get(f"{DATA}/queryAll", params={"q": soql}).json()

    assert live["totalSize"] == 0
    assert [row["Id"] for row in every["records"]] == [case_id]


def test_query_errors(api: Api) -> None:
    """A malformed query or a missing q answers 400 with the error code."""
    malformed = api.query("SELECT FROM Case")
    missing = api.get(f"{DATA}/query")

    assert malformed.status_code == 400
    assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"
    assert missing.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_case_comment_routes(api: Api) -> None:
    """CaseComments are created with POST and read with GET, IsPublished kept."""
    case_id = api.create_case()

    created = api.post(
        f"{DATA}/sobjects/CaseComment",
        json={"ParentId": case_id, "CommentBody": "Cert re-issued.", "IsPublished": True},
    )
    comment = api.get(f"{DATA}/sobjects/CaseComment/{created.json()['id']}").json()

    assert created.status_code == 201
    assert comment["ParentId"] == case_id
    assert comment["IsPublished"] is True
    assert comment["CommentBody"] == "Cert re-issued."
