"""Turn flat native field values into Jira write payloads and pick workflow transitions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tierbridge.connectors.jira.adf import text_to_adf
from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.core.errors import RejectedError

__all__ = [
    "TRANSITION_ONLY",
    "edit_payload",
    "lone_resolution",
    "pick_transition",
    "transition_fields",
]

#: Fields a plain edit leaves out. The status changes only by a transition. The resolution
#: goes with that transition, or alone in an edit where the edit screen contains the field
#: (`lone_resolution`). An edit that names a field missing from the screen fails with 400.
TRANSITION_ONLY = frozenset({"status", "resolution"})
_PLAIN = frozenset({"summary", "labels"})


def edit_payload(
    fields: Mapping[str, Any],
    settings: JiraSettings,
    account_id: Callable[[str, str], str],
    where: dict[str, Any],
) -> dict[str, Any]:
    """Return the `fields` object of one `PUT /issue` for every non-transition field.

    `account_id(field, email)` looks up the account of an assignee or reporter.
    """
    payload: dict[str, Any] = {}
    for name, value in fields.items():
        if name in TRANSITION_ONLY:
            continue
        if name == "description":
            payload[name] = text_to_adf(value) if value else None
        elif name == "priority":
            payload[name] = {"name": value} if value is not None else None
        elif name in ("assignee", "reporter"):
            payload[name] = {"accountId": account_id(name, value)} if value else None
        elif name == settings.category_field:
            payload[name] = {"value": value} if value is not None else None
        elif name == "labels":
            payload[name] = list(value or [])
        elif name in _PLAIN or name.startswith("customfield_"):
            payload[name] = value
        else:
            writable = "summary, description, priority, assignee, reporter, labels, status, "
            msg = f"field {name!r} cannot be written; writable: {writable}customfield_*"
            raise RejectedError(msg, **where)
    return payload


def lone_resolution(
    resolution: str | None,
    screen: Mapping[str, Any],
    settings: JiraSettings,
    where: dict[str, Any],
) -> dict[str, Any] | None:
    """Return the edit value that sets `resolution` on an issue whose status stays as it is.

    `screen` is the issue's edit screen (the `fields` of `GET .../editmeta`). Jira answers 400
    to a resolution in an edit unless the screen contains the Resolution field, so without
    the field RejectedError is raised, naming the fix. None clears the resolution.
    """
    if "resolution" not in screen:
        target = repr(resolution) if resolution else "none"
        msg = (
            f"cannot change the resolution to {target} without a status change, because the "
            "Resolution field is not on the issue's edit screen; add the Resolution field to "
            f"the edit screen of project {settings.project} so that tierbridge can change it"
        )
        raise RejectedError(msg, **where)
    return {"name": resolution} if resolution else None


def pick_transition(
    transitions: Sequence[Mapping[str, Any]], target: str
) -> Mapping[str, Any] | None:
    """Return the available transition whose target status is named `target`, if any."""
    target_name = target.casefold()
    for transition in transitions:
        if str(transition.get("to", {}).get("name", "")).casefold() == target_name:
            return transition
    return None


def transition_fields(
    transition: Mapping[str, Any],
    resolution: str | None,
    default_resolution: str,
    where: dict[str, Any],
) -> dict[str, Any]:
    """Return the fields a transition's screen needs: the resolution, when asked or given."""
    screen: Mapping[str, Any] = transition.get("fields") or {}
    values: dict[str, Any] = {}
    missing = []
    for key, meta in screen.items():
        if key == "resolution":
            if meta.get("required") or resolution:
                values["resolution"] = {"name": resolution or default_resolution}
        elif meta.get("required") and not meta.get("hasDefaultValue"):
            missing.append(key)
    if missing:
        msg = (
            f"transition {transition.get('name')!r} requires fields the connector cannot fill: "
            f"{', '.join(sorted(missing))}; remove them from the transition screen"
        )
        raise RejectedError(msg, **where)
    return values
