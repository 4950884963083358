from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.connectors.servicenow.conftest import MakeSettings
from tests.emulators.servicenow.support import FakeClock
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.core.errors import (
    AuthenticationError,
    NotFoundError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.emulators.servicenow import ServiceNowEmulator


def seed_incident(emulator: ServiceNowEmulator, **values: Any) -> dict[str, str]:
    """Insert an incident as the L1 agent, straight into the emulator's state."""
    return emulator.state.insert(
        "incident", {"short_description": "VPN", **values}, user="agent.l1"
    )


def seed_many(emulator: ServiceNowEmulator, clock: FakeClock, count: int) -> list[dict[str, str]]:
    records = []
    for index in range(count):
        records.append(seed_incident(emulator, short_description=f"Ticket {index}"))
        clock.advance(60)
    return records


def test_get_record_fields(connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """A read flattens the record: group name, user e-mails, None for empty values."""
    group = emulator.state.ensure_group("Group 56")
    resolver = emulator.state.ensure_user("Resolver 149")
    caller = emulator.state.ensure_user("Caller 2403")
    created = seed_incident(
        emulator,
        impact="2",
        urgency="1",
        assignment_group=group["sys_id"],
        assigned_to=resolver["sys_id"],
        caller_id=caller["sys_id"],
    )

    record = connector.get_record(created["sys_id"])

    assert record.id == created["sys_id"]
    assert record.key == "INC0010001"
    assert record.version == "0000000000"
    assert record.updated == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.created == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.updated_by == "agent.l1"
    assert record.fields["assignment_group"] == "Group 56"
    assert record.fields["assigned_to"] == "resolver.149@example.com"
    assert record.fields["caller_id"] == "caller.2403@example.com"
    assert record.fields["priority"] == "2"
    assert record.fields["state"] == "1"
    assert record.fields["description"] is None
    assert record.fields["close_code"] is None


def test_get_record_missing(connector: ServiceNowConnector) -> None:
    """A missing sys_id raises NotFoundError naming table and sys_id."""
    with pytest.raises(NotFoundError) as caught:
        connector.get_record("0" * 32)

    assert caught.value.status == 404
    assert caught.value.record == f"incident/{'0' * 32}"
    assert "get_record" in str(caught.value)


def test_changed_since_all_pages(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """changed_since(None) reads every page (page_size 2) oldest first."""
    seed_many(emulator, clock, 5)

    keys = [record.key for record in connector.changed_since(None)]

    assert keys == [f"INC001000{i}" for i in range(1, 6)]


def test_changed_since_watermark(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """Only records updated at or after `since` come back; fractions of a second are floored."""
    records = seed_many(emulator, clock, 4)
    since = datetime(2024, 5, 1, 7, 17, 42, 900000, tzinfo=UTC)

    keys = [record.key for record in connector.changed_since(since)]

    assert keys == [records[2]["number"], records[3]["number"]]


def test_changed_since_same_second(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator
) -> None:
    """Records sharing a second come back once each, ordered by sys_id."""
    records = [seed_incident(emulator) for _ in range(5)]

    ids = [record.id for record in connector.changed_since(None)]

    assert ids == sorted(record["sys_id"] for record in records)


def test_changed_since_update_moves(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """An update to a row already read shifts the pages, and the read raises."""
    records = seed_many(emulator, clock, 5)
    reading = connector.changed_since(None)
    next(reading)

    emulator.state.update("incident", records[0]["sys_id"], {"urgency": "1"}, user="agent.l1")

    with pytest.raises(RetryableError, match="shifted"):
        list(reading)


def test_changed_since_delete_detected(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """A row leaving the set during the read makes it raise rather than skip rows."""
    records = seed_many(emulator, clock, 5)
    reading = connector.changed_since(None)
    next(reading)

    emulator.state.delete("incident", records[4]["sys_id"])

    with pytest.raises(RetryableError, match="total fell"):
        list(reading)


def test_changed_since_new_rows_pass(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """Rows added at the end during the read are read too, with no error."""
    seed_many(emulator, clock, 3)
    reading = connector.changed_since(None)
    first = next(reading)

    seed_incident(emulator)

    assert [first.key, *(record.key for record in reading)] == [
        f"INC001000{i}" for i in range(1, 5)
    ]


def test_create_reads_back(connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """create_record resolves names, drops priority, tags the correlation id, reads back."""
    emulator.state.ensure_user("Resolver 149")
    fields = {
        "short_description": "Printer jam",
        "impact": 1,
        "urgency": "2",
        "priority": "5",
        "assignment_group": "Outsourced L2",
        "assigned_to": "resolver.149@example.com",
        "description": None,
    }

    record = connector.create_record(fields, "tb-0001")

    stored = emulator.state.get("incident", record.id)
    assert stored is not None
    assert record.key == "INC0010001"
    assert record.fields["priority"] == "2"
    assert record.fields["correlation_id"] == "tb-0001"
    assert record.fields["assignment_group"] == "Outsourced L2"
    assert record.fields["assigned_to"] == "resolver.149@example.com"
    assert record.updated_by == "svc.tierbridge"
    assert stored["assignment_group"] == emulator.state.ensure_group("Outsourced L2")["sys_id"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"assignment_group": "No Such Group"}, "No Such Group"),
        ({"assigned_to": "nobody@example.com"}, "nobody@example.com"),
        ({"work_notes": "x"}, "work_notes"),
    ],
)
def test_create_rejects_unknown(
    connector: ServiceNowConnector, fields: dict[str, str], named: str
) -> None:
    """Unknown groups, users and fields raise RejectedError naming the value."""
    with pytest.raises(RejectedError, match=named):
        connector.create_record(fields, "tb-0002")


def test_update_reads_back(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """update_record writes values, clears None fields and returns the new version."""
    created = seed_incident(emulator, category="network")
    clock.advance(30)
    fields = {
        "state": "6",
        "close_code": "Solution provided",
        "close_notes": "Certificate re-issued.",
        "category": None,
    }

    record = connector.update_record(created["sys_id"], fields)

    assert record.fields["state"] == "6"
    assert record.fields["category"] is None
    assert record.version == "0000000001"
    assert record.updated == datetime(2024, 5, 1, 7, 16, 12, tzinfo=UTC)


def test_update_data_policy(connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """Resolving without close fields raises RejectedError (403 data policy)."""
    created = seed_incident(emulator)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(created["sys_id"], {"state": "6"})

    assert caught.value.status == 403
    assert "Data Policy" in str(caught.value)


def test_update_missing(connector: ServiceNowConnector) -> None:
    """Updating a missing record raises NotFoundError."""
    with pytest.raises(NotFoundError):
        connector.update_record("0" * 32, {"state": "2"})


def test_comments_by_visibility(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
) -> None:
    """Public comments go to `comments`, internal ones to `work_notes`, with journal ids."""
    created = seed_incident(emulator, comments="Caller: still broken")
    clock.advance(10)

    public = connector.add_comment(created["sys_id"], "We are on it", public=True)
    clock.advance(10)
    internal = connector.add_comment(created["sys_id"], "Escalating to L2", public=False)
    listed = connector.list_comments(created["sys_id"])

    journal = {row["sys_id"]: row for row in emulator.state.journal(created["sys_id"])}
    assert journal[public.source_id]["element"] == "comments"
    assert journal[internal.source_id]["element"] == "work_notes"
    assert public.public is True
    assert internal.public is False
    assert [(c.body, c.public, c.author) for c in listed] == [
        ("Caller: still broken", True, "agent.l1"),
        ("We are on it", True, "svc.tierbridge"),
        ("Escalating to L2", False, "svc.tierbridge"),
    ]
    assert listed[2].created == datetime(2024, 5, 1, 7, 16, 2, tzinfo=UTC)


def test_same_comment_twice(connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """Two identical comments in one second get distinct source ids."""
    created = seed_incident(emulator)

    first = connector.add_comment(created["sys_id"], "Ping", public=True)
    second = connector.add_comment(created["sys_id"], "Ping", public=True)

    assert first.source_id != second.source_id


def test_find_by_correlation(connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """find_by_correlation returns the tagged record, or None."""
    created = seed_incident(emulator, correlation_id="JSM-42")
    seed_incident(emulator)

    found = connector.find_by_correlation("JSM-42")

    assert found is not None
    assert found.id == created["sys_id"]
    assert connector.find_by_correlation("JSM-43") is None


def test_wrong_password(make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused credentials raise AuthenticationError without the password in the message."""
    monkeypatch.setenv("TB_TEST_WRONG_PASSWORD", "not-the-password")
    auth = {
        "type": "basic",
        "username": "svc.tierbridge",
        "password": {"env": "TB_TEST_WRONG_PASSWORD"},
    }
    snow = ServiceNowConnector("snow", make_settings(auth=auth))

    with pytest.raises(AuthenticationError) as caught:
        list(snow.changed_since(None))
    snow.close()

    assert caught.value.status == 401
    assert "not-the-password" not in str(caught.value)


def test_throttled_retry_after(
    connector: ServiceNowConnector, emulator: ServiceNowEmulator
) -> None:
    """A 429 raises ThrottledError carrying Retry-After."""
    created = seed_incident(emulator)
    emulator.inject_429(1, retry_after=3)

    with pytest.raises(ThrottledError) as caught:
        connector.get_record(created["sys_id"])

    assert caught.value.retry_after == 3
    assert caught.value.status == 429
    assert connector.get_record(created["sys_id"]).id == created["sys_id"]


def test_oauth_client_credentials(
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """OAuth client credentials fetch a token from oauth_token.do and use it."""
    clients = {"tb-client": ("tb-client-secret", "svc.tierbridge")}
    monkeypatch.setenv("TB_TEST_SNOW_CLIENT_SECRET", "tb-client-secret")
    tls_dir = tmp_path_factory.mktemp("snow-oauth-tls")
    with ServiceNowEmulator(tls_dir=tls_dir, oauth_clients=clients) as oauth_emulator:
        auth = {
            "type": "oauth_client_credentials",
            "client_id": "tb-client",
            "client_secret": {"env": "TB_TEST_SNOW_CLIENT_SECRET"},
        }
        settings = make_settings(
            auth=auth, base_url=oauth_emulator.base_url, ca_bundle=oauth_emulator.ca_cert
        )
        snow = ServiceNowConnector("snow", settings)
        created = snow.create_record({"short_description": "Over OAuth"}, "tb-oauth")
        snow.close()

    assert created.updated_by == "svc.tierbridge"
