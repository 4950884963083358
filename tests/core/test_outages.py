"""Outages: a target system down for minutes, and the daemon itself down.

While JSM is down, ServiceNow changes wait in the inbox and are retried with backoff, none
dead-lettered, and they reach JSM once it is back. While the daemon is down, webhooks are
lost once the emulators stop retrying them, and the restarted daemon finds the changes by
polling from its watermarks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench._scenario import Scenario
from tests.conftest import no_sleep
from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.config import QueueSettings, load_config
from tierbridge.core.engine import handle_event
from tierbridge.core.errors import RetryableError
from tierbridge.core.poller import poll_connector
from tierbridge.core.retry import CallPolicy
from tierbridge.core.runtime import Runtime, build_runtime

L1_COMMENT = "The VPN drops again for the whole floor."
L1_NOTE = "Internal: the firewall logs show resets every 30 minutes."
L2_REPLY = "L2 here: we are looking at the firewall."
NEW_TITLE = "VPN drops every 30 minutes on floor 3"


class FakeClock:
    """The runtime's clock, moved by the test; the emulators keep real time."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def scenario(tmp_path: Path) -> Iterator[Scenario]:
    started = Scenario.start(tmp_path / "run", poll_interval=0.5)
    yield started
    started.stop()


@pytest.fixture
def runtime(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, FakeClock]]:
    """The engine in this process on the scenario's config, with a fake clock and no daemon."""
    for name, value in scenario.env.items():
        if name.startswith("TIERBRIDGE_"):
            monkeypatch.setenv(name, value)
    scenario.snow.set_webhook(None, None)
    scenario.jira.set_webhook(None, None)
    # Seeded, so the jittered backoff and with it the attempt counts are the same every run.
    monkeypatch.setattr("tierbridge.core.retry.random", random.Random(7))
    rt = build_runtime(load_config(scenario.config_path))
    rt.policy = CallPolicy(sleep=no_sleep)
    clock = FakeClock()
    rt.clock = clock
    yield rt, clock
    rt.close()


def sync_round(rt: Runtime, *, jira_up: bool = True) -> None:
    """Poll both systems and handle every event that is due, as the daemon would."""
    poll_connector(rt, "snow")
    if jira_up:
        poll_connector(rt, "jsm")
    else:
        with pytest.raises(RetryableError):
            poll_connector(rt, "jsm")
    while (event := rt.store.claim_event(rt.clock(), 60)) is not None:
        handle_event(rt, event)


def jsm_comments(scenario: Scenario, key: str) -> list[tuple[str, bool]]:
    issue = scenario.l2.get_issue(key)
    return [
        (adf_to_text(item["body"]) or "", bool(item["jsdPublic"]))
        for item in issue["fields"]["comment"]["comments"]
    ]


def start_outage(scenario: Scenario, rt: Runtime) -> tuple[str, str]:
    """Escalate an incident to JSM, then stop JSM; return the incident's sys_id and JSM key."""
    incident = scenario.l1.create_incident(short_description="VPN drops", impact="1", urgency="1")
    sync_round(rt)
    [issue] = scenario.l2.search("project = L2 ORDER BY key ASC")
    rt.connectors["jsm"].close()
    scenario.stop_jira_server()
    return incident["sys_id"], issue["key"]


def change_during_outage(
    scenario: Scenario, rt: Runtime, clock: FakeClock, sys_id: str, rounds: int, seconds: float
) -> None:
    """Make three L1 changes, one a round, and run `rounds` rounds `seconds` apart."""
    changes = [
        lambda: scenario.l1.add_comment(sys_id, L1_COMMENT, internal=False),
        lambda: scenario.l1.update_incident(sys_id, short_description=NEW_TITLE),
        lambda: scenario.l1.add_comment(sys_id, L1_NOTE, internal=True),
    ]
    for index in range(rounds):
        if index < len(changes):
            changes[index]()
        sync_round(rt, jira_up=False)
        clock.advance(seconds)


def recover(scenario: Scenario, rt: Runtime, clock: FakeClock) -> None:
    """Serve JSM again and run rounds a minute apart until the inbox is empty."""
    scenario.restart_jira_server()
    for _ in range(30):
        if rt.store.pending_count() == 0:
            return
        clock.advance(60)
        sync_round(rt)


def assert_synced(scenario: Scenario, key: str) -> None:
    assert scenario.l2.get_issue(key)["fields"]["summary"] == NEW_TITLE
    comments = jsm_comments(scenario, key)
    assert [public for text, public in comments if L1_COMMENT in text] == [True]
    assert [public for text, public in comments if L1_NOTE in text] == [False]


def test_target_outage_backlog(scenario: Scenario, runtime: tuple[Runtime, FakeClock]) -> None:
    """Changes made while JSM is down for 4 minutes wait, none dead, then all reach JSM."""
    rt, clock = runtime
    sys_id, key = start_outage(scenario, rt)
    jsm_cursor = rt.store.get_cursor("jsm")

    change_during_outage(scenario, rt, clock, sys_id, rounds=8, seconds=30)

    assert rt.store.list_events(status="dead") == []
    waiting = [event for event in rt.store.list_events() if event.status == "pending"]
    assert len(waiting) == 3
    assert waiting[0].attempts >= 3
    assert "cannot reach Jira" in (waiting[0].last_error or "")
    # The ticket's later events wait behind the first, in order, without attempts.
    assert [event.attempts for event in waiting[1:]] == [0, 0]
    assert rt.store.get_cursor("jsm") == jsm_cursor

    recover(scenario, rt, clock)

    assert rt.store.pending_count() == 0
    assert rt.store.list_events(status="dead") == []
    assert_synced(scenario, key)


def test_outage_beyond_retries(scenario: Scenario, runtime: tuple[Runtime, FakeClock]) -> None:
    """An outage longer than the retry budget parks the events as dead until requeued."""
    rt, clock = runtime
    rt.config = rt.config.model_copy(update={"queue": QueueSettings(max_attempts=8)})
    sys_id, key = start_outage(scenario, rt)

    change_during_outage(scenario, rt, clock, sys_id, rounds=40, seconds=60)
    recover(scenario, rt, clock)

    dead = rt.store.list_events(status="dead")
    assert len(dead) == 3
    assert {event.attempts for event in dead} == {rt.config.queue.max_attempts}
    assert scenario.l2.get_issue(key)["fields"]["summary"] != NEW_TITLE

    assert len(rt.store.requeue_dead_events(clock.now)) == 3
    sync_round(rt)

    assert rt.store.pending_count() == 0
    assert_synced(scenario, key)


def test_queue_settings_apply(scenario: Scenario, runtime: tuple[Runtime, FakeClock]) -> None:
    """The config's queue section sets the retry wait and the attempts before dead."""
    rt, clock = runtime
    queue = QueueSettings(max_attempts=2, backoff_base_seconds=1, backoff_cap_seconds=1)
    rt.config = rt.config.model_copy(update={"queue": queue})
    sys_id, _key = start_outage(scenario, rt)
    scenario.l1.add_comment(sys_id, L1_COMMENT, internal=False)

    sync_round(rt, jira_up=False)
    [waiting] = rt.store.list_events(status="pending")
    assert waiting.attempts == 1
    assert waiting.available_at <= clock.now + timedelta(seconds=1)

    clock.advance(1)
    sync_round(rt, jira_up=False)
    [dead] = rt.store.list_events(status="dead")
    assert dead.id == waiting.id
    assert dead.attempts == 2


@pytest.mark.slow
def test_daemon_down_catch_up(scenario: Scenario) -> None:
    """Changes whose webhooks were lost while the daemon was down sync after it restarts."""
    daemon = scenario.start_daemon()
    store = scenario.open_store()
    try:
        incident = scenario.l1.create_incident(
            short_description="VPN drops", impact="1", urgency="1"
        )
        scenario.settle(store)
        [issue] = scenario.l2.search("project = L2 ORDER BY key ASC")

        daemon.kill()
        scenario.l1.add_comment(incident["sys_id"], L1_COMMENT, internal=False)
        scenario.l2.add_comment(issue["key"], L2_REPLY, public=True)
        # Each emulator tries its webhook 4 times over about 2 s, then drops it.
        assert scenario.snow.drain_webhooks(10)
        assert scenario.jira.drain_webhooks(10)

        scenario.start_daemon()
        scenario.settle(store, catch_up=True)

        journal = scenario.l1.list_journal(incident["sys_id"])
        copied = [row for row in store.sync_log(limit=1000) if row.action == "commented"]
        sources = [store.get_event(row.event_id) for row in copied if row.event_id is not None]
    finally:
        store.close()

    assert [text for text, public in jsm_comments(scenario, issue["key"]) if L1_COMMENT in text]
    assert [entry for entry in journal if L2_REPLY in entry["value"]]
    assert len(sources) == 2
    assert {event.kind for event in sources if event is not None} == {"polled"}
