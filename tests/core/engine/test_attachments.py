"""Files copied between ServiceNow and JSM through `handle_event`: once, by content, in limits."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.conftest import Stack, StackFactory
from tests.core.engine.support import actions
from tests.core.engine.test_comments import jsm_comments
from tests.core.engine.test_history_regressions import escalated

#: Every byte value, so that no encoding step may alter the file unnoticed.
BINARY = bytes(range(256)) * 4
NAME = "Prüfbericht \u2013 東京.pdf"


def snow_files(stack: Stack, sys_id: str) -> list[tuple[str, bytes]]:
    listed = stack.l1.list_attachments(sys_id)
    return [(item["file_name"], stack.l1.download(item["sys_id"])) for item in listed]


def jsm_files(stack: Stack, key: str) -> list[tuple[str, bytes]]:
    listed = stack.l2.list_attachments(key)
    return [(item["filename"], stack.l2.download(item["id"])) for item in listed]


def test_file_copied_to_jsm_once(stack: Stack) -> None:
    """An incident's file reaches the JSM issue with its name and bytes intact, once."""
    sys_id, issue = escalated(stack)
    stack.l1.attach(sys_id, NAME, BINARY, "application/pdf")

    stack.process("snow", sys_id)
    stack.process("snow", sys_id)
    stack.process("jsm", issue["id"])

    assert jsm_files(stack, issue["key"]) == [(NAME, BINARY)]
    assert snow_files(stack, sys_id) == [(NAME, BINARY)]
    assert actions(stack.rt).count("attached") == 1


def test_file_copied_back_to_servicenow(stack: Stack) -> None:
    """A file attached in JSM reaches the incident, and is not copied to JSM again."""
    sys_id, issue = escalated(stack)
    stack.l2.attach(issue["key"], "trace.pcap", BINARY, "application/vnd.tcpdump.pcap")

    stack.process("jsm", issue["id"])
    stack.process("snow", sys_id)

    assert snow_files(stack, sys_id) == [("trace.pcap", BINARY)]
    assert jsm_files(stack, issue["key"]) == [("trace.pcap", BINARY)]


def test_same_bytes_on_both_sides_matched(stack: Stack) -> None:
    """A file people attached on both sides is matched by content, not copied."""
    sys_id, issue = escalated(stack)
    stack.l1.attach(sys_id, "vpn-log.txt", b"client log\n", "text/plain")
    stack.l2.attach(issue["key"], "vpn-log (1).txt", b"client log\n", "text/plain")

    stack.process("snow", sys_id)
    stack.process("jsm", issue["id"])

    assert len(snow_files(stack, sys_id)) == 1
    assert len(jsm_files(stack, issue["key"])) == 1
    assert "attachment_matched" in actions(stack.rt)


def test_unrecorded_upload_adopted(stack: Stack) -> None:
    """A copy uploaded by a pass that crashed before recording it is adopted, not repeated."""
    sys_id, issue = escalated(stack)
    listed = stack.l1.attach(sys_id, "dump.bin", BINARY)
    source = stack.rt.store.find_ref("snow", sys_id)
    assert source is not None
    correlation = f"attachment:snow:{listed['sys_id']}:jsm"
    stack.rt.store.reserve_write(source.link_id, "jsm", "attachment", correlation, stack.rt.clock())
    stack.l2.attach(issue["key"], "dump.bin", BINARY)

    stack.process("snow", sys_id)
    stack.process("jsm", issue["id"])

    assert jsm_files(stack, issue["key"]) == [("dump.bin", BINARY)]
    assert snow_files(stack, sys_id) == [("dump.bin", BINARY)]
    write = stack.rt.store.get_write(correlation)
    assert write is not None
    assert write.status == "done"


def test_too_large_file_named_in_a_note(make_stack: StackFactory) -> None:
    """A file over the target's limit is skipped with one internal note; the rest syncs."""
    stack = make_stack(jsm={"attachments": {"max_size_mb": 0.001}})  # 1,048 bytes
    sys_id, issue = escalated(stack)
    stack.l1.attach(sys_id, "screenshot.png", b"\x89PNG" * 1000, "image/png")
    stack.l1.attach(sys_id, "small.txt", b"fits", "text/plain")
    stack.l1.update_incident(sys_id, short_description="VPN drops every ten minutes")

    stack.process("snow", sys_id)
    stack.process("snow", sys_id)
    stack.process("jsm", issue["id"])

    assert jsm_files(stack, issue["key"]) == [("small.txt", b"fits")]
    notes = [c for c in jsm_comments(stack, issue["key"]) if "screenshot.png" in c[0]]
    assert len(notes) == 1
    assert notes[0][1] is False
    assert "3.9 KB" in notes[0][0]
    assert "connectors.jsm.attachments.max_size_mb" in notes[0][0]
    summary = stack.l2.get_issue(issue["key"])["fields"]["summary"]
    assert summary == "VPN drops every ten minutes"
    journal = [entry["value"] for entry in stack.l1.list_journal(sys_id)]
    assert not any("screenshot.png" in text for text in journal)
    assert actions(stack.rt).count("attachment_skipped") == 1


def test_refused_upload_named_in_a_note(stack: Stack) -> None:
    """A file the target refuses is skipped with a note naming it, and not retried."""
    sys_id, issue = escalated(stack)
    stack.emulators.jira.attachment_max_bytes = 100
    try:
        stack.l1.attach(sys_id, "big.log", b"x" * 500, "text/plain")

        first = stack.process("snow", sys_id)
        stack.process("snow", sys_id)
    finally:
        stack.emulators.jira.attachment_max_bytes = 10 * 1024 * 1024

    assert first.status == "done"
    assert jsm_files(stack, issue["key"]) == []
    notes = [c for c in jsm_comments(stack, issue["key"]) if "big.log" in c[0]]
    assert len(notes) == 1
    assert "refused" in notes[0][0]


def test_disabled_connector_takes_no_files(make_stack: StackFactory) -> None:
    """`attachments.enabled: false` on the target copies nothing to it, and reads no file."""
    stack = make_stack(jsm={"attachments": {"enabled": False}})
    sys_id, issue = escalated(stack)
    stack.l1.attach(sys_id, "a.txt", b"a", "text/plain")

    stack.process("snow", sys_id)

    assert jsm_files(stack, issue["key"]) == []
    assert "attached" not in actions(stack.rt)


def test_file_hash_recorded(stack: Stack) -> None:
    """The map keeps the SHA-256 of each copied file, on the original and on the copy."""
    sys_id, issue = escalated(stack)
    listed: dict[str, Any] = stack.l1.attach(sys_id, "a.txt", b"abc", "text/plain")

    stack.process("snow", sys_id)

    digest = hashlib.sha256(b"abc").hexdigest()
    original = stack.rt.store.find_attachment("snow", listed["sys_id"])
    (copy,) = stack.l2.list_attachments(issue["key"])
    mapped = stack.rt.store.find_attachment("jsm", str(copy["id"]))
    assert original is not None
    assert mapped is not None
    assert original.sha256 == digest
    assert mapped.sha256 == digest
    assert (mapped.origin_connector, mapped.origin_attachment_id) == ("snow", listed["sys_id"])
