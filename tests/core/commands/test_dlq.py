"""`tierbridge dlq`: list, show, retry and drop dead events through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench._scenario import write_config
from tests.conftest import SECRETS, Emulators, no_sleep
from tierbridge.core.cli import main
from tierbridge.core.config import load_config
from tierbridge.core.engine import handle_event
from tierbridge.core.retry import CallPolicy
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.store import Store, SyncLogEntry
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHIPPED_MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "servicenow.yaml"
ON_HOLD = '"3": pending, '


@pytest.fixture
def config_path(emulators: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config on the session's emulators whose ServiceNow mapping is a copy in tmp_path."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    mapping = tmp_path / "servicenow.yaml"
    mapping.write_text(SHIPPED_MAPPING.read_text(encoding="utf-8"), encoding="utf-8")
    return write_config(
        tmp_path / "tierbridge.yaml",
        base_urls={"snow": emulators.snow.base_url, "jsm": emulators.jira.base_url},
        ca_cert=emulators.snow.ca_cert,
        store_url=f"sqlite:///{tmp_path / 'store.db'}",
        connector_overrides={"snow": {"mapping": str(mapping)}},
    )


@pytest.fixture
def store(config_path: Path) -> Iterator[Store]:
    opened = Store.open(load_config(config_path).store.url)
    yield opened
    opened.close()


def park(store: Store, ticket: str, connector: str = "snow", error: str = "HTTP 400") -> int:
    """Store an event for `ticket` and park it as dead after one attempt; return its id."""
    event_id = store.add_event(connector, f"d-{ticket}", ticket, "updated", "5", {"n": 1}, NOW)
    assert event_id is not None
    claimed = store.claim_event(NOW, 60)
    assert claimed is not None
    assert claimed.id == event_id
    store.dead_event(event_id, error, now=NOW)
    return event_id


def dlq(config_path: Path, *words: str) -> int:
    return main(["dlq", *words, "--config", str(config_path)])


def runtime(config_path: Path) -> Runtime:
    """Build the daemon's runtime from the config file, as `tierbridge run` would."""
    rt = build_runtime(load_config(config_path))
    rt.policy = CallPolicy(sleep=no_sleep)
    return rt


def handle_next(rt: Runtime) -> int:
    """Claim and handle one event; return its id."""
    event = rt.store.claim_event(rt.clock(), 60)
    assert event is not None
    handle_event(rt, event)
    return event.id


class TestList:
    def test_list_empty(self, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """With nothing parked, list prints that and exits 0."""
        assert dlq(config_path, "list") == 0
        assert capsys.readouterr().out == "no dead events\n"

    def test_list_dead_events(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each dead event shows its id, connector, ticket key, attempts, time and error."""
        store.create_link("snow", "abc", "INC0010001", "L1")
        first = park(store, "abc", error="mapping 'snow' has no entry for status '3'\nmore")
        store.add_event("snow", "d-pending", "xyz", "updated", "1", {}, NOW)

        assert dlq(config_path, "list") == 0
        lines = capsys.readouterr().out.splitlines()

        assert len(lines) == 2
        assert lines[0].split()[:4] == ["ID", "CONNECTOR", "TICKET", "ATTEMPTS"]
        row = lines[1]
        assert row.split()[:4] == [str(first), "snow", "INC0010001", "1"]
        assert "2026-03-01 12:00:00" in row
        assert row.endswith("mapping 'snow' has no entry for status '3'")

    def test_list_json_filter(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--connector keeps one connector's events, and --json prints one object a line."""
        park(store, "abc")
        jira_event = park(store, "10001", connector="jsm")

        assert dlq(config_path, "list", "--connector", "jsm", "--json") == 0
        lines = capsys.readouterr().out.splitlines()

        assert len(lines) == 1
        item = json.loads(lines[0])
        assert item["id"] == jira_event
        assert item["ticket"] == "10001"
        assert item["last_error"] == "HTTP 400"


class TestShow:
    def test_show_event(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """show prints the event's fields, its payload and its sync log rows only."""
        event_id = park(store, "abc")
        other = park(store, "abc-2")
        for number, action in ((event_id, "dead_lettered"), (other, "retry")):
            store.log(
                SyncLogEntry(
                    connector="snow",
                    ticket_id="abc",
                    action=action,
                    at=NOW,
                    event_id=number,
                    outcome="failed",
                    attempt=1,
                    error="HTTP 400",
                )
            )

        assert dlq(config_path, "show", str(event_id)) == 0
        out = capsys.readouterr().out

        assert f"event {event_id} (dead)" in out
        assert "delivery    d-abc" in out
        assert '"n": 1' in out
        assert "sync log (1 rows, oldest first):" in out
        assert "dead_lettered failed" in out
        assert "retry" not in out.split("sync log")[1]

    def test_show_unknown(self, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown id exits 1 with a message on stderr."""
        assert dlq(config_path, "show", "404") == 1
        assert "event 404 not found" in capsys.readouterr().err


class TestRetry:
    def test_retry_one(self, config_path: Path, store: Store) -> None:
        """retry ID makes that dead event pending with no attempts, and no other."""
        event_id = park(store, "abc")
        other = park(store, "def")

        assert dlq(config_path, "retry", str(event_id)) == 0

        retried = store.get_event(event_id)
        untouched = store.get_event(other)
        assert retried is not None
        assert retried.status == "pending"
        assert retried.attempts == 0
        assert untouched is not None
        assert untouched.status == "dead"

    def test_retry_all(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """retry --all requeues every dead event and prints the count."""
        park(store, "abc")
        park(store, "def")

        assert dlq(config_path, "retry", "--all") == 0

        assert capsys.readouterr().out == "requeued 2 dead events\n"
        assert store.list_events(status="dead") == []

    def test_retry_not_dead(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A pending event cannot be retried: exit 1 with the reason on stderr."""
        event_id = store.add_event("snow", "d-1", "abc", "updated", "1", {}, NOW)

        assert dlq(config_path, "retry", str(event_id)) == 1
        assert "is pending, not dead" in capsys.readouterr().err

    def test_retry_needs_target(self, config_path: Path) -> None:
        """retry without an id or --all is a usage error."""
        with pytest.raises(SystemExit) as exited:
            dlq(config_path, "retry")
        assert exited.value.code == 2

    def test_retry_after_fix(self, config_path: Path, emulators: Emulators, tmp_path: Path) -> None:
        """An event parked by an unmapped value completes once the mapping is fixed and retried."""
        mapping = tmp_path / "servicenow.yaml"
        shipped = mapping.read_text(encoding="utf-8")
        assert ON_HOLD in shipped
        mapping.write_text(shipped.replace(ON_HOLD, ""), encoding="utf-8")
        snow = emulators.snow
        with ServiceNowAgent(
            snow.base_url, snow.ca_cert, "agent.l1", DEFAULT_PASSWORDS["agent.l1"]
        ) as l1:
            incident = l1.create_incident(short_description="Printer jam", impact="3", urgency="3")
            l1.update_incident(incident["sys_id"], state="3", hold_reason="1")

        rt = runtime(config_path)
        event_id = rt.store.add_event(
            "snow", "d-hold", incident["sys_id"], "updated", None, {}, rt.clock()
        )
        assert event_id is not None
        handle_next(rt)
        parked = rt.store.get_event(event_id)
        rt.close()
        assert parked is not None
        assert parked.status == "dead"
        assert "status" in (parked.last_error or "")

        mapping.write_text(shipped, encoding="utf-8")
        assert dlq(config_path, "retry", str(event_id)) == 0
        fixed = runtime(config_path)
        try:
            assert handle_next(fixed) == event_id
            done = fixed.store.get_event(event_id)
            snapshot = fixed.store.get_snapshot("snow", incident["sys_id"])
        finally:
            fixed.close()
        assert done is not None
        assert done.status == "done"
        assert snapshot is not None
        assert snapshot.data["status"] == "pending"


class TestDrop:
    def test_drop_event(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """drop finishes the dead event and the sync log keeps a 'dropped' row."""
        event_id = park(store, "abc")

        assert dlq(config_path, "drop", str(event_id)) == 0

        assert f"dropped event {event_id}" in capsys.readouterr().out
        assert store.list_events(status="dead") == []
        assert [row.action for row in store.sync_log(ticket="abc")] == ["dropped"]

    def test_drop_not_dead(
        self, config_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A pending event is not dropped: exit 1 and keep it."""
        event_id = store.add_event("snow", "d-1", "abc", "updated", "1", {}, NOW)
        assert event_id is not None

        assert dlq(config_path, "drop", str(event_id)) == 1
        assert "only dead events can be dropped" in capsys.readouterr().err
        assert store.get_event(event_id) is not None


def test_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config that does not load exits 2 with its problems on stderr."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("store: {url: sqlite:///x.db}\n", encoding="utf-8")

    assert dlq(broken, "list") == 2
    assert "missing required key 'connectors'" in capsys.readouterr().err
