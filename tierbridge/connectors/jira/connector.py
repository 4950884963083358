"""The Jira Service Management connector: issues of one JSM project on a Jira Cloud site."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tierbridge.connectors.jira.adf import adf_to_text, text_to_adf
from tierbridge.connectors.jira.attachments import AttachmentStore
from tierbridge.connectors.jira.client import JiraClient
from tierbridge.connectors.jira.queries import changed_since_jql, correlation_jql
from tierbridge.connectors.jira.records import parse_jira_time, record_fields, to_record
from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.jira.webhooks import (
    DEFAULT_SIGNATURE_HEADER,
    lists_touched,
    parse_events,
    verify_signature,
)
from tierbridge.connectors.jira.writes import (
    edit_payload,
    lone_resolution,
    pick_transition,
    transition_fields,
)
from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.errors import RejectedError, RetryableError, WebhookAuthError
from tierbridge.core.model import AttachmentMeta, Comment

__all__ = ["JiraConnector"]


class JiraConnector(Connector):
    """Reads and writes the issues of `settings.project` through the Jira Cloud REST API.

    Creates go through the JSM customer-request API so the issue gets its request type; the
    integration account becomes the reporter. Not thread-safe: use one instance per worker.
    """

    system = "jira"
    supports_attachments = True

    def __init__(self, name: str, settings: JiraSettings) -> None:
        super().__init__(name)
        self.settings = settings
        self._client = JiraClient(name, settings)
        self._files = AttachmentStore(self._client)
        self._fields = record_fields(settings.correlation_field, settings.category_field)
        self._zone: ZoneInfo | None = None
        self._account_ids: dict[str, str] = {}

    def close(self) -> None:
        self._client.close()

    def _where(self, operation: str, record: str | None = None) -> dict[str, Any]:
        return {"connector": self.name, "operation": operation, "record": record}

    # -- intake ---------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        webhook = self.settings.webhook
        if webhook is None:
            msg = f"connector {self.name} has no webhook secret; add webhook.secret to its config"
            raise WebhookAuthError(msg)
        header = webhook.signature_header or DEFAULT_SIGNATURE_HEADER
        verify_signature(headers, body, webhook.secret.resolve(), header)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return parse_events(self.name, headers, body)

    def lists_touched(self, kind: str, payload: Mapping[str, Any]) -> frozenset[str] | None:
        return lists_touched(payload)

    # -- reads ----------------------------------------------------------------------------

    def _time_zone(self) -> ZoneInfo:
        """Return the integration account's time zone, in which Jira reads JQL dates."""
        if self._zone is None:
            name = self._client.myself().get("timeZone") or "UTC"
            try:
                self._zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                msg = f"Jira reports an unknown time zone {name!r} for the integration account"
                raise RejectedError(msg, **self._where("read the integration account")) from exc
        return self._zone

    def _search(self, jql: str) -> Iterator[NativeRecord]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self._client.search_page(jql, self._fields, self.settings.page_size, token)
            for issue in page.get("issues", []):
                yield self._record(issue)
            token = page.get("nextPageToken")
            if page.get("isLast", token is None):
                return
            if not token or token in seen:
                problem = "no nextPageToken" if not token else "a nextPageToken seen before"
                msg = f"search page has isLast false and {problem}; the read is incomplete"
                raise RetryableError(msg, **self._where("search issues"))
            seen.add(token)

    def _record(self, issue: Mapping[str, Any]) -> NativeRecord:
        return to_record(issue, self.settings.correlation_field, self.settings.category_field)

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        """Yield records updated at or after `since`, floored to the minute in Jira's zone."""
        jql = changed_since_jql(self.settings.project, since, self._time_zone())
        yield from self._search(jql)

    def get_record(self, ticket_id: str) -> NativeRecord:
        return self._record(self._client.get_issue(ticket_id, self._fields))

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        # NOTE: Jira Cloud search is eventually consistent, so an issue created seconds ago
        # may not be found yet. The engine's create-once check has to allow for that.
        field = self.settings.correlation_field
        jql = correlation_jql(self.settings.project, field, correlation_id)
        for record in self._search(jql):
            if record.fields.get(field) == correlation_id:
                return record
        return None

    def list_comments(self, ticket_id: str) -> list[Comment]:
        comments: list[Comment] = []
        while True:
            page = self._client.comments_page(ticket_id, len(comments), self.settings.page_size)
            batch = page.get("comments", [])
            comments.extend(_comment(item) for item in batch)
            if not batch or len(comments) >= int(page.get("total", 0)):
                return comments

    # -- writes ---------------------------------------------------------------------------

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        """Raise a JSM request with summary, description and correlation id, then set the rest."""
        correlation_field = self.settings.correlation_field
        values: dict[str, Any] = {
            "summary": fields.get("summary"),
            correlation_field: correlation_id,
        }
        if fields.get("description"):
            values["description"] = fields["description"]
        created = self._client.create_request(
            {
                "serviceDeskId": self.settings.service_desk_id,
                "requestTypeId": self.settings.request_type_id,
                "requestFieldValues": values,
            }
        )
        issue_id = str(created["issueId"])
        skip = {"summary", "description", correlation_field}
        rest = {name: value for name, value in fields.items() if name not in skip}
        if rest:
            return self.update_record(issue_id, rest)
        return self.get_record(issue_id)

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        """Write every plain field in one edit, then move the status by a transition.

        With a `status`, `resolution` is sent with the transition, when its screen offers it.
        Without one, `resolution` goes in the edit, which Jira accepts only when the
        Resolution field is on the issue's edit screen. Only in this case the screen is read
        first (editmeta). If it lacks the field, RejectedError is raised and nothing is written.
        """
        where = self._where("update issue", ticket_id)
        payload = edit_payload(fields, self.settings, self._account_id, where)
        status = fields.get("status")
        if "resolution" in fields and not status:
            payload["resolution"] = self._lone_resolution(ticket_id, fields["resolution"])
        if payload:
            self._client.edit_issue(ticket_id, payload)
        if status:
            self._move_to(ticket_id, str(status), fields.get("resolution"))
        return self.get_record(ticket_id)

    def _lone_resolution(self, ticket_id: str, resolution: str | None) -> dict[str, Any] | None:
        """Return the edit value of a resolution written without a status change."""
        screen = self._client.edit_screen(ticket_id)
        where = self._where("change resolution of issue", ticket_id)
        return lone_resolution(resolution, screen, self.settings, where)

    def _move_to(self, ticket_id: str, target: str, resolution: str | None) -> None:
        # NOTE: a done status that cannot reach the target is reopened first, as in Canceled
        # to In Progress to Resolved. Any other target two steps away (Waiting for support
        # to Closed) is rejected rather than walked through intermediate statuses.
        where = self._where("transition issue", ticket_id)
        transitions = self._client.transitions(ticket_id)
        chosen = pick_transition(transitions, target)
        if chosen is None and self._reopen(ticket_id, transitions, target):
            transitions = self._client.transitions(ticket_id)
            chosen = pick_transition(transitions, target)
        if chosen is None:
            current = self.get_record(ticket_id).fields.get("status")
            if str(current).casefold() == target.casefold():
                return
            targets = ", ".join(sorted({str(t.get("to", {}).get("name")) for t in transitions}))
            msg = (
                f"no transition to status {target!r} from {current!r}; "
                f"available targets: {targets or 'none'}"
            )
            raise RejectedError(msg, **where)
        values = transition_fields(chosen, resolution, self.settings.default_resolution, where)
        self._client.transition(ticket_id, str(chosen["id"]), values)

    def _reopen(self, ticket_id: str, transitions: list[dict[str, Any]], target: str) -> bool:
        """Reopen an issue in a done status to an In Progress status; return whether it did.

        Done statuses such as Canceled or Resolved usually lead only back to work, so a
        move from one to another, or to Waiting for customer, needs that step first.
        """
        raw = self._client.get_issue(ticket_id, ["status"])
        status = raw.get("fields", {}).get("status") or {}
        if status.get("statusCategory", {}).get("key") != "done":
            return False
        if str(status.get("name", "")).casefold() == target.casefold():
            return False
        reopening = [
            transition
            for transition in transitions
            if transition.get("to", {}).get("statusCategory", {}).get("key") == "indeterminate"
        ]
        if not reopening:
            return False
        where = self._where("transition issue", ticket_id)
        values = transition_fields(reopening[0], None, self.settings.default_resolution, where)
        self._client.transition(ticket_id, str(reopening[0]["id"]), values)
        return True

    def _account_id(self, field: str, email: str) -> str:
        """Find the account id for an e-mail address; Jira Cloud writes users by account id."""
        if email not in self._account_ids:
            expected = email.casefold()
            for user in self._client.find_users(email):
                if str(user.get("emailAddress", "")).casefold() == expected:
                    self._account_ids[email] = str(user["accountId"])
                    break
            else:
                msg = (
                    f"no Jira account matches the {field} e-mail address; check that the user "
                    "exists and that its e-mail address is visible to the integration account"
                )
                raise RejectedError(msg, **self._where("find user"))
        return self._account_ids[email]

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        """Post through the JSM request API, whose `public` flag sets customer visibility."""
        created = self._client.add_request_comment(ticket_id, body, public=public)
        if created.get("public") is not public:
            msg = f"Jira stored the comment with public={created.get('public')!r}, not {public}"
            raise RejectedError(msg, **self._where("add comment", ticket_id))
        stamp = created.get("created", {}).get("epochMillis")
        return Comment(
            source_id=str(created["id"]),
            body=body,
            public=public,
            author=_author(created.get("author")),
            created=datetime.fromtimestamp(stamp / 1000, UTC) if stamp is not None else None,
        )

    def update_comment(self, ticket_id: str, comment_id: str, body: str) -> Comment:
        """Replace the body through the platform API; an internal note stays internal."""
        updated = self._client.update_comment(ticket_id, comment_id, text_to_adf(body))
        return _comment(updated)

    # -- attachments ----------------------------------------------------------------------

    def list_attachments(self, ticket_id: str) -> list[AttachmentMeta]:
        return self._files.list(ticket_id)

    def download_attachment(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        """Read the file by its id alone, because attachment ids are unique on the site."""
        return self._files.download(attachment)

    def upload_attachment(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        return self._files.upload(ticket_id, filename, content, content_type)


def _author(user: object) -> str | None:
    if not isinstance(user, Mapping):
        return None
    return user.get("emailAddress") or user.get("displayName")


def _comment(item: Mapping[str, Any]) -> Comment:
    body = item.get("body")
    text = adf_to_text(body) if isinstance(body, Mapping) else str(body or "")
    created = item.get("created")
    return Comment(
        source_id=str(item["id"]),
        body=text or "",
        public=bool(item.get("jsdPublic", True)),
        author=_author(item.get("author")),
        created=parse_jira_time(created) if created else None,
    )
