"""The emulated site's data and the only code that changes it.

Routes validate wire input first (`fields.py`), then call these methods with internal values:
option and priority ids, account ids, ADF documents. Every change bumps `updated`, records its
changelog items and is passed to `publish` while the lock is held, so webhooks leave in change
order.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.adf import adf_to_wiki
from tierbridge.emulators.jira.catalog import Transition, UserProfile
from tierbridge.emulators.jira.wire import utc_now_ms

__all__ = [
    "Change",
    "ChangeItem",
    "JiraState",
    "StoredAttachment",
    "StoredComment",
    "StoredIssue",
]

_FIRST_ISSUE_ID = 10000
_FIRST_ATTACHMENT_ID = 10300
_FIRST_COMMENT_ID = 10500
_FIRST_CHANGELOG_ID = 10800


@dataclass
class StoredComment:
    id: int
    author: str
    body: dict[str, Any]
    public: bool
    created: datetime
    updated: datetime


@dataclass
class StoredAttachment:
    """One attached file with its bytes. `media_id` names it in the download redirect."""

    id: int
    issue_id: int
    filename: str
    mime_type: str
    content: bytes = field(repr=False)
    author: str
    created: datetime
    media_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class StoredIssue:
    """One issue. Times are UTC; people are account ids; select values are option ids."""

    id: int
    key: str
    summary: str
    created: datetime
    updated: datetime
    status_changed: datetime
    description: dict[str, Any] | None = None
    reporter: str | None = None
    creator: str | None = None
    status_id: str = catalog.WAITING_FOR_SUPPORT.id
    priority_id: str = catalog.DEFAULT_PRIORITY_ID
    assignee: str | None = None
    resolution_id: str | None = None
    resolution_date: datetime | None = None
    labels: list[str] = field(default_factory=list)
    correlation: str | None = None
    category_id: str | None = None
    request_type_id: str | None = None
    comments: list[StoredComment] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeItem:
    """One changelog entry: raw ids in `from_id`/`to_id`, labels in the strings."""

    field: str
    field_id: str
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None
    custom: bool = False


@dataclass(frozen=True)
class Change:
    """A change to publish as a webhook, rendered while the state lock is still held."""

    webhook_event: str
    event_type: str
    issue: StoredIssue
    actor: UserProfile
    at: datetime
    items: tuple[ChangeItem, ...] = ()
    changelog_id: int | None = None
    comment: StoredComment | None = None
    attachment: StoredAttachment | None = None


#: Editable fields: internal name -> (changelog field name, custom?).
_EDITABLE: Mapping[str, tuple[str, bool]] = {
    "summary": ("summary", False),
    "description": ("description", False),
    "priority": ("priority", False),
    "assignee": ("assignee", False),
    "reporter": ("reporter", False),
    "labels": ("labels", False),
    "resolution": ("resolution", False),
    catalog.CORRELATION_FIELD: ("External reference", True),
    catalog.CATEGORY_FIELD: ("Category", True),
}

_ATTRIBUTES: Mapping[str, str] = {
    "priority": "priority_id",
    "resolution": "resolution_id",
    catalog.CORRELATION_FIELD: "correlation",
    catalog.CATEGORY_FIELD: "category_id",
}


class JiraState:
    """Issues, comments and users of one project, guarded by `lock`."""

    def __init__(
        self,
        project_key: str,
        tokens: Mapping[str, str],
        clock: Callable[[], datetime],
        publish: Callable[[Change], None],
    ) -> None:
        self.project_key = project_key
        self.tokens = dict(tokens)
        self.profiles = catalog.build_profiles(list(tokens))
        self.by_account = {profile.account_id: profile for profile in self.profiles.values()}
        self.issues: dict[int, StoredIssue] = {}
        #: Every attachment of every issue, by attachment id.
        self.attachments: dict[int, StoredAttachment] = {}
        self.lock = threading.RLock()
        self._clock = clock
        self._publish = publish
        self._next_issue_id = _FIRST_ISSUE_ID
        self._next_number = 1
        self._next_comment_id = _FIRST_COMMENT_ID
        self._next_changelog_id = _FIRST_CHANGELOG_ID
        self._next_attachment_id = _FIRST_ATTACHMENT_ID

    def reset(self) -> None:
        """Delete every issue and restart ids and keys from the beginning."""
        with self.lock:
            self.issues.clear()
            self.attachments.clear()
            self._next_issue_id = _FIRST_ISSUE_ID
            self._next_number = 1
            self._next_comment_id = _FIRST_COMMENT_ID
            self._next_changelog_id = _FIRST_CHANGELOG_ID
            self._next_attachment_id = _FIRST_ATTACHMENT_ID

    def now(self) -> datetime:
        return utc_now_ms(self._clock())

    def find(self, id_or_key: str) -> StoredIssue | None:
        """Look an issue up by numeric id or by key (keys are case-insensitive)."""
        with self.lock:
            if id_or_key.isdigit():
                return self.issues.get(int(id_or_key))
            key = id_or_key.upper()
            return next((issue for issue in self.issues.values() if issue.key == key), None)

    def create_issue(
        self, actor: UserProfile, values: Mapping[str, Any], request_type_id: str | None = None
    ) -> StoredIssue:
        """Create an issue in the initial status from validated values and announce it."""
        with self.lock:
            now = self.now()
            issue = StoredIssue(
                id=self._next_issue_id,
                key=f"{self.project_key}-{self._next_number}",
                summary=values["summary"],
                created=now,
                updated=now,
                status_changed=now,
                reporter=values.get("reporter", actor.account_id),
                creator=actor.account_id,
                request_type_id=request_type_id,
            )
            self._next_issue_id += 1
            self._next_number += 1
            for name, value in values.items():
                if name not in ("summary", "reporter"):
                    setattr(issue, _ATTRIBUTES.get(name, name), value)
            self.issues[issue.id] = issue
            self._publish(Change("jira:issue_created", "issue_created", issue, actor, now))
            return issue

    def edit_issue(self, actor: UserProfile, issue: StoredIssue, values: Mapping[str, Any]) -> int:
        """Apply validated field values; return how many changed. No change, no event.

        A changed resolution moves the resolution date, as a transition's does.
        """
        with self.lock:
            items = []
            for name, value in values.items():
                attribute = _ATTRIBUTES.get(name, name)
                old = getattr(issue, attribute)
                if old == value:
                    continue
                items.append(self._item(name, old, value))
                setattr(issue, attribute, value)
                if name == "resolution":
                    issue.resolution_date = self.now() if value else None
            if not items:
                return 0
            only_assignee = all(item.field_id == "assignee" for item in items)
            event_type = "issue_assigned" if only_assignee else "issue_updated"
            self._record(actor, issue, items, event_type)
            return len(items)

    def transition(
        self,
        actor: UserProfile,
        issue: StoredIssue,
        transition: Transition,
        resolution_id: str | None,
    ) -> None:
        """Move the issue along `transition`; the caller has checked required fields."""
        with self.lock:
            now = self.now()
            old_status = catalog.STATUSES[issue.status_id]
            items = [_status_item(old_status, transition.target)]
            new_resolution = issue.resolution_id
            if transition.resolution == "clear":
                new_resolution = None
            elif transition.resolution in ("required", "optional") and resolution_id is not None:
                new_resolution = resolution_id
            if new_resolution != issue.resolution_id:
                items.append(_resolution_item(issue.resolution_id, new_resolution))
                issue.resolution_id = new_resolution
                issue.resolution_date = now if new_resolution else None
            issue.status_id = transition.target.id
            if old_status.category != transition.target.category:
                issue.status_changed = now
            self._record(actor, issue, items, transition.event)

    def add_comment(
        self, actor: UserProfile, issue: StoredIssue, body: dict[str, Any], *, public: bool
    ) -> StoredComment:
        """Add a comment; announce it twice, as Jira does (comment and issue events)."""
        with self.lock:
            now = self.now()
            comment = StoredComment(self._next_comment_id, actor.account_id, body, public, now, now)
            self._next_comment_id += 1
            issue.comments.append(comment)
            issue.updated = now
            self._publish(Change("comment_created", "", issue, actor, now, comment=comment))
            self._publish(
                Change("jira:issue_updated", "issue_commented", issue, actor, now, comment=comment)
            )
            return comment

    def add_attachment(
        self,
        actor: UserProfile,
        issue: StoredIssue,
        filename: str,
        content: bytes,
        mime_type: str,
    ) -> StoredAttachment:
        """Attach a file; announce it as `attachment_created`, then as an issue update.

        The update carries a changelog item for the `Attachment` field and moves `updated`,
        as on a Jira Cloud site.
        """
        with self.lock:
            now = self.now()
            attachment = StoredAttachment(
                self._next_attachment_id,
                issue.id,
                filename,
                mime_type,
                content,
                actor.account_id,
                now,
            )
            self._next_attachment_id += 1
            issue.attachments.append(attachment)
            self.attachments[attachment.id] = attachment
            self._publish(
                Change("attachment_created", "", issue, actor, now, attachment=attachment)
            )
            item = ChangeItem("Attachment", "attachment", None, None, str(attachment.id), filename)
            self._record(actor, issue, [item], "issue_updated")
            return attachment

    def _record(
        self, actor: UserProfile, issue: StoredIssue, items: list[ChangeItem], event_type: str
    ) -> None:
        issue.updated = self.now()
        changelog_id = self._next_changelog_id
        self._next_changelog_id += 1
        change = Change(
            "jira:issue_updated",
            event_type,
            issue,
            actor,
            issue.updated,
            tuple(items),
            changelog_id,
        )
        self._publish(change)

    def _item(self, name: str, old: Any, new: Any) -> ChangeItem:
        label, custom = _EDITABLE[name]
        if name in ("assignee", "reporter"):
            return ChangeItem(label, name, old, self._display(old), new, self._display(new))
        if name == "resolution":
            return _resolution_item(old, new)
        if name == "priority":
            names = dict(catalog.PRIORITIES)
            return ChangeItem(label, name, old, names.get(old), new, names.get(new))
        if name == catalog.CATEGORY_FIELD:
            options = catalog.CATEGORY_OPTIONS
            return ChangeItem(
                label, name, old, options.get(old or ""), new, options.get(new or ""), custom
            )
        if name == "labels":
            return ChangeItem(label, name, None, " ".join(old), None, " ".join(new))
        if name == "description":
            return ChangeItem(label, name, None, adf_to_wiki(old), None, adf_to_wiki(new))
        return ChangeItem(label, name, None, old, None, new, custom)

    def _display(self, account_id: str | None) -> str | None:
        if account_id is None:
            return None
        profile = self.by_account.get(account_id)
        return profile.display_name if profile else account_id


def _status_item(old: catalog.Status, new: catalog.Status) -> ChangeItem:
    return ChangeItem("status", "status", old.id, old.name, new.id, new.name)


def _resolution_item(old: str | None, new: str | None) -> ChangeItem:
    names = {rid: name for rid, name, _ in catalog.RESOLUTIONS}
    return ChangeItem(
        "resolution", "resolution", old, names.get(old or ""), new, names.get(new or "")
    )
