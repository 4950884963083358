"""The emulator's in-memory organisation: rows per table, the row version counter and listeners.

Tests may read and change it directly. Every write, through the Web API or these methods,
runs the same rules (`rules.py`) and notifies the same listeners, the webhook steps among them.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tierbridge.emulators.dynamics import rules
from tierbridge.emulators.dynamics.documents import DEFAULT_MAX_UPLOAD_FILE_SIZE, StoredFile
from tierbridge.emulators.dynamics.envelope import DOES_NOT_EXIST, odata_error
from tierbridge.emulators.dynamics.odata import Expression, matches
from tierbridge.emulators.dynamics.ordering import Order, sort_rows
from tierbridge.emulators.dynamics.schema import TABLES, Table
from tierbridge.emulators.dynamics.values import Ref

__all__ = ["ChangeEvent", "Clock", "DynamicsState", "Row", "Seed"]

Clock = Callable[[], datetime]
Row = dict[str, Any]
#: First row version handed out; real organisations are far into the millions.
_FIRST_VERSION = 4471200


@dataclass(frozen=True)
class ChangeEvent:
    """One saved Create or Update: the row as stored afterwards and the columns written."""

    table: str
    message: Literal["Create", "Update"]
    row: Mapping[str, Any]
    changed: tuple[str, ...]
    user_id: str
    correlation_id: str


@dataclass(frozen=True)
class Seed:
    """Ids of the rows every emulator starts with."""

    integration_user: str
    agent_user: str
    team: str
    account: str
    contact: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DynamicsState:
    """Tables, row versions, the clock and change listeners; all methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        max_upload_file_size: int = DEFAULT_MAX_UPLOAD_FILE_SIZE,
    ) -> None:
        #: The organisation's time; tests may replace it at any moment.
        self.clock: Clock = clock or _utc_now
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        self._seed_value = seed
        self._initial_max_upload = max_upload_file_size
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Drop every row and start again from the seed data; listeners and clock stay."""
        with self._lock:
            # `organization.maxuploadfilesize`: the longest Base64 `documentbody` a note takes.
            self.max_upload_file_size = self._initial_max_upload
            self._random = random.Random(self._seed_value)
            self._rows: dict[str, dict[str, Row]] = {name: {} for name in TABLES}
            self._version = _FIRST_VERSION
            self._case_number = 1000
            self.seed = self._add_seed_rows()

    def _add_seed_rows(self) -> Seed:
        def add(table: str, **values: Any) -> str:
            row_id = self.new_guid()
            self._rows[table][row_id] = {TABLES[table].primary_id: row_id, **values}
            return row_id

        account = add("account", name="Example Corp", emailaddress1="support@example.com")
        return Seed(
            integration_user=add(
                "systemuser",
                fullname="# tierbridge",
                internalemailaddress="svc.tierbridge@example.com",
                applicationid=self.new_guid(),
            ),
            agent_user=add(
                "systemuser", fullname="Alex Doe", internalemailaddress="agent.l2@example.com"
            ),
            team=add("team", name="Outsourced L2"),
            account=account,
            contact=add(
                "contact", fullname="Casey Customer", emailaddress1="casey.customer@example.com"
            ),
        )

    # -- basics ---------------------------------------------------------------------------

    def new_guid(self) -> str:
        """Return a random (seeded) version-4 GUID in lower case."""
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def now(self) -> datetime:
        """Return the clock's time in UTC, cut to whole seconds as Dataverse stores it."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def next_case_number(self) -> str:
        """Return the next `ticketnumber`, in the default `CAS-01001-K7M2Q9` pattern."""
        with self._lock:
            self._case_number += 1
            letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
            suffix = "".join(self._random.choice(letters) for _ in range(6))
            return f"CAS-{self._case_number:05d}-{suffix}"

    def next_version(self) -> int:
        """Return the next row version; one counter serves every table, as rowversion does."""
        with self._lock:
            self._version += 1
            return self._version

    # -- reads ----------------------------------------------------------------------------

    def get(self, table: str, row_id: str) -> Row | None:
        """Return a copy of one row, or None."""
        with self._lock:
            found = self._rows[table].get(row_id.lower())
            return dict(found) if found is not None else None

    def require(self, table: str, row_id: str) -> Row:
        """Return a copy of one row; raise the 404 "Does Not Exist" error if there is none."""
        found = self.get(table, row_id)
        if found is None:
            raise odata_error(404, DOES_NOT_EXIST, f"{table} With Id = {row_id} Does Not Exist")
        return found

    def rows(self, table: str) -> list[Row]:
        """Return copies of every row of a table, in insertion order."""
        with self._lock:
            return [dict(row) for row in self._rows[table].values()]

    def select(
        self, table: str, where: Expression | None, orders: list[Order]
    ) -> list[tuple[list[Any], Row]]:
        """Return (sort key, row copy) pairs of the matching rows, in `orders`."""
        with self._lock:
            found = [dict(row) for row in self._rows[table].values() if matches(where, row)]
        return sort_rows(found, orders)

    def primary_name(self, ref: Ref) -> str | None:
        """Return the display name of a looked-up row (its primary name column), or None."""
        row = self.get(ref.table, ref.id)
        return row.get(TABLES[ref.table].primary_name) if row is not None else None

    def notes(self, incident_id: str) -> list[Row]:
        """Return the notes attached to a case, oldest first."""
        target = Ref("incident", incident_id.lower())
        found = [row for row in self.rows("annotation") if row.get("objectid") == target]
        return sorted(found, key=lambda row: (row["createdon"], row["annotationid"]))

    def attachments(self, incident_id: str) -> list[StoredFile]:
        """Return the files attached to a case (notes with `isdocument`), oldest first."""
        return [StoredFile.from_row(row) for row in self.notes(incident_id) if row["isdocument"]]

    # -- writes ---------------------------------------------------------------------------

    def create(
        self,
        table: str,
        values: Mapping[str, Any],
        *,
        user_id: str,
        correlation_id: str | None = None,
        row_id: str | None = None,
    ) -> Row:
        """Insert a row from stored-form values as `user_id` and return a copy of it."""
        definition = TABLES[table]
        with self._lock:
            row_id = (row_id or self.new_guid()).lower()
            user = Ref("systemuser", user_id)
            now = self.now()
            row: Row = {name: None for name in definition.columns}
            row.update(values)
            row.update(
                {
                    definition.primary_id: row_id,
                    "createdon": now,
                    "modifiedon": now,
                    "createdby": user,
                    "modifiedby": user,
                }
            )
            rules.on_create(self, definition, row, user)
            row["versionnumber"] = self.next_version()
            self._rows[table][row_id] = row
            changed = tuple(name for name in definition.columns if row.get(name) is not None)
            return self._publish(table, "Create", row, changed, user_id, correlation_id)

    def update(
        self,
        table: str,
        row_id: str,
        values: Mapping[str, Any],
        *,
        user_id: str,
        correlation_id: str | None = None,
    ) -> Row:
        """Write stored-form values to an existing row and return a copy of it as stored."""
        definition = TABLES[table]
        with self._lock:
            current = self._rows[table].get(row_id.lower())
            if current is None:
                self.require(table, row_id)
            assert current is not None
            changes = dict(values)
            rules.on_update(self, definition, current, changes)
            changes.update(modifiedon=self.now(), modifiedby=Ref("systemuser", user_id))
            current.update(changes)
            current["versionnumber"] = self.next_version()
            return self._publish(table, "Update", current, tuple(changes), user_id, correlation_id)

    def close_incident(
        self,
        resolution: Mapping[str, Any],
        status: int,
        *,
        user_id: str,
        correlation_id: str | None = None,
    ) -> Row:
        """Resolve a case as the CloseIncident action does; return the case as stored."""
        with self._lock:
            incident_id, statuscode = rules.check_close(self, resolution, status)
            self.create(
                "incidentresolution", resolution, user_id=user_id, correlation_id=correlation_id
            )
            row = self._rows["incident"][incident_id]
            row.update(
                statecode=1,
                statuscode=statuscode,
                modifiedon=self.now(),
                modifiedby=Ref("systemuser", user_id),
                versionnumber=self.next_version(),
            )
            changed = ("statecode", "statuscode", "modifiedon", "modifiedby")
            return self._publish("incident", "Update", row, changed, user_id, correlation_id)

    def _publish(
        self,
        table: str,
        message: Literal["Create", "Update"],
        row: Row,
        changed: tuple[str, ...],
        user_id: str,
        correlation_id: str | None,
    ) -> Row:
        event = ChangeEvent(
            table, message, dict(row), changed, user_id, correlation_id or self.new_guid()
        )
        for listener in self.listeners:
            listener(event)
        return dict(row)

    def table_of(self, logical_name: str) -> Table:
        """Return the definition of a served table."""
        return TABLES[logical_name]
