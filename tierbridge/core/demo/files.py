"""The files the demo's agents attach, and the check that each is on every linked ticket once.

After the replay, the L1 agent attaches a customer's test log to every third escalated
ticket. The agent of each higher tier attaches a diagnostic report to each ticket it takes
over. Both are short UTF-8 text files that name the key of the ticket they are attached to
and contain non-ASCII text, so a copy that re-encodes or truncates them has a different
SHA-256 digest.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tierbridge.core.demo.desks import Attached, Desk
from tierbridge.core.model import Tier

__all__ = [
    "DemoFile",
    "LinkedTicket",
    "attach",
    "attach_customer_logs",
    "check_files",
    "customer_log",
    "describe_file_counts",
    "diagnostic_report",
    "gets_customer_log",
]

_CONTENT_TYPE = "text/plain"


@dataclass(frozen=True)
class DemoFile:
    """One file an agent attaches, and the tier whose ticket it was attached to."""

    filename: str
    content: bytes
    origin: Tier

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class LinkedTicket:
    """One ticket of a linked chain, which must contain every file attached in the chain."""

    tier: Tier
    desk: Desk
    ticket_id: str
    #: The ticket's number or key, as people name it in messages.
    key: str


class _Planned(Protocol):
    """A planned ticket of either planner (`PlannedIncident`, `PlannedCase`)."""

    @property
    def number(self) -> str: ...

    @property
    def escalates(self) -> bool: ...


def gets_customer_log(escalated_index: int) -> bool:
    """Say whether the L1 agent attaches a log to the escalated ticket at this index.

    The index counts the sample's escalating tickets in sample order, from 0, so even a
    sample with one escalation has a file going up.
    """
    return escalated_index % 3 == 0


def customer_log(key: str) -> DemoFile:
    """Return the test log that the customer of L1 ticket `key` sent."""
    lines = (
        f"Test log sent by the customer of {key}.",
        "Prüfung 1: Verbindung aufgebaut, Antwortzeit 120 ms.",
        "Prüfung 2: Anmeldung fehlgeschlagen, Zugriff verweigert.",
        "Fin du journal. 東京オフィス ✓",
    )
    return DemoFile(f"Prüfprotokoll-{key}.txt", _text(lines), Tier.L1)


def diagnostic_report(tier: Tier, key: str) -> DemoFile:
    """Return the diagnostic report that the agent of `tier` attaches to its ticket `key`."""
    lines = (
        f"Diagnostic report of the {tier} team for {key}.",
        "Reproduced on the test bench; the cause is a configuration change.",
        "Résumé: configuration corrigée, redémarrage nécessaire. Größe: 4 KiB. 完了 ✓",
    )
    return DemoFile(f"diagnostics-{key}.txt", _text(lines), tier)


def _text(lines: Iterable[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def attach(desk: Desk, ticket_id: str, file: DemoFile) -> None:
    """Attach `file` as a person would, adding a note naming it where the upload sends no notice.

    The note is the ticket change that makes the daemon read the ticket, and with it the
    file, as the next change an agent makes would.
    """
    desk.attach(ticket_id, file.filename, file.content, _CONTENT_TYPE)
    if not desk.file_notifies:
        desk.comment(ticket_id, f"Attached {file.filename}.", public=False)


def attach_customer_logs(
    desk: Desk, sample: Sequence[_Planned], ids: Mapping[str, str]
) -> dict[str, DemoFile]:
    """Attach the customer's log to every third escalating ticket of `sample` at L1.

    `ids` names the L1 ticket of each log number. Return the attached files by log number.
    """
    attached: dict[str, DemoFile] = {}
    escalating = [planned for planned in sample if planned.escalates]
    for index, planned in enumerate(escalating):
        ticket_id = ids.get(planned.number)
        if ticket_id is None or not gets_customer_log(index):
            continue
        attached[planned.number] = customer_log(desk.read(ticket_id).key)
        attach(desk, ticket_id, attached[planned.number])
    return attached


def check_files(
    number: str, tickets: list[LinkedTicket], files: list[DemoFile], problems: list[str]
) -> Counter[Tier]:
    """Check that every ticket contains every file once, with its name and bytes.

    Return how many files were found as expected, per tier. Each missing file, extra copy
    (including a copy back on the ticket it was attached to) and file no agent attached is
    added to `problems`.
    """
    confirmed: Counter[Tier] = Counter()
    expected = {file.sha256 for file in files}
    for ticket in tickets:
        found = ticket.desk.attachments(ticket.ticket_id)
        where = f"{ticket.tier} {ticket.key}"
        for file in files:
            if _found_once(number, file, found, ticket, problems):
                confirmed[ticket.tier] += 1
        problems.extend(
            f"{number}: {where} has {item.filename!r}, which matches no attached file's bytes"
            for item in found
            if item.sha256 not in expected
        )
    return confirmed


def _found_once(
    number: str, file: DemoFile, found: list[Attached], ticket: LinkedTicket, problems: list[str]
) -> bool:
    """Say whether `found` contains `file` once under its name; add a problem if not."""
    same = [item for item in found if item.sha256 == file.sha256]
    where = f"{ticket.tier} {ticket.key}"
    if len(same) != 1:
        origin = " (the ticket it was attached to)" if ticket.tier is file.origin else ""
        problems.append(
            f"{number}: {file.filename!r} found {len(same)} times in {where}{origin}, "
            "expected once with the same SHA-256"
        )
        return False
    if same[0].filename != file.filename:
        problems.append(
            f"{number}: {file.filename!r} has the same bytes in {where} "
            f"but is named {same[0].filename!r}"
        )
        return False
    return True


def describe_file_counts(counts: Mapping[Tier, int], tiers: Mapping[Tier, str]) -> str:
    """Write the counts as the summaries print them: `5 files checked in L1 and 9 in L2, each once`.

    `tiers` names each tier to report, in order.
    """
    parts = [f"{counts.get(tier, 0)} in {name}" for tier, name in tiers.items()]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{listed.replace(' in ', ' files checked in ', 1)}, each once"
