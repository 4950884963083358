"""The emulator's in-memory instance: tables of string-valued records and the write pipeline.

Tests may read and change it directly. Every write, through the API or these methods, runs
the same rules and notifies the same listeners, the emulated business rule among them.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tierbridge.emulators.servicenow import writes
from tierbridge.emulators.servicenow.envelope import NOT_FOUND_DETAIL, api_error
from tierbridge.emulators.servicenow.query import matches, parse_query, sort_records
from tierbridge.emulators.servicenow.schema import CHOICES, TABLES, FieldType, TableDef

__all__ = ["ChangeEvent", "Clock", "ServiceNowState"]

Clock = Callable[[], datetime]
Record = dict[str, str]
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: Users and groups every emulator starts with: (user_name, name, e-mail, time zone).
_SEED_USERS = (
    ("svc.tierbridge", "Tierbridge Integration", "svc.tierbridge@example.com", "GMT"),
    ("agent.l1", "Alex Doe", "agent.l1@example.com", "Europe/Berlin"),
)
_SEED_GROUPS = ("Service Desk", "Outsourced L2")
#: `com.glide.attachment.max_size` of a base instance: 1024 MB.
DEFAULT_MAX_ATTACHMENT_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class ChangeEvent:
    """One saved insert or update; `changed` lists written fields, journal inputs included.

    An attached file is an insert into `sys_attachment`, and `parent` is then the record it
    was attached to, as stored (attaching changes none of its fields).
    """

    table: str
    operation: Literal["insert", "update"]
    record: Mapping[str, str]
    changed: tuple[str, ...]
    parent: Mapping[str, str] | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ServiceNowState:
    """Tables, numbering, the clock and change listeners; all methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    ) -> None:
        #: The instance time; tests may replace it at any moment.
        self.clock: Clock = clock or _utc_now
        #: Largest file an upload may carry (`com.glide.attachment.max_size`), in bytes. Tests
        #: may change it.
        self.max_attachment_bytes = max_attachment_bytes
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        self._seed_value = seed
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Drop every record and start again from the seed data; listeners and clock stay."""
        with self._lock:
            self._random = random.Random(self._seed_value)
            self._tables: dict[str, dict[str, Record]] = {name: {} for name in TABLES}
            #: File contents by sys_attachment sys_id.
            self._files: dict[str, bytes] = {}
            self._numbers: dict[str, int] = {}
            self._seed()

    # -- basics ----------------------------------------------------------------------------

    def now_text(self) -> str:
        """Return the clock's time as a Table API date-time literal (UTC, whole seconds)."""
        return self.clock().astimezone(UTC).strftime(DATETIME_FORMAT)

    def new_guid(self) -> str:
        """Return 32 lower-case hex characters, the shape of sys_ids and gs.generateGUID()."""
        with self._lock:
            return f"{self._random.getrandbits(128):032x}"

    def table(self, name: str) -> TableDef:
        """Return the dictionary of a served table; raise the 400 "Invalid table" error if none."""
        definition = TABLES.get(name)
        if definition is None:
            raise api_error(400, f"Invalid table {name}", None)
        return definition

    # -- reads -----------------------------------------------------------------------------

    def get(self, table: str, sys_id: str) -> Record | None:
        """Return a copy of one record, or None."""
        with self._lock:
            found = self._tables.get(table, {}).get(sys_id)
            return dict(found) if found is not None else None

    def rows(self, table: str) -> list[Record]:
        """Return copies of every record of a table, in insertion order."""
        with self._lock:
            return [dict(row) for row in self._tables[table].values()]

    def select(self, table: str, encoded_query: str) -> list[Record]:
        """Return copies of the records matching an encoded query, in its ORDERBY order."""
        definition = self.table(table)
        resolve = self.resolver(table)
        query = parse_query(encoded_query, lambda path: self._is_known(definition, path))
        with self._lock:
            found = [dict(r) for r in self._tables[table].values() if matches(query, r, resolve)]
        return [dict(row) for row in sort_records(found, query.order, resolve)]

    def _is_known(self, definition: TableDef, path: str) -> bool:
        head, _, rest = path.partition(".")
        field = definition.fields.get(head)
        if field is None:
            return False
        if not rest:
            return True
        target = TABLES.get(field.reference or "")
        return target is not None and self._is_known(target, rest)

    def walk(
        self, table: str, record: Mapping[str, str], path: str
    ) -> tuple[TableDef, str, str] | None:
        """Follow a dot-walked path (`assignment_group.name`) to (table, field, value).

        Returns None if a field on the path does not exist; a broken reference gives "".
        """
        definition = TABLES[table]
        current: Mapping[str, str] = record
        *hops, last = path.split(".")
        for hop in hops:
            field = definition.fields.get(hop)
            target = TABLES.get(field.reference or "") if field is not None else None
            if target is None:
                return None
            definition = target
            current = self.get(target.name, current.get(hop, "")) or {}
        if last not in definition.fields:
            return None
        return definition, last, current.get(last, "")

    def resolver(
        self, table: str
    ) -> Callable[[Mapping[str, str], str], tuple[str, FieldType] | None]:
        """Return a function reading a dot-walked field's value and type, for queries."""

        def resolve(record: Mapping[str, str], path: str) -> tuple[str, FieldType] | None:
            found = self.walk(table, record, path)
            if found is None:
                return None
            definition, name, value = found
            return value, definition.fields[name].type

        return resolve

    def display_value(self, table: str, name: str, value: str) -> str:
        """Return the label of a choice value, or the display field of a referenced record."""
        field = TABLES[table].fields.get(name)
        if field is None or value == "":
            return value
        if field.type is FieldType.CHOICE:
            return dict(CHOICES.get((table, name), ())).get(value, value)
        if field.type is FieldType.REFERENCE:
            target = TABLES.get(field.reference or "")
            found = self.get(field.reference or "", value) if target else None
            return found.get(target.display_field, "") if found and target else ""
        return value

    def journal(self, sys_id: str) -> list[Record]:
        """Return the journal entries of a record, oldest first."""
        return [row for row in self.rows("sys_journal_field") if row["element_id"] == sys_id]

    def attachments(self, sys_id: str) -> list[Record]:
        """Return the sys_attachment rows of a record, in the order they were added."""
        return [row for row in self.rows("sys_attachment") if row["table_sys_id"] == sys_id]

    def attachment_content(self, sys_id: str) -> bytes | None:
        """Return the bytes of an attached file, or None if there is no such attachment."""
        with self._lock:
            return self._files.get(sys_id)

    def user_by_name(self, user_name: str) -> Record | None:
        """Return the sys_user record with this user_name, or None."""
        return next((u for u in self.rows("sys_user") if u["user_name"] == user_name), None)

    # -- writes ----------------------------------------------------------------------------

    def insert(
        self, table: str, values: Mapping[str, Any], *, user: str, display_input: bool = False
    ) -> Record:
        """Insert a record as `user` (a user_name) and return a copy of it as stored."""
        definition = self.table(table)
        with self._lock:
            record = writes.new_record(self, definition, user)
            return self._save(definition, record, values, user, display_input, None)

    def update(
        self,
        table: str,
        sys_id: str,
        values: Mapping[str, Any],
        *,
        user: str,
        display_input: bool = False,
    ) -> Record:
        """Update a record as `user`; raise the 404 error if it does not exist."""
        definition = self.table(table)
        with self._lock:
            stored = self._tables[table].get(sys_id)
            if stored is None:
                raise api_error(404, "No Record found", NOT_FOUND_DETAIL)
            return self._save(definition, dict(stored), values, user, display_input, stored)

    def delete(self, table: str, sys_id: str) -> None:
        """Delete a record; raise the 404 error if it does not exist."""
        self.table(table)
        with self._lock:
            if self._tables[table].pop(sys_id, None) is None:
                raise api_error(404, "No Record found", NOT_FOUND_DETAIL)

    def add_attachment(
        self,
        table: str,
        sys_id: str,
        file_name: str,
        content: bytes,
        content_type: str,
        *,
        user: str,
    ) -> Record:
        """Attach a file to a record as `user` and return its sys_attachment row.

        As on instances, the record's sys_updated_on and sys_mod_count stay as they are.
        Raises the 404 error for an unknown record and the 400 error for a file larger than
        `max_attachment_bytes`.
        """
        with self._lock:
            parent = self._tables.get(table, {}).get(sys_id)
            if parent is None:
                raise api_error(404, "No Record found", NOT_FOUND_DETAIL)
            writes.check_attachment_size(len(content), self.max_attachment_bytes)

            row = writes.attachment_row(table, sys_id, file_name, content, content_type)
            record = self._insert_raw("sys_attachment", row, user)
            self._files[record["sys_id"]] = bytes(content)
            event = ChangeEvent("sys_attachment", "insert", dict(record), (), parent=dict(parent))
            for listener in list(self.listeners):
                listener(event)
            return record

    def _save(
        self,
        definition: TableDef,
        record: Record,
        values: Mapping[str, Any],
        user: str,
        display_input: bool,
        previous: Record | None,
    ) -> Record:
        inputs, journal = writes.split_input(self, definition, values, user, display_input)
        record.update(inputs)
        writes.apply_rules(self, definition, record, previous, user)

        changed = writes.changed_fields(definition, record, previous, journal)
        if previous is not None and not changed:
            return dict(previous)

        writes.stamp(self, record, previous, user)
        self._tables[definition.name][record["sys_id"]] = record
        for element, text in journal.items():
            row = writes.journal_row(definition, record, element, text)
            self._insert_raw("sys_journal_field", row, user)

        event = ChangeEvent(
            definition.name, "update" if previous else "insert", dict(record), changed
        )
        for listener in list(self.listeners):
            listener(event)
        return dict(record)

    def next_number(self, definition: TableDef) -> str:
        """Return the next record number of a table, INC0010001 onwards."""
        with self._lock:
            count = self._numbers.get(definition.name, 10000) + 1
            self._numbers[definition.name] = count
        return f"{definition.number_prefix}{count:07d}"

    def _insert_raw(self, table: str, values: Mapping[str, str], user: str = "system") -> Record:
        """Store a record without rules or listeners (seed data, journal rows, helpers)."""
        now = self.now_text()
        record = {name: "" for name in TABLES[table].fields}
        record.update(TABLES[table].defaults)
        record.update(sys_id=self.new_guid(), sys_created_on=now, sys_created_by=user)
        record.update(sys_updated_on=now, sys_updated_by=user, sys_mod_count="0")
        record.update(values)
        with self._lock:
            self._tables[table][record["sys_id"]] = record
        return dict(record)

    # -- users and groups ------------------------------------------------------------------

    def ensure_user(self, label: str) -> Record:
        """Find or create a user from an e-mail or a name such as "Resolver 149".

        A name becomes user_name `resolver.149` and e-mail `resolver.149@example.com`; an
        e-mail's local part becomes the user_name and, split on dots, the name.
        """
        with self._lock:
            for user in self.rows("sys_user"):
                if label in (user["email"], user["name"], user["user_name"]):
                    return user
            if "@" in label:
                user_name = label.split("@", 1)[0]
                name = " ".join(part.capitalize() for part in user_name.split("."))
                email = label
            else:
                user_name = ".".join(label.lower().split())
                name = label
                email = f"{user_name}@example.com"
            values = {"user_name": user_name, "name": name, "email": email}
            return self._insert_raw("sys_user", values)

    def ensure_group(self, name: str) -> Record:
        """Find or create the group with this name."""
        with self._lock:
            for group in self.rows("sys_user_group"):
                if group["name"] == name:
                    return group
            return self._insert_raw("sys_user_group", {"name": name})

    def _seed(self) -> None:
        for user_name, name, email, zone in _SEED_USERS:
            values = {"user_name": user_name, "name": name, "email": email, "time_zone": zone}
            self._insert_raw("sys_user", values)
        for group in _SEED_GROUPS:
            self.ensure_group(group)
        for (table, element), choices in CHOICES.items():
            for sequence, (value, label) in enumerate(choices, start=1):
                row = {"name": table, "element": element, "value": value, "label": label}
                row.update(sequence=str(sequence), inactive="false", language="en")
                self._insert_raw("sys_choice", row)
