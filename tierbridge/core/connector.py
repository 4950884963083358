"""The connector interface: what the engine asks of every ticketing system.

A connector speaks its vendor's wire format and nothing else. It reads records as
`NativeRecord` (a flat dict of the system's own field names and plain values) and writes
them from the same flat shape. The mapping engine (`core.mapping`) turns those dicts into
canonical `Ticket` objects and back, driven by `mappings/<system>.yaml`, so a connector never
decides what a value means.

Rules every connector keeps:
* Library retries are off and every call has a timeout; `core.retry` owns retries.
* Client library exceptions are translated into `core.errors` classes at this boundary.
* One structured log line per outbound call: connector, method, path template, status, duration.
* Reads that cannot finish raise; they never return a partial list as if it were complete.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from tierbridge.core.errors import RejectedError
from tierbridge.core.model import AttachmentMeta, Comment

__all__ = ["Connector", "IntakeEvent", "NativeRecord"]


@dataclass(frozen=True)
class NativeRecord:
    """One ticket as its system stores it, flattened to plain values.

    `fields` uses the system's own field names (`short_description`, `summary`). A key that is
    missing was not read; a key whose value is None is empty in the system. Reference fields
    carry the readable value the mapping expects: a group name, a user's e-mail address.

    `version` sorts lexicographically in change order: connectors zero-pad counters such as
    ServiceNow `sys_mod_count` and write timestamps as UTC ISO 8601 with milliseconds.
    """

    id: str
    key: str | None
    version: str
    updated: datetime
    fields: Mapping[str, Any]
    created: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class IntakeEvent:
    """A change notice received by webhook or found by a poll, before any processing.

    `delivery_id` is the deduplication key: the vendor's delivery id for webhooks, or
    `poll:<ticket id>:<version>` for polls. `record` is set when the notice already carries
    the whole record, so the engine can skip a read.
    """

    connector: str
    delivery_id: str
    ticket_id: str
    kind: str
    version: str | None = None
    record: NativeRecord | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


class Connector(ABC):
    """Base class of the per-system connectors.

    Subclasses set `system` and implement the abstract methods. `name` is the connector's key
    in the config (one system may be connected twice, for two clients).
    """

    system: ClassVar[str]
    #: Whether the connector implements the three attachment methods below.
    supports_attachments: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name

    # -- intake ---------------------------------------------------------------------------

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Check a webhook's signature over the raw body; raise WebhookAuthError if wrong."""

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        """Turn a verified webhook body into events; raise WebhookPayloadError if malformed.

        Returns an empty list for events tierbridge does not act on (a deleted worklog, say).
        """

    def lists_touched(self, kind: str, payload: Mapping[str, Any]) -> frozenset[str] | None:
        """Say which of a ticket's lists a stored webhook shows changed: "comments" and
        "attachments", or None when the payload cannot tell (the default).

        The engine reads a list only when it may have changed, so a connector must never
        leave out a list the change could have touched. Polled events have no payload and
        always read both.
        """
        return None

    # -- reads ----------------------------------------------------------------------------

    @abstractmethod
    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        """Yield every record changed at or after `since` (UTC), oldest first, to the last page.

        `since=None` reads everything in scope. Raise on any failure, including a page token
        seen twice, so that the caller never moves its watermark past an incomplete read.
        """

    @abstractmethod
    def get_record(self, ticket_id: str) -> NativeRecord:
        """Read one record by its immutable id; raise NotFoundError if it is gone."""

    @abstractmethod
    def list_comments(self, ticket_id: str) -> list[Comment]:
        """Read every journal entry of a record, oldest first, with its visibility."""

    @abstractmethod
    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        """Find the record this daemon created for `correlation_id`, or None.

        Called before a create is retried, so that a retry after a timeout or crash never
        makes a second ticket.
        """

    # -- writes ---------------------------------------------------------------------------

    @abstractmethod
    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        """Create a record from native field values, tagged with `correlation_id`; return it."""

    @abstractmethod
    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        """Write native field values (status included) and return the record as read back."""

    @abstractmethod
    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        """Post a journal entry with the given visibility and return it with its source id.

        Raise RejectedError rather than post an internal note as a public one.
        """

    def webhook_response(self, events: Sequence[IntakeEvent]) -> tuple[bytes, str] | None:
        """Return the body and media type the vendor expects once its webhook is stored.

        The default None answers with tierbridge's JSON summary. Salesforce, for one, resends
        an Outbound Message until it reads a SOAP acknowledgement.
        """
        return None

    def update_comment(self, ticket_id: str, comment_id: str, body: str) -> Comment:
        """Replace the body of a comment this daemon posted, keeping its visibility.

        Optional: the default raises RejectedError, and the engine then posts the new text
        as a new entry. Override it where the system lets its API edit journal entries.
        """
        msg = f"{self.system} comments cannot be edited through this connector"
        raise RejectedError(msg, connector=self.name, operation="update comment", record=ticket_id)

    # -- attachments (optional) -----------------------------------------------------------

    def list_attachments(self, ticket_id: str) -> list[AttachmentMeta]:
        """Read the metadata of every file attached to a record, oldest first.

        `size` is in bytes where the system reports it; `sha256` stays None unless the system
        gives it. Raise on any failure: a partial list would make files look deleted.
        """
        raise self._no_attachments(ticket_id, "list attachments")

    def download_attachment(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        """Read the bytes of one file listed by `list_attachments`."""
        raise self._no_attachments(ticket_id, "download attachment")

    def upload_attachment(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        """Attach a file to a record and return its metadata as the system recorded it.

        Raise RejectedError when the response does not confirm the file: no id, or a size that
        differs from `len(content)`.
        """
        raise self._no_attachments(ticket_id, "upload attachment")

    def _no_attachments(self, ticket_id: str, operation: str) -> RejectedError:
        msg = f"{self.system} attachments are not supported by this connector"
        return RejectedError(msg, connector=self.name, operation=operation, record=ticket_id)

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release network sessions; the default has nothing to release."""
