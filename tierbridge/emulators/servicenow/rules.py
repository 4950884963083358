"""The incident business rules and data policy that a base ServiceNow instance applies on write.

They run on the merged record (stored values plus the written ones) before it is saved.

NOTE: not emulated: the `hold_reason` that On Hold requires, and the read-only state of
Closed incidents. Both pass here but may be refused by an instance.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from tierbridge.emulators.servicenow.envelope import api_error

__all__ = ["PRIORITY_MATRIX", "apply_case_rules", "apply_incident_rules", "derive_priority"]

#: Priority Lookup Rules of the base system: (impact, urgency) -> priority.
PRIORITY_MATRIX: dict[tuple[str, str], str] = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}

RESOLVED = "6"
CLOSED = "7"
CANCELED = "8"
_INACTIVE_STATES = frozenset({RESOLVED, CLOSED, CANCELED})


def derive_priority(impact: str, urgency: str) -> str:
    """Look up the priority of an impact and urgency; unknown pairs get the lowest, 5."""
    return PRIORITY_MATRIX.get((impact, urgency), "5")


def _check_data_policy(record: MutableMapping[str, str]) -> None:
    if record.get("state") != RESOLVED:
        return

    missing = [
        label
        for name, label in (("close_code", "Resolution code"), ("close_notes", "Resolution notes"))
        if not record.get(name)
    ]
    if missing:
        detail = "Data Policy Exception: \n\tThe following fields are mandatory: " + ", ".join(
            missing
        )
        raise api_error(403, "Operation Failed", detail + "\n")


def apply_incident_rules(
    record: MutableMapping[str, str], previous_state: str | None, *, user_id: str, now: str
) -> None:
    """Derive priority, mirror the state, set the closure stamps and enforce the data policy.

    `previous_state` is None on insert. Raises the 403 data-policy HTTPException when the
    record is resolved without `close_code` and `close_notes`.
    """
    record["priority"] = derive_priority(record.get("impact", ""), record.get("urgency", ""))
    state = record.get("state") or "1"
    record["state"] = state
    record["incident_state"] = state
    record["active"] = "false" if state in _INACTIVE_STATES else "true"

    _check_data_policy(record)

    if state == previous_state:
        return
    if state in (RESOLVED, CLOSED) and not record.get("resolved_at"):
        record["resolved_at"] = now
        record["resolved_by"] = user_id
    if state == CLOSED:
        record["closed_at"] = now
        record["closed_by"] = user_id
    if previous_state in _INACTIVE_STATES and state not in _INACTIVE_STATES:
        record["resolved_at"] = ""
        record["resolved_by"] = ""
        record["reopen_count"] = str(int(record.get("reopen_count") or "0") + 1)


CASE_RESOLVED = "6"
CASE_CLOSED = "3"
CASE_CANCELLED = "7"
_CASE_INACTIVE = frozenset({CASE_RESOLVED, CASE_CLOSED, CASE_CANCELLED})


def apply_case_rules(
    record: MutableMapping[str, str], previous_state: str | None, *, user_id: str, now: str
) -> None:
    """Set `active` and the closure stamps of a CSM case, and require a resolution to resolve.

    NOTE: resolving through the case form asks for a resolution code and notes; whether a
    Table API write without them is refused depends on the instance's policies. The emulator
    refuses it, as the incident data policy does.
    """
    state = record.get("state") or "1"
    record["state"] = state
    record["active"] = "false" if state in _CASE_INACTIVE else "true"
    if state == CASE_RESOLVED:
        missing = [
            label
            for name, label in (
                ("resolution_code", "Resolution code"),
                ("close_notes", "Resolution notes"),
            )
            if not record.get(name)
        ]
        if missing:
            detail = "Data Policy Exception: \n\tThe following fields are mandatory: " + ", ".join(
                missing
            )
            raise api_error(403, "Operation Failed", detail + "\n")

    if state == previous_state:
        return
    if state in (CASE_RESOLVED, CASE_CLOSED) and not record.get("resolved_at"):
        record["resolved_at"] = now
        record["resolved_by"] = user_id
    if state == CASE_CLOSED:
        record["closed_at"] = now
        record["closed_by"] = user_id
    if previous_state in _CASE_INACTIVE and state not in _CASE_INACTIVE:
        record["resolved_at"] = ""
        record["resolved_by"] = ""
        record["reopen_count"] = str(int(record.get("reopen_count") or "0") + 1)
