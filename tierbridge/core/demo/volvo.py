"""Read the BPI Challenge 2013 Volvo IT incident log shipped in `data/` into `CaseLog`s.

The log (VINST system, 1st to 3rd support lines) has one row per status change of a
service request, with its support team (`Involved ST`), the team's line (`ST Level`), the
impact, the product and the country. It names no customer, so replayed tickets carry no
reporter. Rows of one request are contiguous and in time order.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tierbridge.core.demo.cases import CaseLog, CaseUpdate, TicketValues
from tierbridge.core.model import Priority, Status

__all__ = ["VOLVO_PATH", "read_volvo"]

#: The project's copy of the log; `data/README.md` gives its origin and terms.
VOLVO_PATH = (
    Path(__file__).resolve().parents[3]
    / "data"
    / "bpic2013-volvo-incidents"
    / "vinst-incidents.csv.gz"
)

#: `SR Latest Impact` as a canonical priority.
_PRIORITY = {"Major": Priority.P1, "High": Priority.P2, "Medium": Priority.P3, "Low": Priority.P4}
#: (Status, Sub Status) as a canonical status; a `Wait` sub status is pending.
_STATUS = {
    "Queued": Status.NEW,
    "Accepted": Status.IN_PROGRESS,
    "Completed": Status.RESOLVED,
}
_COMPLETED = {"Closed": Status.CLOSED, "Cancelled": Status.CANCELED}
_WAITING_ON_CUSTOMER = {"Wait - User", "Wait - Customer"}


def _status(status: str, sub_status: str) -> Status:
    if status == "Completed":
        return _COMPLETED.get(sub_status, Status.RESOLVED)
    if sub_status.startswith("Wait"):
        return Status.PENDING
    return _STATUS.get(status, Status.IN_PROGRESS)


def _update(row: dict[str, str], first: dict[str, str]) -> CaseUpdate:
    """One row as an update; the title and description come from the request's first row."""
    status = _status(row["Status"], row["Sub Status"])
    team = row["Involved ST"] or None
    values = TicketValues(
        title=f"Problem with {first['Product']} reported in {first['Owner Country']}",
        description=(
            f"Service request {first['SR Number']} for product {first['Product']}, "
            f"first handled by team {first['Involved ST']} ({first['Involved Org line 3']})."
        ),
        priority=_PRIORITY.get(row["SR Latest Impact"], Priority.P3),
        status=status,
        group=team,
        resolution_notes=(
            f"{row['Sub Status']} by {row['Owner First Name']}." if status.is_final else None
        ),
    )
    return CaseUpdate(
        at=datetime.fromisoformat(row["Change Date+Time"]),
        values=values,
        team=team,
        line=row["ST Level"] or None,
        waiting_on_customer=row["Sub Status"] in _WAITING_ON_CUSTOMER,
    )


def _log(rows: list[dict[str, str]]) -> CaseLog:
    usable = [row for row in rows if row["Status"] != "Unmatched"]
    return CaseLog(rows[0]["SR Number"], tuple(_update(row, rows[0]) for row in usable))


def read_volvo(path: Path = VOLVO_PATH) -> Iterator[CaseLog]:
    """Yield each service request's log in file order."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        current: list[dict[str, str]] = []
        for row in csv.DictReader(handle):
            if current and current[0]["SR Number"] != row["SR Number"]:
                yield _log(current)
                current = []
            current.append(row)
        if current:
            yield _log(current)
