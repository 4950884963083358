"""Handle one inbox event: read, map, diff, escalate, write to the linked tickets, log.

This is the engine's unit of work. It takes the event's row and a `Runtime`, and it ends by
marking the event done, due for a retry, or dead (parked in the dead-letter queue). One
ticket's failure never raises out of `handle_event`, so it never blocks another ticket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from tierbridge.core.engine.attachments import sync_attachments
from tierbridge.core.engine.comments import sync_comments
from tierbridge.core.engine.fields import changed_fields
from tierbridge.core.engine.merge import (
    copyable_fields,
    describe_conflicts,
    settle_conflicts,
    write_back_kept,
)
from tierbridge.core.engine.writes import OnRejected, adopt_unconfirmed_create, push_fields
from tierbridge.core.errors import (
    ConfigError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.model import Ticket, Tier
from tierbridge.core.retry import event_backoff
from tierbridge.core.store import SyncLogEntry

if TYPE_CHECKING:
    from tierbridge.core.connector import Connector, NativeRecord
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import InboxRow, RefRow

__all__ = ["MAX_EVENT_ATTEMPTS", "handle_event"]

_log = structlog.get_logger(__name__)

#: Default of `queue.max_attempts` in the config: attempts before a transiently failing
#: event is parked in the dead-letter queue. The engine reads the configured value.
MAX_EVENT_ATTEMPTS = 24


@dataclass
class _Pass:
    """What one pass over an event did, for the sync log."""

    event: InboxRow
    started: float
    ticket_key: str | None = None
    link_id: int | None = None
    actions: list[SyncLogEntry] = field(default_factory=list)
    #: How many of `actions` are in the sync log already.
    logged: int = 0


def handle_event(rt: Runtime, event: InboxRow) -> None:
    """Process one claimed inbox event and settle it in the store."""
    run = _Pass(event=event, started=time.monotonic())
    with structlog.contextvars.bound_contextvars(
        event_id=event.id, connector=event.connector, ticket=event.ticket_id
    ):
        try:
            _process(rt, run)
        except RetryableError as exc:
            _settle_retryable(rt, run, exc)
        except NotFoundError as exc:
            _settle_dead(rt, run, exc, action="not_found")
        except (PermanentError, ConfigError) as exc:
            _settle_dead(rt, run, exc, action="dead_lettered")
        except Exception as exc:  # a bug must park one ticket, never stop the worker
            _log.exception("event_failed_unexpectedly", error=repr(exc))
            _settle_dead(rt, run, exc, action="dead_lettered")
        else:
            rt.store.complete_event(event.id)
            _flush_log(rt, run)


def _process(rt: Runtime, run: _Pass) -> None:
    event = run.event
    connector = rt.connectors.get(event.connector)
    if connector is None:
        msg = f"connector {event.connector!r} is no longer in the config; restore it or drop the event"
        raise ConfigError(msg)

    record = _read(rt, event)
    # Set before the mapping, so that a value it cannot translate is logged under the key.
    run.ticket_key = record.key
    ticket = rt.mappers[event.connector].to_ticket(record)
    snapshot = rt.store.get_snapshot(event.connector, record.id)
    if snapshot is not None and snapshot.version is not None and record.version < snapshot.version:
        _note(
            run, "stale_skipped", "skipped", detail=f"version {record.version} < {snapshot.version}"
        )
        return

    source = _ensure_ref(rt, run, record, ticket)
    if source is None:
        rt.store.save_snapshot(event.connector, record.id, record.version, ticket.snapshot())
        return

    adopted = adopt_unconfirmed_create(rt, source)
    if adopted is not None:
        _note(run, "adopted", "ok", target=adopted, detail="counterpart of an unconfirmed create")
    changed = changed_fields(ticket, snapshot.data if snapshot else None)
    _escalate_if_due(rt, run, ticket, source)
    # A pass that created, adopted or fired nothing so far trusts the webhook's list of what
    # changed. A pass that linked a new ticket reads every list, to copy what already exists.
    touched = _lists_touched(rt, event, connector) if not run.actions else None
    targets = [ref for ref in rt.store.refs_of_link(source.link_id) if ref.id != source.id]
    _cross_reference(rt, run, ticket, source, targets)
    # Comments first: a field write the target refuses must not hold back the comments.
    copied = False
    if touched is None or "comments" in touched:
        copied = _sync_comments(rt, run, ticket, source, targets)
    if touched is None or "attachments" in touched:
        copied |= _sync_attachments(rt, run, ticket, source, targets)
    synced = snapshot.data if snapshot is not None else None
    wrote = _push_changes(
        rt, run, ticket, source, targets, changed | _unfinished(rt, synced, targets)
    )
    rt.store.save_snapshot(event.connector, record.id, record.version, ticket.snapshot())

    if not wrote and not copied and not run.actions:
        own = record.updated_by is not None and record.updated_by == _integration_user(
            rt, event.connector
        )
        if not targets:
            _note(
                run,
                "tracked",
                "skipped",
                fields=sorted(changed),
                detail="no linked ticket to write to",
            )
        else:
            _note(run, "echo_suppressed" if own else "no_change", "skipped", fields=sorted(changed))


def _lists_touched(rt: Runtime, event: InboxRow, connector: Connector) -> frozenset[str] | None:
    """Return the lists (comments, attachments) the event's webhook shows changed, or None
    to read them all: for polls, for payloads that cannot tell, and on a retry, since an
    earlier attempt may have stopped halfway through a list."""
    if event.attempts > 1 or not event.payload:
        return None
    return connector.lists_touched(event.kind, event.payload)


def _read(rt: Runtime, event: InboxRow) -> NativeRecord:
    connector = rt.connectors[event.connector]
    return rt.policy.call(lambda: connector.get_record(event.ticket_id))


def _integration_user(rt: Runtime, name: str) -> str | None:
    return rt.config.connectors[name].integration_user


def _ensure_ref(rt: Runtime, run: _Pass, record: NativeRecord, ticket: Ticket) -> RefRow | None:
    """Return the ticket's ref, linking a ticket seen for the first time to its tier."""
    ref = rt.store.find_ref(run.event.connector, record.id)
    if ref is None:
        tier = rt.tier_of(run.event.connector)
        if tier is None:
            _note(run, "no_tier", "skipped", detail="connector serves no tier in the config")
            return None
        ref = _adopt_counterpart(rt, run, record, ticket, tier) or rt.store.create_link(
            run.event.connector, record.id, record.key, tier.value
        )
    elif record.key and record.key != ref.ticket_key:
        rt.store.update_ref_key(run.event.connector, record.id, record.key)
    run.link_id = ref.link_id
    return ref


def _adopt_counterpart(
    rt: Runtime, run: _Pass, record: NativeRecord, ticket: Ticket, tier: Tier
) -> RefRow | None:
    """Link a ticket this daemon created but never recorded (a crash or failure after the
    create) to its source, found through the correlation key the create wrote on it."""
    connector, _, source_id = (ticket.correlation_id or "").partition(":")
    if not source_id or connector not in rt.connectors:
        return None
    source = rt.store.find_ref(connector, source_id)
    if source is None:
        return None
    ref = rt.store.add_ref(source.link_id, run.event.connector, record.id, record.key, tier.value)
    _note(run, "adopted", "ok", target=source, detail=f"correlation key {ticket.correlation_id}")
    return ref


def _escalate_if_due(rt: Runtime, run: _Pass, ticket: Ticket, source: RefRow) -> None:
    """Move the ticket's SLA clocks, then fire the escalation rules that started to hold."""
    # Imported here: the rules import the engine's writes, and this package imports process.
    from tierbridge.core.rules.engine import apply_rules
    from tierbridge.core.sla.tracker import track_ticket

    tracking = track_ticket(rt, source, ticket)
    for fired in apply_rules(rt, source, ticket, tracking):
        _note(run, "rule_fired", "ok", detail=fired.detail)
        for result in fired.results:
            _note(
                run,
                result.action,
                result.outcome,
                target=result.target,
                fields=result.fields,
                detail=result.detail,
            )


def _cross_reference(
    rt: Runtime, run: _Pass, ticket: Ticket, source: RefRow, targets: list[RefRow]
) -> None:
    """Store the higher tier's key on a lower-tier ticket (ServiceNow `correlation_id`, say)."""
    mapper = rt.mappers[source.connector]
    if not mapper.maps("correlation_id"):
        return
    upper = [ref for ref in targets if _rank(ref.tier) > _rank(source.tier)]
    if not upper or not upper[0].ticket_key or ticket.correlation_id == upper[0].ticket_key:
        return

    stamped = ticket.model_copy(update={"correlation_id": upper[0].ticket_key})
    native = mapper.to_native(stamped, {"correlation_id"})
    connector = rt.connectors[source.connector]
    try:
        rt.policy.call(lambda: connector.update_record(source.ticket_id, native))
    except RejectedError as exc:
        # A closed Dynamics case, say, is read-only. The key is a convenience for people, so
        # its refusal must not hold back the sync; the next pass tries again.
        _note(run, "cross_reference_refused", "skipped", target=upper[0], error=str(exc))
        return
    ticket.correlation_id = upper[0].ticket_key
    _note(run, "cross_referenced", "ok", target=upper[0], fields=["correlation_id"])


def _unfinished(rt: Runtime, synced: dict[str, Any] | None, targets: list[RefRow]) -> set[str]:
    """Return the fields whose value on a target's snapshot differs from the source's.

    A pass that wrote a field and crashed before it saved the source's snapshot leaves the
    source's old value there. Were a person to set the field back to that value, the diff
    would show no change, and the target would keep the value written. `push_fields` writes
    only the fields whose target value really differs, so listing more costs no write.
    """
    if synced is None:
        return set()
    ownership = rt.config.sync.ownership
    owned = {name for name, policy in ownership.items() if policy in ("lower_tier", "higher_tier")}
    names: set[str] = set()
    for target in targets:
        snapshot = rt.store.get_snapshot(target.connector, target.ticket_id)
        if snapshot is None:
            continue
        names |= {
            name
            for name in owned
            if name in synced and name in snapshot.data and synced[name] != snapshot.data[name]
        }
    return names


def _push_changes(
    rt: Runtime,
    run: _Pass,
    ticket: Ticket,
    source: RefRow,
    targets: list[RefRow],
    changed: set[str],
) -> bool:
    wrote = False
    ownership = rt.config.sync.ownership
    for target in targets:
        allowed = changed & copyable_fields(ownership, source.tier, target.tier)
        allowed, conflicts = settle_conflicts(rt, ticket, target, allowed)
        if conflicts:
            # Only a conflict left for a person counts as skipped, and `conflicts --held` lists it.
            awaiting_person = any(conflict.winner == "held" for conflict in conflicts)
            _note(
                run,
                "conflict",
                "skipped" if awaiting_person else "ok",
                target=target,
                fields=[conflict.field for conflict in conflicts],
                detail=describe_conflicts(conflicts),
            )
            # Logged before the writes, so that a crash after them keeps the record of why.
            _flush_log(rt, run)
            kept = write_back_kept(rt, ticket, source, target, conflicts)
            if kept:
                wrote = True
                detail = "the target's value won the conflict"
                _note(run, "updated", "ok", target=source, fields=sorted(kept), detail=detail)
        if not allowed:
            continue
        written, _record = push_fields(
            rt, ticket, target, allowed, on_rejected=_rejection_logger(run, target)
        )
        if written:
            wrote = True
            _note(run, "updated", "ok", target=target, fields=sorted(written))
    return wrote


def _rejection_logger(run: _Pass, target: RefRow) -> OnRejected:
    """Return a callback that logs a lone resolution the target rejected, so the pass goes on."""

    def note(fields: set[str], reason: str) -> None:
        _note(
            run, "resolution_skipped", "skipped", target=target, fields=sorted(fields), error=reason
        )

    return note


def _sync_comments(
    rt: Runtime, run: _Pass, ticket: Ticket, source: RefRow, targets: list[RefRow]
) -> bool:
    result = sync_comments(rt, ticket, source, targets)
    for comment_id, target_connector in result.copied:
        _note(run, "commented", "ok", detail=f"comment {comment_id} copied to {target_connector}")
    for comment_id, target_connector in result.edited:
        detail = f"comment {comment_id} edit copied to {target_connector}"
        _note(run, "comment_edited", "ok", detail=detail)
    for comment_id, reason in result.refused:
        _note(run, "comment_refused", "skipped", detail=f"comment {comment_id}: {reason}")
    return bool(result.copied or result.edited)


def _sync_attachments(
    rt: Runtime, run: _Pass, ticket: Ticket, source: RefRow, targets: list[RefRow]
) -> bool:
    result = sync_attachments(rt, ticket, source, targets)
    by_connector = {target.connector: target for target in targets}
    for file_id, connector, detail in result.copied:
        _note(run, "attached", "ok", target=by_connector[connector], detail=f"{file_id}: {detail}")
    for file_id, connector, existing in result.matched:
        detail = f"{file_id}: the same bytes are already there as {existing}"
        _note(run, "attachment_matched", "skipped", target=by_connector[connector], detail=detail)
    for file_id, connector, reason in result.skipped:
        detail = f"{file_id}: {reason}"
        _note(run, "attachment_skipped", "skipped", target=by_connector[connector], detail=detail)
    return bool(result.copied or result.skipped)


def _rank(tier: str) -> int:
    return ["L1", "L2", "L3"].index(tier)


def _note(
    run: _Pass,
    action: str,
    outcome: str,
    *,
    target: RefRow | None = None,
    fields: list[str] | None = None,
    detail: str | None = None,
    error: str | None = None,
) -> None:
    run.actions.append(
        SyncLogEntry(
            at=None,
            event_id=run.event.id,
            link_id=run.link_id,
            connector=run.event.connector,
            ticket_id=run.event.ticket_id,
            ticket_key=run.ticket_key,
            action=action,
            target_connector=target.connector if target else None,
            target_ticket=(target.ticket_key or target.ticket_id) if target else None,
            fields=fields or [],
            outcome=outcome,
            attempt=run.event.attempts,
            duration_ms=None,
            error=error,
            detail=detail,
        )
    )


def _flush_log(rt: Runtime, run: _Pass) -> None:
    duration_ms = round((time.monotonic() - run.started) * 1000, 2)
    now = rt.clock()
    for entry in run.actions[run.logged :]:
        entry.at = now
        entry.duration_ms = duration_ms
        rt.store.log(entry)
        _log.info(
            "sync",
            action=entry.action,
            outcome=entry.outcome,
            ticket_key=entry.ticket_key,
            target=entry.target_ticket,
            fields=entry.fields,
            duration_ms=duration_ms,
        )
    run.logged = len(run.actions)


def _settle_retryable(rt: Runtime, run: _Pass, exc: RetryableError) -> None:
    attempts = run.event.attempts
    queue = rt.config.queue
    if attempts >= queue.max_attempts:
        _settle_dead(rt, run, exc, action="dead_lettered")
        return
    retry_after = exc.retry_after if isinstance(exc, ThrottledError) else None
    wait = event_backoff(
        attempts, retry_after, base=queue.backoff_base_seconds, cap=queue.backoff_cap_seconds
    )
    rt.store.retry_event(run.event.id, str(exc), rt.clock() + timedelta(seconds=wait))
    _note(run, "retry", "failed", error=str(exc), detail=f"next attempt in {wait:.1f} s")
    _flush_log(rt, run)


def _settle_dead(rt: Runtime, run: _Pass, exc: Exception, *, action: str) -> None:
    rt.store.dead_event(run.event.id, str(exc))
    _note(run, action, "failed", error=str(exc))
    _flush_log(rt, run)
