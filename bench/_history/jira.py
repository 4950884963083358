"""The L2 agent in Jira Service Management: moves requests along the workflow and comments."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, ClassVar

from bench._history.actors import Actor, Clock, SeenComment, register
from tierbridge.connectors.jira.adf import adf_to_text, text_to_adf
from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.jira.state import Change, StoredIssue
from tierbridge.emulators.jira.webhooks import sign_body

__all__ = ["JiraActor"]

_INTEGRATION = catalog.INTEGRATION_USER
_AGENT = catalog.AGENT_USER
_DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
_SIGNATURE_HEADER = "X-Hub-Signature"
_WEBHOOK_SECRET = "history-jira-webhook-key"  # noqa: S105 - a test value
_STATUS_NAMES = {
    "new": "Waiting for support",
    "in_progress": "In Progress",
    "pending": "Waiting for customer",
    "resolved": "Resolved",
    "closed": "Closed",
    "canceled": "Canceled",
}
_STATUSES = {name: status for status, name in _STATUS_NAMES.items()}
_RESOLUTIONS = {rid: name for rid, name, _ in catalog.RESOLUTIONS}


@register
class JiraActor(Actor):
    """Works requests as `agent.l2@example.com` through the Jira REST API."""

    system: ClassVar[str] = "jira"
    secrets: ClassVar[dict[str, str]] = {
        "TIERBRIDGE_JIRA_TOKEN": catalog.DEFAULT_TOKENS[_INTEGRATION.email],
        "TIERBRIDGE_JIRA_WEBHOOK_SECRET": _WEBHOOK_SECRET,
    }

    def __init__(self, connector: str, emulator: Any) -> None:
        super().__init__(connector, emulator)
        self.jira: JiraEmulator = emulator
        self.agent = JiraAgent(
            emulator.base_url,
            emulator.ca_cert,
            _AGENT.email,
            catalog.DEFAULT_TOKENS[_AGENT.email],
        )

    @classmethod
    def start_emulator(cls, tls_dir: Path, clock: Clock) -> JiraEmulator:
        # With the Resolution field on the edit screen, a close code changed on a resolved
        # incident can reach its resolved issue, so the oracle may expect it there.
        return JiraEmulator(tls_dir=tls_dir, clock=clock, resolution_on_edit_screen=True).start()

    def watch(self) -> None:
        self.emulator.listeners.append(self._saw)

    def reset(self) -> None:
        self.jira.reset()

    def settings_overrides(self) -> dict[str, Any]:
        return {"base_url": self.jira.base_url, "ca_bundle": self.jira.ca_cert}

    def close(self) -> None:
        self.agent.close()
        self.jira.stop()

    def _saw(self, change: Change) -> None:
        """Record a change and capture its webhook; runs while the site's lock is held."""
        sink = self.sink
        if sink is None:
            return
        issue = change.issue
        human = change.actor.account_id != _INTEGRATION.account_id
        if change.webhook_event == "jira:issue_created":
            sink.journal.note_created(
                self.connector, str(issue.id), human=human, correlation=issue.correlation
            )
        sink.journal.observe(self.connector, str(issue.id), _canonical(issue), human=human)
        body = json.dumps(self.jira.webhook_payload(change), separators=(",", ":")).encode()
        signature = sign_body(_WEBHOOK_SECRET, body)

        def build() -> tuple[dict[str, str], bytes]:
            """Return the admin webhook's signed delivery, with a new identifier on each call."""
            delivery = f"{self.connector}:{sink.journal.next_seq()}"
            return {_DELIVERY_HEADER: delivery, _SIGNATURE_HEADER: signature}, body

        sink.deliveries.capture(self.connector, build)

    # -- a person's changes --------------------------------------------------------------

    def set_status(
        self, ticket: str, status: str, resolution: str | None, rng: random.Random
    ) -> None:
        name = _STATUS_NAMES[status]
        self.agent.transition_to(
            self._key(ticket), name, resolution if status == "resolved" else None
        )

    def comment(self, ticket: str, text: str, *, public: bool) -> str:
        created = self.agent.add_comment(self._key(ticket), text, public=public)
        return str(created["id"])

    @property
    def edits_comments(self) -> bool:
        return True

    def edit_comment(self, ticket: str, comment_id: str, text: str) -> None:
        """Change a comment's body as an edit in Jira does, and announce `comment_updated`.

        NOTE: the emulator serves no comment edit route, so the stored comment is changed
        in place under the site's lock and the change goes to the same listeners.
        """
        state = self.jira.state
        with state.lock:
            issue = self._issue(ticket)
            stored = next(item for item in issue.comments if str(item.id) == comment_id)
            now = state.now()
            stored.body = text_to_adf(text)
            stored.updated = now
            issue.updated = now
            change = Change("comment_updated", "", issue, _AGENT, now, comment=stored)
            for listener in list(self.jira.listeners):
                listener(change)

    def resolution(self, rng: random.Random) -> str | None:
        return rng.choice(["Done", "Duplicate"])

    # -- reads ---------------------------------------------------------------------------

    def _issue(self, ticket: str) -> StoredIssue:
        issue = self.jira.state.find(ticket)
        if issue is None:
            raise KeyError(f"issue {ticket} not found in the Jira emulator")
        return issue

    def _key(self, ticket: str) -> str:
        return self._issue(ticket).key

    def tickets(self) -> list[str]:
        with self.jira.state.lock:
            return [str(issue_id) for issue_id in sorted(self.jira.state.issues)]

    def fields_of(self, ticket: str) -> dict[str, object]:
        with self.jira.state.lock:
            issue = self.jira.state.find(ticket)
            return _canonical(issue) if issue is not None else {}

    def comments_of(self, ticket: str) -> list[SeenComment]:
        with self.jira.state.lock:
            issue = self._issue(ticket)
            return [
                SeenComment(
                    str(item.id),
                    adf_to_text(item.body) or "",
                    item.public,
                    item.author != _INTEGRATION.account_id,
                )
                for item in issue.comments
            ]

    def correlation_of(self, ticket: str) -> str | None:
        with self.jira.state.lock:
            issue = self.jira.state.find(ticket)
            return issue.correlation if issue is not None else None


def _canonical(issue: StoredIssue) -> dict[str, object]:
    return {
        "title": issue.summary or None,
        "description": adf_to_text(issue.description) or None,
        "status": _STATUSES.get(catalog.STATUSES[issue.status_id].name),
        "priority": f"P{issue.priority_id}",
        "resolution_code": _RESOLUTIONS.get(issue.resolution_id or ""),
    }
