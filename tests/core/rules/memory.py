"""An in-process ticketing system, and a harness that runs the engine over three of them.

`MemoryConnector` keeps records as plain dicts of canonical-looking fields, so its mapping
(`memory-mapping.yaml`) translates nothing. Every change, by a person or by the engine,
is kept as a pending notice, which `Harness.deliver` stores in the inbox as a webhook
would. The engine's own writes thus come back as echoes, as in a real system.
The harness runs on a simulated clock, so SLA tests never sleep.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.engine import handle_event
from tierbridge.core.errors import NotFoundError
from tierbridge.core.mapping import Mapper
from tierbridge.core.model import Comment
from tierbridge.core.retry import CallPolicy
from tierbridge.core.runtime import Runtime
from tierbridge.core.store import InboxRow, Store

MAPPING = Path(__file__).with_name("memory-mapping.yaml")
INTEGRATION_USER = "svc.tierbridge"
_LEASE_SECONDS = 60.0


class SimClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment.astimezone(UTC)
        return self.now


@dataclass
class _Record:
    fields: dict[str, Any]
    created: datetime
    updated: datetime
    updated_by: str
    version: int = 1
    comments: list[Comment] = field(default_factory=list)


class MemoryConnector(Connector):
    """A ticketing system in a dict; `open`, `edit` and `comment` act as a person would."""

    system = "servicenow"

    def __init__(self, name: str, clock: SimClock, *, echo_own_writes: bool = True) -> None:
        super().__init__(name)
        self.clock = clock
        #: Whether the engine's own writes come back as notices, as a vendor's webhooks do.
        self.echo_own_writes = echo_own_writes
        self.records: dict[str, _Record] = {}
        self.notices: list[tuple[str, int]] = []
        self._ids = itertools.count(1)
        self._comment_ids = itertools.count(1)

    # -- a person's actions -------------------------------------------------------------

    def open(self, by: str = "agent", **fields: Any) -> str:
        """Create a record as a person; return its id."""
        return self._create(fields, by)

    def edit(self, ticket_id: str, by: str = "agent", **fields: Any) -> None:
        self._update(ticket_id, fields, by)

    def comment(self, ticket_id: str, body: str, *, public: bool, by: str = "agent") -> Comment:
        record = self._get(ticket_id)
        comment = Comment(
            source_id=f"{self.name}-c{next(self._comment_ids)}",
            body=body,
            public=public,
            author=by,
            created=self.clock(),
        )
        record.comments.append(comment)
        self._touch(ticket_id, record, by)
        return comment

    def field(self, ticket_id: str, name: str) -> Any:
        return self._get(ticket_id).fields.get(name)

    # -- the connector interface ----------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Accept everything: the harness stores events itself."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return []

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        for ticket_id in sorted(self.records, key=lambda key: self.records[key].updated):
            if since is None or self.records[ticket_id].updated >= since:
                yield self.get_record(ticket_id)

    def get_record(self, ticket_id: str) -> NativeRecord:
        record = self._get(ticket_id)
        return NativeRecord(
            id=ticket_id,
            key=ticket_id.upper(),
            version=f"{record.version:08d}",
            updated=record.updated,
            fields=dict(record.fields),
            created=record.created,
            updated_by=record.updated_by,
        )

    def list_comments(self, ticket_id: str) -> list[Comment]:
        return list(self._get(ticket_id).comments)

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        for ticket_id, record in self.records.items():
            if record.fields.get("correlation_id") == correlation_id:
                return self.get_record(ticket_id)
        return None

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        ticket_id = self._create({**fields, "correlation_id": correlation_id}, INTEGRATION_USER)
        return self.get_record(ticket_id)

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        self._update(ticket_id, dict(fields), INTEGRATION_USER)
        return self.get_record(ticket_id)

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        return self.comment(ticket_id, body, public=public, by=INTEGRATION_USER)

    # -- storage --------------------------------------------------------------------------

    def _create(self, fields: dict[str, Any], by: str) -> str:
        ticket_id = f"{self.name}-{next(self._ids)}"
        now = self.clock()
        values = {"status": "new", **fields}
        self.records[ticket_id] = _Record(values, created=now, updated=now, updated_by=by)
        self._notify(ticket_id, 1, by)
        return ticket_id

    def _update(self, ticket_id: str, fields: dict[str, Any], by: str) -> None:
        record = self._get(ticket_id)
        record.fields.update(fields)
        self._touch(ticket_id, record, by)

    def _touch(self, ticket_id: str, record: _Record, by: str) -> None:
        record.version += 1
        record.updated = self.clock()
        record.updated_by = by
        self._notify(ticket_id, record.version, by)

    def _notify(self, ticket_id: str, version: int, by: str) -> None:
        if self.echo_own_writes or by != INTEGRATION_USER:
            self.notices.append((ticket_id, version))

    def _get(self, ticket_id: str) -> _Record:
        record = self.records.get(ticket_id)
        if record is None:
            msg = f"record {ticket_id} not found"
            raise NotFoundError(msg, connector=self.name, operation="read", record=ticket_id)
        return record


def no_sleep(_seconds: float) -> None:
    """Stand in for time.sleep in retries."""


def write_config(folder: Path, body: str, tiers: int = 3) -> Path:
    """Write a config with memory connectors l1..l<tiers> serving L1..L<tiers>, plus `body`."""
    connectors = "\n".join(
        f"  l{n}:\n"
        f"    system: servicenow\n"
        f"    base_url: https://127.0.0.1:9\n"
        f"    mapping: {MAPPING}\n"
        f"    auth: {{type: basic, username: {INTEGRATION_USER}, password: {{env: MEMORY_PASSWORD}}}}\n"
        f"    integration_user: {INTEGRATION_USER}\n"
        for n in range(1, tiers + 1)
    )
    tier_lines = "\n".join(f"  L{n}: {{connector: l{n}}}" for n in range(1, tiers + 1))
    path = folder / "config.yaml"
    path.write_text(
        f"store: {{url: 'sqlite:///{folder / 'store.db'}'}}\n"
        f"connectors:\n{connectors}\ntiers:\n{tier_lines}\n{body}",
        encoding="utf-8",
    )
    return path


@dataclass
class Harness:
    """A runtime over memory connectors on a simulated clock, and ways to drive it."""

    rt: Runtime
    clock: SimClock
    systems: dict[str, MemoryConnector]

    @classmethod
    def build(cls, config: AppConfig, store: Store, clock: SimClock) -> Harness:
        systems = {name: MemoryConnector(name, clock) for name in config.connectors}
        mappers = {name: Mapper(config.mapping_for(name), name) for name in config.connectors}
        rt = Runtime(
            config=config,
            store=store,
            connectors=dict(systems),
            mappers=mappers,
            policy=CallPolicy(sleep=no_sleep),
            clock=clock,
        )
        return cls(rt, clock, systems)

    @classmethod
    def from_yaml(cls, folder: Path, body: str, start: datetime, tiers: int = 3) -> Harness:
        config = load_config(write_config(folder, body, tiers))
        return cls.build(config, Store.open(config.store.url), SimClock(start))

    def deliver(self) -> int:
        """Store every pending change notice as an inbox event; return how many were new."""
        stored = 0
        for name, system in self.systems.items():
            notices, system.notices = system.notices, []
            for ticket_id, version in notices:
                delivery = f"{name}:{ticket_id}:{version}"
                event_id = self.rt.store.add_event(
                    name, delivery, ticket_id, "updated", None, {}, self.clock()
                )
                stored += event_id is not None
        return stored

    def run(self) -> list[InboxRow]:
        """Handle every event due now, one at a time, in claim order."""
        handled = []
        while (event := self.rt.store.claim_event(self.clock(), _LEASE_SECONDS)) is not None:
            handle_event(self.rt, event)
            handled.append(event)
        return handled

    def settle(self, rounds: int = 10) -> None:
        """Deliver and handle until no change is left, echoes included.

        Events waiting for a retry later than the simulated clock's time stay queued.
        """
        for _ in range(rounds):
            delivered = self.deliver()
            if not self.run() and not delivered:
                return
        msg = f"still busy after {rounds} rounds; look for a sync loop"
        raise AssertionError(msg)

    def actions(self) -> list[str]:
        """Return the sync log's actions, oldest first, without no-change rows."""
        rows = sorted(self.rt.store.sync_log(limit=10_000), key=lambda row: row.id)
        return [row.action for row in rows if row.action not in ("no_change", "echo_suppressed")]

    def close(self) -> None:
        self.rt.store.close()
