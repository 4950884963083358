"""The platform rules the emulator enforces on writes, with the errors Dataverse gives.

* A case needs a customer (account or contact) and gets a `ticketnumber` on create.
* `statecode` and `statuscode` must form a pair of the status metadata. A status reason
  given alone must belong to the case's current state.
* A case is resolved only by the CloseIncident action; an update setting `statecode` 1 is
  rejected. A resolved or cancelled case is read-only until it is reactivated
  (`statecode` 0), which an update may do.
* A note's file must fit the organisation's upload limit (`documents.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tierbridge.emulators.dynamics.documents import check_document
from tierbridge.emulators.dynamics.envelope import INVALID_ARGUMENT, odata_error
from tierbridge.emulators.dynamics.schema import INCIDENT_STATUS, STATE_LABELS, Table
from tierbridge.emulators.dynamics.values import Ref

if TYPE_CHECKING:
    from tierbridge.emulators.dynamics.state import DynamicsState, Row

__all__ = ["check_close", "on_create", "on_update"]

_DEFAULT_PRIORITY = 2


def _invalid(message: str) -> Exception:
    return odata_error(400, INVALID_ARGUMENT, message)


def _pair(statecode: int, statuscode: int | None) -> int:
    """Return the status reason for a state: the given one if it belongs, else raise."""
    if statecode not in STATE_LABELS:
        raise _invalid(f"{statecode} is not a valid state code on incident.")
    if statuscode is None:
        return STATE_LABELS[statecode][1]
    owner = INCIDENT_STATUS.get(statuscode, (None, ""))[0]
    if owner != statecode:
        raise _invalid(
            f"{statuscode} is not a valid status code for state code IncidentState.{STATE_LABELS[statecode][0]} on incident."
        )
    return statuscode


def on_create(state: DynamicsState, table: Table, row: Row, user: Ref) -> None:
    """Fill defaults and check a new row before it is stored."""
    if table.logical_name == "annotation":
        row["objecttypecode"] = "incident" if row.get("objectid") is not None else None
        row["isdocument"] = bool(row.get("isdocument"))
        check_document(row, state.max_upload_file_size)
        return
    if table.logical_name != "incident":
        return

    if row.get("customerid") is None:
        raise _invalid("You should specify a parent contact or account.")
    statecode = row.get("statecode")
    if statecode not in (None, 0):
        raise _invalid("A case can only be created in the Active state.")
    row["statecode"] = 0
    row["statuscode"] = _pair(0, row.get("statuscode"))
    row["ticketnumber"] = state.next_case_number()
    if row.get("prioritycode") is None:
        row["prioritycode"] = _DEFAULT_PRIORITY
    if row.get("ownerid") is None:
        row["ownerid"] = user
    if row.get("isescalated") is None:
        row["isescalated"] = False


def _on_note_update(
    state: DynamicsState, current: Mapping[str, Any], changes: dict[str, Any]
) -> None:
    if "documentbody" not in changes:
        return
    merged = {**current, **changes}
    check_document(merged, state.max_upload_file_size)
    changes.update(filesize=merged["filesize"], isdocument=merged["isdocument"])


def on_update(
    state: DynamicsState, table: Table, current: Mapping[str, Any], changes: dict[str, Any]
) -> None:
    """Check an update before it is stored.

    A case is checked against its state and gets the status reason of a new state. A note's
    new file is checked against the upload limit.
    """
    if table.logical_name == "annotation":
        _on_note_update(state, current, changes)
        return
    if table.logical_name != "incident":
        return
    current_state = int(current["statecode"])
    new_state = changes.get("statecode", current_state)
    if new_state is None:
        raise _invalid("statecode cannot be null on incident.")

    if new_state == 1 and current_state != 1:
        msg = (
            "This message can not be used to set the state of incident to Resolved. "
            "In order to set state of incident to Resolved, use the CloseIncidentRequest "
            "message instead."
        )
        raise _invalid(msg)
    if current_state != 0 and new_state != 0:
        label = STATE_LABELS[current_state][0].lower()
        msg = f"This case is {label} and cannot be changed until it is reactivated."
        raise _invalid(msg)

    if "statecode" in changes or "statuscode" in changes:
        given = changes.get("statuscode")
        if "statecode" not in changes and given is None:
            raise _invalid("statuscode cannot be null on incident.")
        changes["statuscode"] = _pair(int(new_state), given)
        changes["statecode"] = new_state


def check_close(
    state: DynamicsState, resolution: Mapping[str, Any], status: int
) -> tuple[str, int]:
    """Check a CloseIncident request; return the case id and the status reason to set."""
    target = resolution.get("incidentid")
    if not isinstance(target, Ref):
        raise _invalid("IncidentResolution needs incidentid@odata.bind naming the case.")
    case = state.require("incident", target.id)
    if case["statecode"] != 0:
        label = STATE_LABELS[int(case["statecode"])][0].lower()
        raise _invalid(f"The case is already {label}; reactivate it before resolving it.")
    statuscode = STATE_LABELS[1][1] if status == -1 else status
    if INCIDENT_STATUS.get(statuscode, (None, ""))[0] != 1:
        allowed = ", ".join(str(c) for c, (s, _) in INCIDENT_STATUS.items() if s == 1)
        raise _invalid(
            f"Status {status} is not a Resolved status reason; use one of {allowed} or -1."
        )
    return target.id, statuscode
