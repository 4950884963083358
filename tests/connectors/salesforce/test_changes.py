from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.connectors.salesforce.conftest import (
    MakeConnector,
    seed_case,
    seed_comment,
    seed_file,
    user_id,
)
from tests.emulators.salesforce.support import START, FakeClock
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.core.errors import RetryableError
from tierbridge.emulators.salesforce import SalesforceEmulator


def seed_over_time(emulator: SalesforceEmulator, clock: FakeClock, count: int) -> list[str]:
    ids = []
    for index in range(count):
        ids.append(seed_case(emulator, Subject=f"Ticket {index}"))
        clock.advance(60)
    return ids


def queries(logs: list[dict[str, Any]]) -> list[str]:
    return [line["path"] for line in logs if line.get("event") == "api_call"]


def test_all_pages_oldest_first(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """changed_since(None) follows nextRecordsUrl (page_size 2) to the last page."""
    ids = seed_over_time(emulator, clock, 5)

    with capture_logs() as logs:
        records = list(connector.changed_since(None))

    assert [record.id for record in records] == ids
    assert queries(logs).count("/services/data/v62.0/query/{locator}") == 2


def test_since_is_inclusive(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """Records stamped at or after `since` are read; older ones are not."""
    ids = seed_over_time(emulator, clock, 4)

    records = list(connector.changed_since(START + timedelta(seconds=120)))

    assert [record.id for record in records] == ids[2:]


def test_since_floors_fractions(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A `since` with fractions of a second still reads records of that second."""
    case_id = seed_case(emulator)

    records = list(connector.changed_since(START + timedelta(milliseconds=700)))

    assert [record.id for record in records] == [case_id]


def test_ties_neither_lost_nor_looped(
    make_connector: MakeConnector, emulator: SalesforceEmulator
) -> None:
    """Seven Cases at one timestamp, read two per query, come back once each."""
    ids = [seed_case(emulator, Subject=f"Tie {n}") for n in range(7)]
    connector = make_connector(query_limit=2, page_size=1)

    with capture_logs() as logs:
        records = list(connector.changed_since(START))

    assert sorted(record.id for record in records) == sorted(ids)
    assert len(records) == 7
    # Four Case queries of at most two rows, then one CaseComment and one ContentVersion query.
    assert queries(logs).count("/services/data/v62.0/query/") == 6


def test_resume_after_expired_locator(
    connector: SalesforceConnector,
    emulator: SalesforceEmulator,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An expired query locator restarts the query after the last row read."""
    ids = [seed_case(emulator) for _ in range(3)] + seed_over_time(emulator, clock, 2)
    client = connector._client
    follow = client.query_more
    expired: list[str] = []

    def expire_first(next_url: str, *, operation: str) -> dict[str, Any] | None:
        if not expired:
            expired.append(next_url)
            emulator.expire_query_locators()
        return follow(next_url, operation=operation)

    monkeypatch.setattr(client, "query_more", expire_first)

    records = list(connector.changed_since(START))

    assert expired
    assert [record.id for record in records] == ids


def test_locators_keep_expiring(
    connector: SalesforceConnector, emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read whose locators expire on every page gives up with RetryableError."""
    for _ in range(12):
        seed_case(emulator)
    monkeypatch.setattr(connector._client, "query_more", lambda next_url, *, operation: None)

    with pytest.raises(RetryableError, match="expired 4 times"):
        list(connector.changed_since(START))


def test_commented_case_found(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """A Case whose only change is a new comment is read, versioned by the comment."""
    quiet = seed_case(emulator)
    clock.advance(600)
    seed_comment(emulator, quiet)
    clock.advance(60)
    busy = seed_case(emulator)

    records = list(connector.changed_since(START + timedelta(seconds=600)))

    assert [record.id for record in records] == [quiet, busy]
    assert records[0].version == "2024-05-01T07:25:42.000Z"


def test_filed_case_found(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """A Case whose only change is a new file is read, versioned by the file's link."""
    quiet = seed_case(emulator)
    seed_case(emulator)
    clock.advance(600)
    seed_file(emulator, quiet)
    seed_file(emulator, None)

    records = list(connector.changed_since(START + timedelta(seconds=600)))

    assert [record.id for record in records] == [quiet]
    assert records[0].version == "2024-05-01T07:25:42.000Z"


def test_deleted_since(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """deleted_since lists Cases deleted at or after `since` through queryAll."""
    early, late, kept = (seed_case(emulator) for _ in range(3))
    emulator.state.delete("Case", early, user_id=user_id(emulator))
    clock.advance(60)
    emulator.state.delete("Case", late, user_id=user_id(emulator))

    assert connector.deleted_since(START + timedelta(seconds=30)) == [late]
    assert connector.deleted_since(None) == [early, late]
    assert kept not in connector.deleted_since(None)
