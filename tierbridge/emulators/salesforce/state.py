"""The emulator's in-memory org: records of every served object and the write pipeline.

Tests may read and change it directly. Every write, through the API or these methods, runs
the same checks and rules and notifies the same listeners, the outbound messages among them.
Deletes are soft: a deleted record keeps `IsDeleted = true`, leaves `query` results and
stays visible to `queryAll`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tierbridge.emulators.salesforce import files, writes
from tierbridge.emulators.salesforce.errors import NOT_FOUND_MESSAGE, api_error
from tierbridge.emulators.salesforce.fieldpaths import Record
from tierbridge.emulators.salesforce.files import StoredFile
from tierbridge.emulators.salesforce.ids import IdFactory, canonical_id
from tierbridge.emulators.salesforce.schema import CASE_STATUSES, OBJECTS, ObjectDef

__all__ = [
    "AGENT_USERNAME",
    "DEFAULT_ORG_ID",
    "INTEGRATION_USERNAME",
    "ChangeEvent",
    "Clock",
    "SalesforceState",
]

Clock = Callable[[], datetime]
DEFAULT_ORG_ID = "00DHs000000OrGaMAK"
INTEGRATION_USERNAME = "svc.tierbridge@example.com"
AGENT_USERNAME = "agent.sf@example.com"

#: Users every org starts with: (Username, Name).
_SEED_USERS = ((INTEGRATION_USERNAME, "Tierbridge Integration"), (AGENT_USERNAME, "Sam Roe"))
_SEED_QUEUES = ("Tier 2 Queue",)
_SEED_CONTACTS = (("Casey", "Customer", "casey.customer@example.com"),)
_FIRST_CASE_NUMBER = 1001


@dataclass(frozen=True)
class ChangeEvent:
    """One saved insert, update or delete; `client` is the caller's Sforce-Call-Options client."""

    object_name: str
    operation: Literal["insert", "update", "delete"]
    record_id: str
    changed: tuple[str, ...]
    client: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SalesforceState:
    """Records, numbering, the clock and change listeners; all methods are thread-safe."""

    def __init__(self, *, clock: Clock | None = None, org_id: str = DEFAULT_ORG_ID) -> None:
        #: The org time; tests may replace it at any moment.
        self.clock: Clock = clock or _utc_now
        self.org_id = org_id
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Drop every record and start again from the seed data; listeners and clock stay."""
        with self._lock:
            self._ids = IdFactory()
            self._records: dict[str, Record] = {}
            self._types: dict[str, str] = {}
            self._clients: dict[str, str | None] = {}
            self._case_number = _FIRST_CASE_NUMBER
            self._seed()

    def new_id(self, prefix: str) -> str:
        """Return a fresh 18-character id with this key prefix, for objects kept elsewhere."""
        return self._ids.new(prefix)

    def now(self) -> datetime:
        """Return the clock's time in UTC, cut to whole seconds as the org stores it."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    # -- reads -----------------------------------------------------------------------------

    def find(self, record_id: str) -> tuple[ObjectDef, Record] | None:
        """Return the type and a copy of any record by id (15 or 18 characters), or None."""
        canonical = canonical_id(record_id)
        with self._lock:
            record = self._records.get(canonical or "")
            if record is None:
                return None
            return OBJECTS[self._types[record["Id"]]], dict(record)

    def _find_named(self, record_id: str) -> tuple[str, Record] | None:
        found = self.find(record_id)
        return (found[0].name, found[1]) if found is not None else None

    def rows(self, object_name: str, *, include_deleted: bool = False) -> list[Record]:
        """Return copies of the records of one type in creation order."""
        with self._lock:
            return [
                dict(record)
                for record_id, record in self._records.items()
                if self._types[record_id] == object_name
                and (include_deleted or not record.get("IsDeleted"))
            ]

    def get(self, object_name: str, record_id: str) -> Record:
        """Return a live record of one type; raise the 404 error if missing or deleted."""
        found = self.find(record_id)
        if found is None or found[0].name != object_name:
            raise api_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        if found[1].get("IsDeleted"):
            raise api_error(404, "ENTITY_IS_DELETED", "entity is deleted")
        return found[1]

    def user_by_username(self, username: str) -> Record | None:
        """Return the User with this Username, or None."""
        wanted = username.casefold()
        return next(
            (user for user in self.rows("User") if user["Username"].casefold() == wanted), None
        )

    def files(self, record_id: str) -> list[StoredFile]:
        """Return the files linked to a record, oldest first, with their bytes."""
        with self._lock:
            return files.stored_files(self, canonical_id(record_id) or "")

    def client_of(self, record_id: str) -> str | None:
        """Return the Sforce-Call-Options client of the last write to a record."""
        with self._lock:
            return self._clients.get(canonical_id(record_id) or "")

    # -- writes ----------------------------------------------------------------------------

    def insert(
        self,
        object_name: str,
        values: Mapping[str, Any],
        *,
        user_id: str,
        client: str | None = None,
    ) -> Record:
        """Create a record as `user_id` and return a copy as stored; raise 400 on bad values."""
        definition = OBJECTS[object_name]
        with self._lock:
            clean = writes.check_values(definition, values, creating=True, find=self._find_named)
            now = self.now()
            record: Record = {name: None for name in definition.fields}
            record.update(clean)
            record.update(Id=self._ids.new(definition.prefix), IsDeleted=False)
            record.update(CreatedDate=now, CreatedById=user_id)
            if "OwnerId" in definition.fields and not record.get("OwnerId"):
                record["OwnerId"] = user_id
            if object_name == "Case":
                record["CaseNumber"] = f"{self._case_number:08d}"
                self._case_number += 1
            if object_name == "ContentVersion":
                record["ContentDocumentId"] = self._ids.new(OBJECTS["ContentDocument"].prefix)
            writes.apply_rules(definition, record, None, now, self._find_named)
            saved = self._save(definition, record, "insert", tuple(clean), user_id, client)
            if object_name == "ContentVersion":
                self._publish(saved, user_id, client)
            return saved

    def _publish(self, version: Record, user_id: str, client: str | None) -> None:
        """Store the ContentDocument of a new version and the links that share it."""
        document = files.document_values(version, user_id)
        self._insert_derived(
            "ContentDocument", document, user_id, client, version["ContentDocumentId"]
        )
        for link in files.link_values(version, user_id):
            self._insert_derived("ContentDocumentLink", link, user_id, client)

    def _insert_derived(
        self,
        object_name: str,
        values: Mapping[str, Any],
        user_id: str,
        client: str | None,
        record_id: str | None = None,
    ) -> None:
        """Save a record that the org derives from another write; listeners get its change."""
        definition = OBJECTS[object_name]
        record: Record = {name: None for name in definition.fields}
        record.update(values)
        record.update(Id=record_id or self._ids.new(definition.prefix), IsDeleted=False)
        record.update(CreatedDate=self.now(), CreatedById=user_id)
        self._save(definition, record, "insert", tuple(values), user_id, client)

    def update(
        self,
        object_name: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        user_id: str,
        client: str | None = None,
        unmodified_since: datetime | None = None,
    ) -> Record:
        """Change a record as `user_id`; every update moves its timestamps, even a no-op one."""
        definition = OBJECTS[object_name]
        with self._lock:
            previous = self.get(object_name, record_id)
            if unmodified_since is not None and previous["LastModifiedDate"] > unmodified_since:
                message = f"The requested {object_name} has been modified since {unmodified_since}"
                raise api_error(412, "PRECONDITION_FAILED", message)
            clean = writes.check_values(definition, values, creating=False, find=self._find_named)
            record = {**previous, **clean}
            writes.apply_rules(definition, record, previous, self.now(), self._find_named)
            changed = tuple(name for name in record if record[name] != previous[name])
            return self._save(definition, record, "update", changed, user_id, client)

    def delete(self, object_name: str, record_id: str, *, user_id: str) -> None:
        """Move a record to the recycle bin: `IsDeleted` true, timestamps moved."""
        definition = OBJECTS[object_name]
        with self._lock:
            record = {**self.get(object_name, record_id), "IsDeleted": True}
            self._save(definition, record, "delete", ("IsDeleted",), user_id, None)

    def _save(
        self,
        definition: ObjectDef,
        record: Record,
        operation: Literal["insert", "update", "delete"],
        changed: tuple[str, ...],
        user_id: str,
        client: str | None,
    ) -> Record:
        now = self.now()
        record.update(LastModifiedDate=now, LastModifiedById=user_id, SystemModstamp=now)
        self._records[record["Id"]] = record
        self._types[record["Id"]] = definition.name
        self._clients[record["Id"]] = client
        event = ChangeEvent(definition.name, operation, record["Id"], changed, client)
        for listener in list(self.listeners):
            listener(event)
        return dict(record)

    def insert_raw(self, object_name: str, values: Mapping[str, Any]) -> Record:
        """Store a record with no checks, rules or listeners (seed data and test helpers)."""
        definition = OBJECTS[object_name]
        with self._lock:
            now = self.now()
            record: Record = {name: None for name in definition.fields}
            record.update(Id=self._ids.new(definition.prefix), IsDeleted=False)
            record.update(CreatedDate=now, LastModifiedDate=now, SystemModstamp=now)
            record.update(values)
            creator = record.get("CreatedById") or record["Id"]
            record.update(CreatedById=creator, LastModifiedById=creator)
            self._records[record["Id"]] = record
            self._types[record["Id"]] = object_name
            return dict(record)

    def add_user(self, username: str, name: str) -> Record:
        """Create an active User whose e-mail address is its Username."""
        return self.insert_raw(
            "User", {"Username": username, "Name": name, "Email": username, "IsActive": True}
        )

    def _seed(self) -> None:
        for username, name in _SEED_USERS:
            self.add_user(username, name)
        for queue in _SEED_QUEUES:
            self.insert_raw("Group", {"Name": queue, "Type": "Queue"})
        for first, last, email in _SEED_CONTACTS:
            values = {"FirstName": first, "LastName": last, "Email": email}
            self.insert_raw("Contact", {**values, "Name": f"{first} {last}"})
        for status in CASE_STATUSES:
            values = {"ApiName": status.value, "MasterLabel": status.value}
            self.insert_raw(
                "CaseStatus", {**values, "IsClosed": status.closed, "IsDefault": status.default}
            )
