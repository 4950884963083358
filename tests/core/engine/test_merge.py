"""Field ownership and conflicts: both sides change a field before the daemon syncs either."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierbridge.core.cli import main
from tierbridge.core.config import load_config
from tierbridge.core.demo.stack import DEMO_CONFIG, _export_secrets, _local_config
from tierbridge.core.engine import handle_event
from tierbridge.core.engine.fields import copyable_fields
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.sync_settings import DEFAULT_OWNERSHIP, SyncSettings
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Runtime, ServiceNowAgent, JiraAgent]]:
    """Both emulators and a runtime with no runner, so each test settles events by hand."""
    _export_secrets()
    with (
        ServiceNowEmulator(tls_dir=tmp_path / "tls") as snow,
        JiraEmulator(tls_dir=tmp_path / "tls") as jira,
    ):
        config = _local_config(load_config(DEMO_CONFIG), snow, jira, tmp_path)
        runtime = build_runtime(config)
        l1 = ServiceNowAgent(snow.base_url, snow.ca_cert, "agent.l1", DEFAULT_PASSWORDS["agent.l1"])
        l2 = JiraAgent(
            jira.base_url,
            jira.ca_cert,
            "agent.l2@example.com",
            DEFAULT_TOKENS["agent.l2@example.com"],
        )
        yield runtime, l1, l2
        l1.close()
        l2.close()
        runtime.close()
        gc.collect()


def _queue(rt: Runtime, connector: str, ticket_id: str, tag: str) -> None:
    rt.store.add_event(connector, f"test:{tag}", ticket_id, "updated", None, {}, rt.clock())


def _settle_one(rt: Runtime) -> None:
    event = rt.store.claim_event(rt.clock(), 60)
    assert event is not None
    handle_event(rt, event)


def _escalated_pair(rt: Runtime, l1: ServiceNowAgent) -> tuple[str, str]:
    """Create a P1 incident, sync it, and return its sys_id and the JSM issue id."""
    incident = l1.create_incident(short_description="Mail down", impact="1", urgency="1")
    _queue(rt, "snow", incident["sys_id"], "create")
    _settle_one(rt)
    ref = rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    jsm = [r for r in rt.store.refs_of_link(ref.link_id) if r.connector == "jsm"]
    assert len(jsm) == 1
    return incident["sys_id"], jsm[0].ticket_id


def _conflict_rows(rt: Runtime) -> list[str]:
    return [row.detail or "" for row in rt.store.sync_log(limit=100) if row.action == "conflict"]


def test_default_ownership_directions() -> None:
    """Reported fields flow up only; status and resolution flow both ways."""
    up = copyable_fields(DEFAULT_OWNERSHIP, "L1", "L2")
    down = copyable_fields(DEFAULT_OWNERSHIP, "L2", "L1")

    assert "title" in up
    assert "title" not in down
    assert {"status", "resolution_code", "resolution_notes"} <= down
    assert "assignee" not in up | down


def test_newer_change_wins_status(stack: tuple[Runtime, ServiceNowAgent, JiraAgent]) -> None:
    """With last_writer, the side changed last keeps its status and the other follows."""
    rt, l1, l2 = stack
    sys_id, issue_id = _escalated_pair(rt, l1)

    l1.update_incident(sys_id, state="3", hold_reason="1")
    _queue(rt, "snow", sys_id, "hold")
    l2.transition_to(issue_id, "In Progress")
    _queue(rt, "jsm", issue_id, "progress")
    _settle_one(rt)
    _settle_one(rt)

    assert l1.get_incident(sys_id)["state"] == "2"
    assert l2.get_issue(issue_id)["fields"]["status"]["name"] == "In Progress"
    assert any(
        "status: both sides changed it (last_writer); target value kept" in d
        for d in _conflict_rows(rt)
    )


def test_hold_policy_writes_neither(stack: tuple[Runtime, ServiceNowAgent, JiraAgent]) -> None:
    """With hold, a real conflict leaves both values in place and is logged."""
    rt, l1, l2 = stack
    held = SyncSettings(ownership={"status": "hold"})
    rt.config = rt.config.model_copy(update={"sync": held})
    sys_id, issue_id = _escalated_pair(rt, l1)

    l1.update_incident(sys_id, state="3", hold_reason="1")
    _queue(rt, "snow", sys_id, "hold")
    l2.transition_to(issue_id, "In Progress")
    _queue(rt, "jsm", issue_id, "progress")
    _settle_one(rt)

    assert l2.get_issue(issue_id)["fields"]["status"]["name"] == "In Progress"
    assert any("held for a person" in detail for detail in _conflict_rows(rt))


def test_no_conflict_without_pending_event(
    stack: tuple[Runtime, ServiceNowAgent, JiraAgent],
) -> None:
    """A change with nothing unsynced on the other side is written without a live read."""
    rt, l1, l2 = stack
    sys_id, issue_id = _escalated_pair(rt, l1)

    l1.update_incident(sys_id, short_description="Mail down for everyone")
    _queue(rt, "snow", sys_id, "title")
    _settle_one(rt)

    assert l2.get_issue(issue_id)["fields"]["summary"] == "Mail down for everyone"
    assert _conflict_rows(rt) == []


def test_conflicts_command_lists_held(
    stack: tuple[Runtime, ServiceNowAgent, JiraAgent],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tierbridge conflicts --held --json` prints the held conflict with its fields."""
    rt, l1, l2 = stack
    rt.config = rt.config.model_copy(update={"sync": SyncSettings(ownership={"status": "hold"})})
    sys_id, issue_id = _escalated_pair(rt, l1)
    l1.update_incident(sys_id, state="3", hold_reason="1")
    _queue(rt, "snow", sys_id, "hold")
    l2.transition_to(issue_id, "In Progress")
    _queue(rt, "jsm", issue_id, "progress")
    _settle_one(rt)
    text = DEMO_CONFIG.read_text().replace("sqlite:///../var/tierbridge.db", rt.config.store.url)
    text = text.replace("../mappings/", f"{DEMO_CONFIG.parents[1] / 'mappings'}/")
    config_file = tmp_path / "tierbridge.yaml"
    config_file.write_text(text)
    capsys.readouterr()

    status = main(["conflicts", "--config", str(config_file), "--held", "--json"])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert len(lines) == 1
    assert lines[0]["fields"] == ["status"]
    assert lines[0]["held"] is True
