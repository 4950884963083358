"""The set, note and notify actions, including a signed webhook to a local server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.core.rules.memory import Harness
from tierbridge.core.rules.notify import SIGNATURE_HEADER, sign

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
SECRET = "hook-test-key"


@dataclass
class Hook:
    """A local webhook receiver that responds with the queued statuses, then 200."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sla"
    yield state
    server.shutdown()
    server.server_close()


def build(tmp_path: Path, body: str) -> Harness:
    return Harness.from_yaml(tmp_path, body, START, tiers=2)


class TestSet:
    def test_sets_and_syncs_onwards(self, tmp_path: Path) -> None:
        """`set` writes the source ticket, and the echo carries the change to L2."""
        harness = build(
            tmp_path,
            """
rules:
  - name: vip
    when: {keywords: [ceo]}
    then: [{escalate: L2}, {set: {priority: P1, category: VIP}}]
""",
        )
        l1 = harness.systems["l1"]
        ticket_id = l1.open(title="CEO laptop broken", priority="P3")

        harness.settle()

        assert l1.field(ticket_id, "priority") == "P1"
        (l2_id,) = harness.systems["l2"].records
        assert harness.systems["l2"].field(l2_id, "priority") == "P1"
        assert harness.systems["l2"].field(l2_id, "category") == "VIP"
        harness.close()

    def test_no_change_skipped(self, tmp_path: Path) -> None:
        """`set` with values the ticket already has writes nothing and logs a skip."""
        harness = build(
            tmp_path,
            "rules:\n  - {name: p1, when: {priority: P1}, then: [{set: {priority: P1}}]}\n",
        )
        harness.systems["l1"].open(title="A", priority="P1")

        harness.settle()

        rows = [r for r in harness.rt.store.sync_log(limit=100) if r.action == "fields_set"]
        assert [(r.outcome, r.detail) for r in rows] == [
            ("skipped", "the ticket already has these values")
        ]
        harness.close()


class TestNote:
    def test_internal_and_not_copied(self, tmp_path: Path) -> None:
        """A rule's note is internal and stays on its ticket, though the link has an L2 ticket."""
        harness = build(
            tmp_path,
            "rules:\n  - {name: p1, when: {tier: L1, priority: P1}, then: [{escalate: L2}, {note: Major.}]}\n",
        )
        l1 = harness.systems["l1"]
        ticket_id = l1.open(title="A", priority="P1")

        harness.settle()

        (note,) = l1.records[ticket_id].comments
        assert (note.body, note.public) == ("Major.", False)
        (l2_id,) = harness.systems["l2"].records
        assert harness.systems["l2"].records[l2_id].comments == []
        harness.close()


NOTIFY = """
rules:
  - name: p1-page
    when: {tier: L1, priority: P1}
    then: [{escalate: L2}, {notify: {url: "URL", secret: {env: HOOK_SECRET}}}, {note: Paged.}]
"""


class TestNotify:
    def test_signed_body(self, tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
        """The webhook gets a JSON body whose HMAC-SHA256 under the secret is in the header."""
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        harness = build(tmp_path, NOTIFY.replace("URL", hook.url))
        ticket_id = harness.systems["l1"].open(title="Secret merger plans leaked", priority="P1")

        harness.settle()

        ((headers, body),) = hook.received
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
        payload = json.loads(body)
        assert payload["rule"] == "p1-page"
        assert payload["ticket"]["id"] == ticket_id
        assert payload["ticket"]["priority"] == "P1"
        assert payload["delivery_id"] == headers["X-Tierbridge-Delivery"]
        assert b"merger" not in body
        harness.close()

    def test_server_error_retries_without_repeats(
        self, tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A 503 retries the event; the retry neither escalates twice nor notifies twice."""
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        hook.statuses = [503]
        harness = build(tmp_path, NOTIFY.replace("URL", hook.url))
        ticket_id = harness.systems["l1"].open(title="A", priority="P1")
        harness.settle()
        retried = harness.rt.store.list_events(status="pending")

        harness.clock.advance(minutes=30)
        harness.settle()

        assert len(retried) == 1
        assert len(hook.received) == 2
        assert len(harness.systems["l2"].records) == 1
        assert [c.body for c in harness.systems["l1"].records[ticket_id].comments] == ["Paged."]
        assert harness.rt.store.rule_states("l1", ticket_id)["p1-page"].fired_count == 1
        harness.close()

    def test_client_error_dead_letters(
        self, tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A 401 from the webhook parks the event; resending cannot help."""
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        hook.statuses = [401]
        harness = build(tmp_path, NOTIFY.replace("URL", hook.url))
        harness.systems["l1"].open(title="A", priority="P1")

        harness.settle()

        (dead,) = harness.rt.store.list_events(status="dead")
        assert "webhook rejected the notification" in (dead.last_error or "")
        harness.close()


def test_sign_known_vector() -> None:
    """The signature is the hex HMAC-SHA256 of the body under the key."""
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
