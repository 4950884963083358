"""Judge a played seed: lost updates, regressions and duplicates.

* Lost: a linked pair must agree on what the lower tier owns (title, description,
  priority). Once a person changed the status of a linked pair, both sides must end at the
  last status a person set, with its resolution. The exceptions: the daemon logged a
  conflict on the field, overwrote the status by the contract below, or never saw the
  change because it ended where it started. Every comment a person posted on a linked
  ticket must reach the other side with its visibility, edits included. An open P1 or P2
  incident must have been escalated.
* Regression: a field the daemon wrote must never return to a value it had left, unless a
  person wrote that value again in between on a side that owns the field, or the daemon
  logged a conflict on it. A return also passes when the daemon copied the other side's
  current value over one it took as synced: the value-based conflict check cannot see that
  people changed a field and changed it back (A to B to A), or changed a counterpart before
  its adoption after a crash. The resolution is not judged on its own: it follows the
  status (Jira sets and clears it on transitions), so its returns are judged through it.
  Systems that store no resolution code (Salesforce and Dynamics here) are not judged on it.
* Duplicate: one counterpart per source ticket, and each comment (and each edit) copied
  once and never copied back.

A seed that never settles counts as a regression, since only a sync loop keeps writing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bench._history.actors import Actor
from bench._history.journal import Journal, Write
from bench._history.scenario import HumanComment, SeedRun

__all__ = ["Finding", "judge"]

_OWNED_BY_L1 = ("title", "description", "priority")
_FINAL = ("resolved", "closed", "canceled")
_ESCALATING = ("P1", "P2")
_RESOLUTION = "resolution_code"


_ABSENT = object()


@dataclass(frozen=True)
class Finding:
    """One broken promise (`kind` lost, regression or duplicate), or a `note` giving context."""

    kind: str
    reason: str


@dataclass(frozen=True)
class _Link:
    l1: str
    l2: str
    #: When the daemon first saved a snapshot of the L2 ticket: its create, or its adoption
    #: after a crash. The state at that point is the link's baseline.
    linked_seq: int
    link_id: int | None


def judge(run: SeedRun) -> list[Finding]:
    """Return every finding of a played seed; an empty list means it kept all promises."""
    findings: list[Finding] = []
    links = list(_links(run, findings))
    for link in links:
        findings.extend(_check_fields(run, link))
        findings.extend(_check_comments(run, link))
    findings.extend(_check_escalations(run, links))
    findings.extend(_check_regressions(run, links))
    if not run.settled:
        findings.append(Finding("regression", "did not settle: the daemon kept writing"))
    if findings:
        findings.extend(Finding("note", line) for line in sorted(set(_dead_letters(run))))
    return findings


def _links(run: SeedRun, findings: list[Finding]) -> Iterator[_Link]:
    """Pair each L2 ticket with the L1 ticket named by its correlation key."""
    l1, l2 = run.world.l1, run.world.l2
    created = {(c.connector, c.ticket): c for c in run.journal.created}
    by_source: dict[str, list[str]] = {}
    for ticket in l2.tickets():
        key = l2.correlation_of(ticket) or ""
        by_source.setdefault(key, []).append(ticket)

    for key, tickets in sorted(by_source.items()):
        connector, _, source = key.partition(":")
        if connector != l1.connector or source not in l1.tickets():
            findings.append(Finding("duplicate", f"{l2.connector} {tickets} carry no known key"))
            continue
        if len(tickets) > 1:
            findings.append(Finding("duplicate", f"{key} has {len(tickets)} counterparts"))
        ref = run.rt.store.find_ref(l1.connector, source)
        synced = run.journal.synced_until(l2.connector, tickets[0], 1 << 62)
        linked = synced[0].seq if synced else created[(l2.connector, tickets[0])].seq
        yield _Link(source, tickets[0], linked, ref.link_id if ref else None)


def _conflicts(run: SeedRun, link: _Link, name: str) -> bool:
    if link.link_id is None:
        return False
    return any(
        row.action == "conflict" and name in row.fields
        for row in run.rt.store.sync_log(limit=100_000)
        if row.link_id == link.link_id
    )


def _check_fields(run: SeedRun, link: _Link) -> Iterator[Finding]:
    l1 = run.world.l1.fields_of(link.l1)
    l2 = run.world.l2.fields_of(link.l2)
    for name in _OWNED_BY_L1:
        if l1.get(name) != l2.get(name):
            yield Finding("lost", f"{name} of {link.l1}: L1 {l1.get(name)!r}, L2 {l2.get(name)!r}")

    people = [
        write
        for write in _writes_of(run, link, "status")
        if write.human and write.seq > link.linked_seq
    ]
    if not people or _unseen(run.journal, people):
        return
    if l1.get("status") != l2.get("status"):
        yield Finding("lost", f"status of {link.l1}: L1 {l1.get('status')}, L2 {l2.get('status')}")
        return
    last = people[-1]
    if (
        l1.get("status") != last.value
        and not _conflicts(run, link, "status")
        and not _overwritten_by_contract(run.journal, last, _other_side(run, link, last))
    ):
        shown = l1.get("status")
        yield Finding("lost", f"status of {link.l1}: {last.value} set last, both show {shown}")
        return
    resolution = _resolution_of(run, last)
    if last.value == "resolved" and l1.get("status") == "resolved" and resolution is not None:
        # Salesforce and Dynamics store no resolution code, so only the sides that do are judged.
        stored = [
            (side, values) for side, values in (("L1", l1), ("L2", l2)) if _RESOLUTION in values
        ]
        for side, values in stored:
            if values.get(_RESOLUTION) != resolution and not _conflicts(run, link, _RESOLUTION):
                got = values.get(_RESOLUTION)
                yield Finding("lost", f"resolution of {link.l1}: {resolution} set, {side} {got!r}")


def _unseen(journal: Journal, people: list[Write]) -> bool:
    """Say whether the status changes people made ended, on each side, where that side
    started, so that every snapshot the daemon took of it shows the same value.

    A counterpart starts in its own initial status, so the two sides may differ until a
    change the daemon can see, and changes that end where they started are not one.
    """
    sides = {(write.connector, write.ticket) for write in people}
    return all(_netted_out(journal, people, connector, ticket) for connector, ticket in sides)


def _netted_out(journal: Journal, people: list[Write], connector: str, ticket: str) -> bool:
    mine = [write for write in people if (write.connector, write.ticket) == (connector, ticket)]
    synced = journal.synced_until(connector, ticket, 1 << 62)
    before = [entry for entry in synced if entry.seq < mine[0].seq]
    after = [entry for entry in synced if entry.seq > mine[0].seq]
    final = mine[-1].value
    return (
        bool(before)
        and bool(after)
        and before[-1].data.get("status", _ABSENT) == final
        and all(entry.data.get("status", _ABSENT) == final for entry in after)
    )


def _writes_of(run: SeedRun, link: _Link, name: str) -> list[Write]:
    l1, l2 = run.world.l1.connector, run.world.l2.connector
    writes = run.journal.history(l1, link.l1, name) + run.journal.history(l2, link.l2, name)
    return sorted(writes, key=lambda write: write.seq)


def _resolution_of(run: SeedRun, status: Write) -> object | None:
    """Return the resolution a person set together with a status, if any."""
    for write in run.journal.history(status.connector, status.ticket, "resolution_code"):
        if write.seq == status.seq:
            return write.value
    return None


def _check_comments(run: SeedRun, link: _Link) -> Iterator[Finding]:
    sides: dict[str, tuple[Actor, str, Actor, str]] = {
        run.world.l1.connector: (run.world.l1, link.l1, run.world.l2, link.l2),
        run.world.l2.connector: (run.world.l2, link.l2, run.world.l1, link.l1),
    }
    for comment in run.comments:
        own, ticket, other, other_ticket = sides[comment.connector]
        if ticket != comment.ticket:
            continue
        yield from _check_one_comment(comment, own, ticket, other, other_ticket)


def _check_one_comment(
    comment: HumanComment, own: Actor, ticket: str, other: Actor, other_ticket: str
) -> Iterator[Finding]:
    copies = other.comments_of(other_ticket)
    originals = own.comments_of(ticket)
    for index, text in enumerate(comment.texts):
        token = text.split()[0]
        found = [entry for entry in copies if token in entry.text]
        current = index == len(comment.texts) - 1
        if current and not found:
            yield Finding("lost", f"comment {token} on {ticket} never reached {other.connector}")
        if len(found) > 1:
            yield Finding("duplicate", f"comment {token} copied {len(found)} times")
        if any(entry.public != comment.public for entry in found):
            yield Finding("lost", f"comment {token} changed visibility on {other.connector}")
        back = [entry for entry in originals if token in entry.text]
        if len(back) > 1:
            yield Finding("duplicate", f"comment {token} was copied back to {own.connector}")


def _check_escalations(run: SeedRun, links: list[_Link]) -> Iterator[Finding]:
    linked = {link.l1 for link in links}
    for ticket in run.world.l1.tickets():
        values = run.world.l1.fields_of(ticket)
        wants = values.get("priority") in _ESCALATING and values.get("status") not in _FINAL
        if wants and ticket not in linked:
            yield Finding("lost", f"{ticket} is open at {values.get('priority')} but not escalated")


def _check_regressions(run: SeedRun, links: list[_Link]) -> Iterator[Finding]:
    l1, l2 = run.world.l1.connector, run.world.l2.connector
    for link in links:
        for name in (*_OWNED_BY_L1, "status"):
            authors = [(l1, link.l1)] if name in _OWNED_BY_L1 else [(l1, link.l1), (l2, link.l2)]
            people = [
                write
                for connector, ticket in authors
                for write in run.journal.history(connector, ticket, name)
                if write.human
            ]
            sides = ((l1, link.l1, l2, link.l2), (l2, link.l2, l1, link.l1))
            for connector, ticket, other_connector, other_ticket in sides:
                history = _settled(run.journal, run.journal.history(connector, ticket, name))
                other = run.journal.history(other_connector, other_ticket, name)
                for write in _returns(run.journal, history, people, other):
                    if not _conflicts(run, link, name):
                        yield Finding(
                            "regression",
                            f"{name} of {connector} {ticket} went back to {write.value!r}",
                        )


def _settled(journal: Journal, history: list[Write]) -> list[Write]:
    """Drop the daemon's passing values: a status it walked through within one write (a
    Jira reopen before a resolve, say), seen as a daemon write followed by another with no
    snapshot saved in between."""
    kept = []
    for index, write in enumerate(history):
        after = history[index + 1] if index + 1 < len(history) else None
        passing = (
            after is not None
            and not write.human
            and not after.human
            and not any(
                write.seq < synced.seq < after.seq
                for synced in journal.synced_until(write.connector, write.ticket, after.seq)
            )
        )
        if not passing:
            kept.append(write)
    return kept


def _other_side(run: SeedRun, link: _Link, write: Write) -> list[Write]:
    """Return the history of the same field on the other ticket of the link."""
    if write.connector == run.world.l1.connector:
        return run.journal.history(run.world.l2.connector, link.l2, write.field)
    return run.journal.history(run.world.l1.connector, link.l1, write.field)


def _overwritten_by_contract(journal: Journal, last: Write, other: list[Write]) -> bool:
    """Say whether the daemon overwrote a person's last value by the sync contract."""
    history = _settled(journal, journal.history(last.connector, last.ticket, last.field))
    later = [i for i, write in enumerate(history) if write.seq > last.seq and not write.human]
    return bool(later) and _by_contract(journal, history, later[0], other)


def _returns(
    journal: Journal, history: list[Write], people: list[Write], other: list[Write]
) -> Iterator[Write]:
    """Yield the daemon's writes that restore a value the field had left, with no person
    writing that value again in between."""
    for index, write in enumerate(history):
        if write.human or _by_contract(journal, history, index, other):
            continue
        earlier = [i for i in range(index) if history[i].value == write.value]
        if not earlier:
            continue
        left_at = history[earlier[-1] + 1].seq
        again = any(
            person.value == write.value and left_at < person.seq < write.seq for person in people
        )
        if not again:
            yield write


def _by_contract(journal: Journal, history: list[Write], index: int, other: list[Write]) -> bool:
    """Say whether the daemon's write at `index` copied the other side's current value over
    a value the daemon took as synced, which the value-based conflict check allows.

    The value overwritten may still be one people set: changed and changed back since the
    last sync (A to B to A), or set on a counterpart before its adoption after a crash.
    A write of a value the other side no longer has is stale and never passes.
    """
    if index == 0:
        return False
    write = history[index]
    current = [earlier.value for earlier in other if earlier.seq < write.seq]
    if not current or current[-1] != write.value:
        return False
    synced = journal.synced_until(write.connector, write.ticket, write.seq)
    return bool(synced) and synced[-1].data.get(write.field, _ABSENT) == history[index - 1].value


def _dead_letters(run: SeedRun) -> list[str]:
    return [
        f"dead letter on {row.connector} {row.ticket_id}: {row.error}"
        for row in run.rt.store.sync_log(limit=100_000)
        if row.action == "dead_lettered"
    ]
