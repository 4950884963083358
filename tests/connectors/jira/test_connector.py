from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.connectors.jira.conftest import SettingsFactory
from tests.emulators.jira.support import AGENT, FakeClock, WebhookSink
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.core.errors import (
    NotFoundError,
    RejectedError,
    RetryableError,
    ThrottledError,
    WebhookAuthError,
)
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.agent import JiraAgent


@pytest.fixture
def jira_agent(emulator: JiraEmulator) -> Iterator[JiraAgent]:
    person = JiraAgent(emulator.base_url, emulator.ca_cert, *AGENT)
    yield person
    person.close()


def _create(connector: JiraConnector, number: int, **fields: Any) -> str:
    record = connector.create_record(
        {"summary": f"ticket {number}", **fields}, f"snow:INC00{number}"
    )
    return record.id


def test_changed_since_all_pages(make_settings: SettingsFactory, clock: FakeClock) -> None:
    """With two issues per page, every record comes back oldest first across pages."""
    connector = JiraConnector("jira-l2", make_settings(page_size=2))
    ids = []
    for number in range(5):
        ids.append(_create(connector, number))
        clock.advance(1)

    records = list(connector.changed_since(None))
    connector.close()

    assert [record.id for record in records] == ids
    assert [record.version for record in records] == sorted(record.version for record in records)


def test_changed_since_user_zone_minute(connector: JiraConnector, clock: FakeClock) -> None:
    """The watermark is read in the account's zone and floored to the minute."""
    early = _create(connector, 1)
    clock.advance(48)
    late = _create(connector, 2)

    after_first = list(connector.changed_since(datetime(2024, 5, 1, 7, 16, 10, tzinfo=UTC)))
    same_minute = list(connector.changed_since(datetime(2024, 5, 1, 7, 15, 59, tzinfo=UTC)))

    assert [record.id for record in after_first] == [late]
    assert [record.id for record in same_minute] == [early, late]


def test_changed_since_token_loop(
    connector: JiraConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page token returned twice raises RetryableError instead of looping."""
    page = {"issues": [], "nextPageToken": "same", "isLast": False}
    monkeypatch.setattr(connector._client, "search_page", lambda *args: page)

    with pytest.raises(RetryableError, match="seen before"):
        list(connector.changed_since(None))


def test_create_reads_back(connector: JiraConnector) -> None:
    """create_record raises a request, applies the other fields and returns the read-back."""
    record = connector.create_record(
        {
            "summary": "VPN drops",
            "description": "Since Monday\n\nError E-809",
            "priority": "High",
            "assignee": "agent.l2@example.com",
            "customfield_10050": "Network",
            "labels": ["vpn"],
            "status": "In Progress",
        },
        "snow:INC0010023",
    )

    assert record.key == "L2-1"
    assert record.fields == {
        "summary": "VPN drops",
        "description": "Since Monday\n\nError E-809",
        "status": "In Progress",
        "priority": "High",
        "assignee": "agent.l2@example.com",
        "reporter": "svc.tierbridge@example.com",
        "resolution": None,
        "customfield_10060": "snow:INC0010023",
        "customfield_10050": "Network",
        "labels": ["vpn"],
    }
    assert record.version == "2024-05-01T07:15:42.117Z"


def test_update_one_edit(
    connector: JiraConnector, emulator: JiraEmulator, sink: WebhookSink, clock: FakeClock
) -> None:
    """Plain fields go in one edit, which Jira announces as one change."""
    issue_id = _create(connector, 1)
    emulator.drain_webhooks(5)
    sink.deliveries.clear()
    clock.advance(30)

    record = connector.update_record(
        issue_id, {"summary": "new", "priority": "Low", "description": None, "assignee": None}
    )
    emulator.drain_webhooks(5)

    assert record.fields["summary"] == "new"
    assert record.fields["priority"] == "Low"
    assert record.version == "2024-05-01T07:16:12.117Z"
    assert len(sink.deliveries) == 1


def test_update_resolves_with_default(connector: JiraConnector) -> None:
    """Moving to Resolved supplies the configured default resolution."""
    issue_id = _create(connector, 1)

    record = connector.update_record(issue_id, {"status": "Resolved"})

    assert record.fields["status"] == "Resolved"
    assert record.fields["resolution"] == "Done"


def test_update_resolves_with_given(connector: JiraConnector) -> None:
    """A mapped resolution is used on the transition."""
    issue_id = _create(connector, 1)

    record = connector.update_record(issue_id, {"status": "Resolved", "resolution": "Duplicate"})

    assert record.fields["resolution"] == "Duplicate"


def test_update_same_status_noop(connector: JiraConnector) -> None:
    """Asking for the current status makes no transition and no error."""
    issue_id = _create(connector, 1)

    record = connector.update_record(issue_id, {"status": "Waiting for support"})

    assert record.fields["status"] == "Waiting for support"


def test_update_unreachable_status(connector: JiraConnector) -> None:
    """A status with no transition from here raises RejectedError listing the targets."""
    issue_id = _create(connector, 1)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(issue_id, {"status": "Closed"})

    assert "'Closed'" in str(caught.value)
    assert "Canceled, In Progress, Resolved, Waiting for customer" in str(caught.value)


def test_update_bad_value_rejected(connector: JiraConnector) -> None:
    """A value Jira refuses raises RejectedError naming the field."""
    issue_id = _create(connector, 1)

    with pytest.raises(RejectedError, match="customfield_10050"):
        connector.update_record(issue_id, {"customfield_10050": "Networking"})


def test_unknown_assignee_rejected(connector: JiraConnector) -> None:
    """An e-mail without a Jira account raises RejectedError without the address."""
    issue_id = _create(connector, 1)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(issue_id, {"assignee": "ghost@example.com"})

    assert "ghost@example.com" not in str(caught.value)


def test_get_record_missing(connector: JiraConnector) -> None:
    """A missing issue raises NotFoundError."""
    with pytest.raises(NotFoundError):
        connector.get_record("99999")


def test_throttled_read(connector: JiraConnector, emulator: JiraEmulator) -> None:
    """A 429 raises ThrottledError with Jira's Retry-After."""
    issue_id = _create(connector, 1)
    emulator.inject_429(1, retry_after=4)

    with pytest.raises(ThrottledError) as caught:
        connector.get_record(issue_id)

    assert caught.value.retry_after == 4.0


def test_comments_visibility(connector: JiraConnector, jira_agent: JiraAgent) -> None:
    """Comments by the connector and by an agent keep their visibility."""
    issue_id = _create(connector, 1)
    key = connector.get_record(issue_id).key
    assert key is not None

    public = connector.add_comment(issue_id, "We are on it.", public=True)
    internal = connector.add_comment(issue_id, "Logs show E-809\nretrying", public=False)
    jira_agent.add_comment(key, "agent note", public=False)
    listed = connector.list_comments(issue_id)

    assert (public.public, internal.public) == (True, False)
    assert internal.author == "svc.tierbridge@example.com"
    assert internal.created == datetime(2024, 5, 1, 7, 15, 42, 117000, tzinfo=UTC)
    assert [(c.body, c.public, c.author) for c in listed] == [
        ("We are on it.", True, "svc.tierbridge@example.com"),
        ("Logs show E-809\nretrying", False, "svc.tierbridge@example.com"),
        ("agent note", False, "agent.l2@example.com"),
    ]
    assert listed[1].source_id == internal.source_id


def test_comments_paged(make_settings: SettingsFactory, emulator: JiraEmulator) -> None:
    """list_comments follows startAt to the last page."""
    connector = JiraConnector("jira-l2", make_settings(page_size=2))
    issue_id = _create(connector, 1)
    for number in range(5):
        connector.add_comment(issue_id, f"comment {number}", public=True)

    listed = connector.list_comments(issue_id)
    connector.close()

    assert [comment.body for comment in listed] == [f"comment {n}" for n in range(5)]


def test_find_by_correlation_exact(connector: JiraConnector) -> None:
    """Only an exact correlation value matches; a partial one finds nothing."""
    _create(connector, 1)
    expected_id = _create(connector, 2)

    found = connector.find_by_correlation("snow:INC002")

    assert found is not None
    assert found.id == expected_id
    assert connector.find_by_correlation("snow:INC00") is None
    assert connector.find_by_correlation("INC002") is None


def test_webhook_round_trip(
    connector: JiraConnector, emulator: JiraEmulator, sink: WebhookSink
) -> None:
    """Deliveries from the emulator verify and parse; a comment yields two events."""
    issue_id = _create(connector, 1)
    connector.add_comment(issue_id, "hello", public=True)
    assert emulator.drain_webhooks(5)

    events = []
    for delivery in sink.deliveries:
        connector.verify_webhook(delivery.headers, delivery.body)
        events.extend(connector.parse_webhook(delivery.headers, delivery.body))

    assert [event.kind for event in events] == ["created", "commented", "commented"]
    assert {event.ticket_id for event in events} == {issue_id}
    assert len({event.delivery_id for event in events}) == 3
    assert events[2].version == connector.get_record(issue_id).version


def test_webhook_wrong_secret(
    connector: JiraConnector, emulator: JiraEmulator, sink: WebhookSink
) -> None:
    """A delivery signed with another secret is refused."""
    emulator.set_webhook(sink.url, "other-secret")
    _create(connector, 1)
    assert emulator.drain_webhooks(5)

    delivery = sink.deliveries[0]
    with pytest.raises(WebhookAuthError, match="X-Hub-Signature"):
        connector.verify_webhook(delivery.headers, delivery.body)


def test_webhook_without_secret(make_settings: SettingsFactory) -> None:
    """A connector without webhook settings refuses every webhook."""
    connector = JiraConnector("jira-l2", make_settings(webhook=None))

    with pytest.raises(WebhookAuthError, match="no webhook secret"):
        connector.verify_webhook({}, b"{}")
    connector.close()
