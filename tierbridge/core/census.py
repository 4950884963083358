"""The deletion census: find linked tickets that were deleted, or that the account lost.

Deletions rarely reach the daemon as events: the ServiceNow business rule fires on insert
and update only, the Jira connector drops `jira:issue_deleted`, and a poll lists only the
records that still exist. So `census` reads every linked ticket of one connector now and
then. A ticket that reads as not found (HTTP 404) was deleted. One the account may no longer
read (HTTP 403) still exists but is out of reach. The two are logged apart, as `deleted`
and `access_lost`, and the note on the counterparts names which one happened.

`sync.on_delete` sets what the counterparts of a deleted ticket get: nothing (`ignore`), an
internal note (`comment`, the default), or the note and a cancel (`close`). A ticket whose
access was lost is never canceled, since it still exists: its counterparts get the note
unless the policy is `ignore`. Either way the ticket leaves its link, so that no later event
writes to it, and the census does not report it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import structlog

from tierbridge.core.engine.comments import LOCAL_ORIGIN
from tierbridge.core.engine.edits import find_earlier_copy
from tierbridge.core.engine.writes import push_fields
from tierbridge.core.errors import AuthenticationError, NotFoundError, RejectedError
from tierbridge.core.model import Status
from tierbridge.core.store import SyncLogEntry

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["CensusResult", "census", "schedule_census"]

_log = structlog.get_logger(__name__)

Finding = Literal["deleted", "access_lost"]

_NOTES: dict[Finding, str] = {
    "deleted": "The linked ticket {ref} was deleted, so changes no longer sync with it.",
    "access_lost": (
        "The integration account can no longer read the linked ticket {ref}, so changes no "
        "longer sync with it. Restore the account's access to link it again."
    ),
}


@dataclass(frozen=True)
class CensusResult:
    """Outcome of one census of one connector: the ids of the tickets found in each state."""

    connector: str
    checked: int
    deleted: list[str] = field(default_factory=list)
    access_lost: list[str] = field(default_factory=list)
    duration_ms: float = 0.0


def census(rt: Runtime, connector: str) -> CensusResult:
    """Read every linked ticket of `connector` and settle the deleted and unreadable ones.

    Raises the connector's error when its credentials are refused (HTTP 401) or a read
    fails for another reason, leaving the tickets not read yet for the next census.
    """
    started = time.monotonic()
    refs = rt.store.refs_of_connector(connector)
    found: dict[Finding, list[str]] = {"deleted": [], "access_lost": []}
    for ref in refs:
        outcome = _read(rt, ref)
        if outcome is not None:
            _settle(rt, ref, outcome)
            found[outcome].append(ref.ticket_id)

    duration_ms = round((time.monotonic() - started) * 1000, 2)
    _log.info(
        "census",
        connector=connector,
        checked=len(refs),
        deleted=len(found["deleted"]),
        access_lost=len(found["access_lost"]),
        duration_ms=duration_ms,
    )
    return CensusResult(connector, len(refs), found["deleted"], found["access_lost"], duration_ms)


def _read(rt: Runtime, ref: RefRow) -> Finding | None:
    """Read one ticket; return what is wrong with it, or None if it reads."""
    connector = rt.connectors[ref.connector]
    # TODO: one read per ticket; ServiceNow (`sys_idIN` in one query) and Jira (POST
    # /rest/api/3/issue/bulkfetch) can read 100 at a time, with the missing ones read alone.
    try:
        rt.policy.call(lambda: connector.get_record(ref.ticket_id))
    except NotFoundError:
        # NOTE: Jira Cloud returns 404 also for an issue the account may not browse, so a
        # lost Jira permission is reported as a deletion.
        return "deleted"
    except AuthenticationError as exc:
        if exc.status == 403:
            return "access_lost"
        raise
    return None


def _settle(rt: Runtime, ref: RefRow, outcome: Finding) -> None:
    """Tell the counterparts per `sync.on_delete`, log it, and take the ticket off its link."""
    policy = rt.config.sync.on_delete
    counterparts = [other for other in rt.store.refs_of_link(ref.link_id) if other.id != ref.id]
    details = []
    for target in counterparts:
        detail = _tell(rt, ref, target, outcome, policy)
        details.append(detail)
        _log_entry(rt, ref, outcome, target, detail)
    if not counterparts:
        _log_entry(rt, ref, outcome, None, "no counterpart to tell")
    rt.store.detach_ref(ref.connector, ref.ticket_id)
    _log.warning(
        outcome,
        connector=ref.connector,
        ticket=ref.ticket_id,
        ticket_key=ref.ticket_key,
        counterparts=len(counterparts),
        policy=policy,
    )


def _tell(rt: Runtime, ref: RefRow, target: RefRow, outcome: Finding, policy: str) -> str:
    """Apply the policy to one counterpart and return what was done, for the sync log."""
    if policy == "ignore":
        return "sync.on_delete is ignore: counterpart left as it is"
    try:
        _post_note(rt, ref, target, outcome)
        if policy != "close" or outcome != "deleted":
            return "internal note posted"
        if _cancel(rt, target):
            return "internal note posted, counterpart canceled"
    except (NotFoundError, RejectedError) as exc:
        # A counterpart that is gone or refuses the write must not stall every later census.
        return f"counterpart not told: {exc}"
    return "internal note posted; counterpart already final, so not canceled"


def _post_note(rt: Runtime, ref: RefRow, target: RefRow, outcome: Finding) -> None:
    """Post the internal note once, also when a census is retried after a crash."""
    body = _NOTES[outcome].format(ref=f"{ref.connector}:{ref.ticket_key or ref.ticket_id}")
    key = f"census:{outcome}:{ref.connector}:{ref.ticket_id}:{target.connector}"
    earlier = rt.store.get_write(key)
    if earlier is not None and earlier.status == "done":
        return

    note_id = find_earlier_copy(rt, target, body) if earlier is not None else None
    if note_id is None:
        rt.store.reserve_write(ref.link_id, target.connector, "comment", key, rt.clock())
        connector = rt.connectors[target.connector]
        note_id = rt.policy.call(
            lambda: connector.add_comment(target.ticket_id, body, public=False)
        ).source_id
    rt.store.complete_write(key, note_id, rt.clock())
    # Mapped as a local note, so the engine never copies it elsewhere.
    rt.store.record_comment(
        target.link_id, target.connector, note_id, LOCAL_ORIGIN, f"census-note:{key}"
    )


def _cancel(rt: Runtime, target: RefRow) -> bool:
    """Move the counterpart to canceled unless it is final already; return whether it moved."""
    connector = rt.connectors[target.connector]
    record = rt.policy.call(lambda: connector.get_record(target.ticket_id))
    ticket = rt.mappers[target.connector].to_ticket(record)
    if ticket.status is not None and ticket.status.is_final:
        return False
    canceled = ticket.model_copy(update={"status": Status.CANCELED})
    written, _record = push_fields(rt, canceled, target, {"status"})
    return bool(written)


def _log_entry(
    rt: Runtime, ref: RefRow, outcome: Finding, target: RefRow | None, detail: str
) -> None:
    rt.store.log(
        SyncLogEntry(
            connector=ref.connector,
            ticket_id=ref.ticket_id,
            action=outcome,
            at=rt.clock(),
            link_id=ref.link_id,
            ticket_key=ref.ticket_key,
            target_connector=target.connector if target else None,
            target_ticket=(target.ticket_key or target.ticket_id) if target else None,
            outcome="ok",
            detail=detail,
        )
    )


def schedule_census(scheduler: BaseScheduler, rt: Runtime) -> None:
    """Add one census job per connector, every `sync.census_interval_seconds`."""
    for name in rt.connectors:
        scheduler.add_job(
            _census_job,
            "interval",
            args=[rt, name],
            seconds=rt.config.sync.census_interval_seconds,
            id=f"census:{name}",
            max_instances=1,
            coalesce=True,
        )


def _census_job(rt: Runtime, name: str) -> None:
    """Run one census; a failure is logged and the next interval tries again."""
    try:
        census(rt, name)
    except Exception as exc:  # a failed census must not end the scheduler's job
        _log.warning("census_failed", connector=name, error=str(exc))
