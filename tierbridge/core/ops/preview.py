"""Preview a sync without writing: the canonical ticket, and what each other side would get.

For a ticket read live (`preview_record`), every linked ticket gets two payloads: the fields
this ticket would write to it, and the fields it would write back, read live as well. An
unlinked ticket gets the payload that would create its counterpart in each higher tier. For
a ticket given as a file (`preview_native`), nothing is read. Each other tier gets the
payload this ticket would write to it. The ticket's own system gets the payload that its
canonical values produce when a sync from each other tier writes them back, so both
directions of the mapping show.

Only reads happen here: `get_record` on the connectors, and the store's links and snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tierbridge.core.connector import NativeRecord
from tierbridge.core.engine.fields import copyable_fields, differs_from, tier_rank
from tierbridge.core.errors import ConfigError, MappingError
from tierbridge.core.mapping import Mapper

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
    from tierbridge.core.model import Ticket
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["Payload", "Preview", "native_record_from_json", "preview_native", "preview_record"]

#: A counterpart starts in its own system's initial state, so a create leaves these out, as
#: the engine's create_fields does.
_NOT_ON_CREATE = frozenset({"status", "resolution_code", "resolution_notes"})


@dataclass(frozen=True)
class Payload:
    """The native values one write would send, and the canonical fields they come from.

    `differs` lists the fields whose value is not what the target's last-synced snapshot
    contains, which are the ones a sync would write now. It is None without a snapshot.
    `error` is set instead of `native` when the mapping cannot translate a value.
    """

    source: str
    target: str
    direction: str
    operation: str
    fields: list[str]
    native: dict[str, Any]
    differs: list[str] | None = None
    truncated: list[str] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "direction": self.direction,
            "operation": self.operation,
            "fields": self.fields,
            "native": self.native,
            "differs": self.differs,
            "truncated": self.truncated,
            "error": self.error,
        }


@dataclass(frozen=True)
class Preview:
    """A ticket in canonical form and the payloads a sync of it would send."""

    source: str
    tier: str | None
    ticket: dict[str, Any]
    payloads: list[Payload]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tier": self.tier,
            "ticket": self.ticket,
            "payloads": [payload.as_json() for payload in self.payloads],
        }


def native_record_from_json(data: Mapping[str, Any]) -> NativeRecord:
    """Build a record from a file: `{"id", "key", "fields": {...}}`, or the fields alone."""
    if isinstance(data.get("fields"), Mapping):
        fields = dict(data["fields"])
        ticket_id, key = str(data.get("id") or "preview"), data.get("key")
    else:
        fields, ticket_id, key = dict(data), "preview", None
    now = datetime.now(UTC)
    return NativeRecord(id=ticket_id, key=key, version="0", updated=now, fields=fields)


def _tier_of(config: AppConfig, connector: str) -> str | None:
    for tier, settings in config.tiers.items():
        if settings.connector == connector:
            return tier.value
    return None


def _payload(
    mapper: Mapper,
    ticket: Ticket,
    names: frozenset[str],
    *,
    route: tuple[str, str, str],
    operation: str,
    snapshot: dict[str, Any] | None = None,
) -> Payload:
    """Map `names` of `ticket` with the target's mapper. `route` is source, target, direction."""
    source, target, direction = route
    try:
        # Fields the target does not map, or only reads, produce no native value.
        present = [
            n for n in sorted(names & ticket.present_fields()) if mapper.to_native(ticket, [n])
        ]
        native = mapper.to_native(ticket, present)
        if operation == "create":
            native = mapper.apply_defaults(native)
    except MappingError as exc:
        return Payload(source, target, direction, operation, sorted(names), {}, error=str(exc))
    differs = sorted(differs_from(ticket, snapshot, set(present))) if snapshot else None
    written = mapper.as_written(ticket, present)
    truncated = [name for name in present if getattr(written, name) != getattr(ticket, name)]
    return Payload(source, target, direction, operation, present, native, differs, truncated)


def _direction(config: AppConfig, source: str, target: str) -> tuple[str, str, str] | None:
    """Return (source tier, target tier, "L1 -> L2"), or None if either serves no tier."""
    source_tier, target_tier = _tier_of(config, source), _tier_of(config, target)
    if source_tier is None or target_tier is None:
        return None
    return source_tier, target_tier, f"{source_tier} -> {target_tier}"


def preview_native(config: AppConfig, connector: str, record: NativeRecord) -> Preview:
    """Preview a record given as native fields of `connector`, reading and writing nothing."""
    mappers = {name: Mapper(config.mapping_for(name), name) for name in config.connectors}
    if connector not in mappers:
        config.connector(connector)  # raises ConfigError naming the configured connectors
    ticket = mappers[connector].to_ticket(record)
    ownership = config.sync.ownership
    source = f"{connector}:{record.key or record.id}"

    payloads = []
    for other in config.connectors:
        route = _direction(config, connector, other)
        if other == connector or route is None:
            continue
        source_tier, target_tier, direction = route
        names = copyable_fields(ownership, source_tier, target_tier)
        payloads.append(
            _payload(
                mappers[other], ticket, names, route=(source, other, direction), operation="update"
            )
        )
        inbound = copyable_fields(ownership, target_tier, source_tier)
        payloads.append(
            _payload(
                mappers[connector],
                ticket,
                inbound,
                route=(other, connector, f"{target_tier} -> {source_tier}"),
                operation="update",
            )
        )
    return Preview(source, _tier_of(config, connector), ticket.snapshot(), payloads)


def resolve_ticket_id(rt: Runtime, connector: str, text: str) -> str:
    """Return the id of ticket `text` (an id, or a key the store has seen) in `connector`."""
    if rt.store.find_ref(connector, text) is not None:
        return text
    rows = rt.store.sync_log(connector=connector, ticket=text, limit=1)
    return rows[0].ticket_id if rows else text


def preview_record(rt: Runtime, connector: str, ticket_text: str) -> Preview:
    """Read a ticket and every ticket linked to it, and preview the payloads between them."""
    if connector not in rt.connectors:
        raise ConfigError(
            f"connector {connector!r} is not configured; configured: {', '.join(rt.connectors)}"
        )
    ticket_id = resolve_ticket_id(rt, connector, ticket_text)
    ticket = _read_ticket(rt, connector, ticket_id)
    ref = rt.store.find_ref(connector, ticket_id)
    source = f"{connector}:{ticket.ref.key or ticket_id}"
    if ref is None:
        payloads = _create_payloads(rt, connector, ticket, source)
    else:
        payloads = _linked_payloads(rt, ref, ticket, source)
    return Preview(source, _tier_of(rt.config, connector), ticket.snapshot(), payloads)


def _read_ticket(rt: Runtime, connector: str, ticket_id: str) -> Ticket:
    client = rt.connectors[connector]
    record = rt.policy.call(lambda: client.get_record(ticket_id))
    return rt.mappers[connector].to_ticket(record)


def _create_payloads(rt: Runtime, connector: str, ticket: Ticket, source: str) -> list[Payload]:
    """Payloads that would create the ticket's counterpart in each higher tier."""
    payloads = []
    for other in rt.config.connectors:
        route = _direction(rt.config, connector, other)
        if other == connector or route is None or tier_rank(route[1]) <= tier_rank(route[0]):
            continue
        names = copyable_fields(rt.config.sync.ownership, route[0], route[1]) - _NOT_ON_CREATE
        payloads.append(
            _payload(
                rt.mappers[other],
                ticket,
                names,
                route=(source, other, route[2]),
                operation="create",
            )
        )
    return payloads


def _linked_payloads(rt: Runtime, ref: RefRow, ticket: Ticket, source: str) -> list[Payload]:
    """Payloads both ways between the ticket and each ticket linked to it."""
    ownership = rt.config.sync.ownership
    payloads = []
    for other in rt.store.refs_of_link(ref.link_id):
        if other.id == ref.id or other.connector not in rt.connectors:
            continue
        target = f"{other.connector}:{other.ticket_key or other.ticket_id}"
        forward = copyable_fields(ownership, ref.tier, other.tier)
        snapshot = rt.store.get_snapshot(other.connector, other.ticket_id)
        payloads.append(
            _payload(
                rt.mappers[other.connector],
                ticket,
                forward,
                route=(source, target, f"{ref.tier} -> {other.tier}"),
                operation="update",
                snapshot=snapshot.data if snapshot else None,
            )
        )

        linked = _read_ticket(rt, other.connector, other.ticket_id)
        backward = copyable_fields(ownership, other.tier, ref.tier)
        own = rt.store.get_snapshot(ref.connector, ref.ticket_id)
        payloads.append(
            _payload(
                rt.mappers[ref.connector],
                linked,
                backward,
                route=(target, source, f"{other.tier} -> {ref.tier}"),
                operation="update",
                snapshot=own.data if own else None,
            )
        )
    return payloads
