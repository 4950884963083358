"""Text longer than a field's limit is cut on a character boundary, with a visible marker."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierbridge.core.config import load_config
from tierbridge.core.connector import NativeRecord
from tierbridge.core.demo.stack import DEMO_CONFIG, _export_secrets, _local_config
from tierbridge.core.engine import handle_event
from tierbridge.core.mapping import TRUNCATION_MARKER, Mapper, load_mapping, truncate_text
from tierbridge.core.model import Ticket, TicketRef
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

JIRA_MAPPING = DEMO_CONFIG.parents[1] / "mappings" / "jira.yaml"


def test_short_text_unchanged() -> None:
    """Text within the limit is returned as it is."""
    assert truncate_text("VPN down", 20) == "VPN down"


def test_cut_ends_with_marker() -> None:
    """Cut text is exactly the limit long and ends with the marker."""
    cut = truncate_text("x" * 100, 30)

    assert len(cut) == 30
    assert cut.endswith(TRUNCATION_MARKER)


def test_cut_keeps_astral_characters_whole() -> None:
    """Characters outside the Basic Multilingual Plane are never split."""
    text = "\U0001f525" * 40

    cut = truncate_text(text, 25)

    assert cut == "\U0001f525" * (25 - len(TRUNCATION_MARKER)) + TRUNCATION_MARKER
    assert cut.encode("utf-8").decode("utf-8") == cut


def test_to_native_applies_limit() -> None:
    """The shipped Jira mapping cuts a summary to Jira's 255 characters."""
    mapper = Mapper(load_mapping(JIRA_MAPPING), "jsm")
    ticket = Ticket(ref=TicketRef(connector="snow", id="1"), title="t" * 300)

    native = mapper.to_native(ticket, {"title"})

    assert len(native["summary"]) == 255
    assert native["summary"].endswith(TRUNCATION_MARKER)


def test_read_back_of_cut_text_matches() -> None:
    """`as_written` gives the text a system reads back after a cut write."""
    mapper = Mapper(load_mapping(JIRA_MAPPING), "jsm")
    ticket = Ticket(ref=TicketRef(connector="snow", id="1"), title="t" * 300)
    native = mapper.to_native(ticket, {"title"})
    record = NativeRecord(id="10000", key="L2-1", version="v", updated=ticket_time(), fields=native)

    assert mapper.as_written(ticket, {"title"}).title == mapper.to_ticket(record).title


def ticket_time():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[tuple[Runtime, ServiceNowAgent, JiraAgent]]:
    _export_secrets()
    with (
        ServiceNowEmulator(tls_dir=tmp_path / "tls") as snow,
        JiraEmulator(tls_dir=tmp_path / "tls") as jira,
    ):
        rt = build_runtime(_local_config(load_config(DEMO_CONFIG), snow, jira, tmp_path))
        spec = rt.mappers["jsm"].spec
        rt.mappers["jsm"] = Mapper(spec.model_copy(update={"max_length": {"summary": 40}}), "jsm")
        l1 = ServiceNowAgent(snow.base_url, snow.ca_cert, "agent.l1", DEFAULT_PASSWORDS["agent.l1"])
        l2 = JiraAgent(
            jira.base_url,
            jira.ca_cert,
            "agent.l2@example.com",
            DEFAULT_TOKENS["agent.l2@example.com"],
        )
        yield rt, l1, l2
        l1.close()
        l2.close()
        rt.close()
        gc.collect()


def test_cut_title_syncs_once(runtime: tuple[Runtime, ServiceNowAgent, JiraAgent]) -> None:
    """A title over the target's limit arrives cut, and its echo writes nothing more."""
    rt, l1, l2 = runtime
    title = "Printer \U0001f5a8 on floor 3 prints blank pages since the driver update last night"
    incident = l1.create_incident(short_description=title, impact="1", urgency="1")
    rt.store.add_event("snow", "t:1", incident["sys_id"], "created", None, {}, rt.clock())

    event = rt.store.claim_event(rt.clock(), 60)
    assert event is not None
    handle_event(rt, event)
    issue = l2.search("project = L2")[0]
    rt.store.add_event("jsm", "t:2", issue["id"], "updated", None, {}, rt.clock())
    echo = rt.store.claim_event(rt.clock(), 60)
    assert echo is not None
    handle_event(rt, echo)

    summary = issue["fields"]["summary"]
    assert summary == truncate_text(title, 40)
    assert rt.store.list_events(status="dead") == []
    assert not [row for row in rt.store.sync_log(limit=50) if row.action == "updated"]
