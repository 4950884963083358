"""Steps of the write pipeline that `ServiceNowState` runs for every insert and update."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tierbridge.emulators.servicenow.envelope import api_error
from tierbridge.emulators.servicenow.rules import apply_case_rules, apply_incident_rules
from tierbridge.emulators.servicenow.schema import CHOICES, TABLES, FieldDef, FieldType, TableDef

if TYPE_CHECKING:
    from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = [
    "apply_rules",
    "attachment_row",
    "changed_fields",
    "check_attachment_size",
    "journal_row",
    "new_record",
    "split_input",
    "stamp",
    "user_zone",
]

_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_SYSTEM_FIELDS = frozenset(
    {
        "sys_id",
        "sys_created_on",
        "sys_created_by",
        "sys_updated_on",
        "sys_updated_by",
        "sys_mod_count",
    }
)

#: Business rules per table: (record, previous state, acting user's sys_id, now).
_RULES: dict[str, Callable[..., None]] = {
    "incident": apply_incident_rules,
    "sn_customerservice_case": apply_case_rules,
}


def user_zone(state: ServiceNowState, user: str) -> ZoneInfo:
    """Return the time zone of a user_name; unknown users and zones fall back to GMT."""
    found = state.user_by_name(user)
    try:
        return ZoneInfo((found or {}).get("time_zone") or "GMT")
    except ZoneInfoNotFoundError:
        return ZoneInfo("GMT")


def _user_id(state: ServiceNowState, user: str) -> str:
    found = state.user_by_name(user)
    return found["sys_id"] if found else ""


def new_record(state: ServiceNowState, definition: TableDef, user: str) -> dict[str, str]:
    """Return an unsaved record with defaults, a sys_id, a number and the creation stamps."""
    now = state.now_text()
    record = {name: "" for name in definition.fields}
    record.update(definition.defaults)
    record.update(sys_id=state.new_guid(), sys_created_on=now, sys_created_by=user)
    if definition.number_prefix:
        record["number"] = state.next_number(definition)
    if "opened_at" in definition.fields:
        record.update(opened_at=now, opened_by=_user_id(state, user))
    return record


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, dict):
        return _as_text(raw.get("value"))
    return str(raw)


def _from_display(
    state: ServiceNowState, table: str, name: str, field: FieldDef, text: str, zone: ZoneInfo
) -> str:
    """Turn a display value into a stored value; values that match nothing are kept as sent."""
    if text == "":
        return text
    if field.type is FieldType.CHOICE:
        labels = {label: value for value, label in CHOICES.get((table, name), ())}
        return labels.get(text, text)
    if field.type is FieldType.REFERENCE and field.reference in TABLES:
        display_field = TABLES[field.reference].display_field
        rows = state.rows(field.reference)
        return next((row["sys_id"] for row in rows if row[display_field] == text), text)
    if field.type is FieldType.DATETIME:
        try:
            local = datetime.strptime(text, _DATETIME_FORMAT).replace(tzinfo=zone)
        except ValueError:
            return text
        return local.astimezone(UTC).strftime(_DATETIME_FORMAT)
    return text


def split_input(
    state: ServiceNowState,
    definition: TableDef,
    values: Mapping[str, Any],
    user: str,
    display_input: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """Split a request body into stored field values and journal entries to append.

    Unknown and read-only fields are ignored, as instances do. JSON numbers and booleans are
    stored as their string forms.
    """
    zone = user_zone(state, user)
    inputs: dict[str, str] = {}
    journal: dict[str, str] = {}
    for name, raw in values.items():
        field = definition.fields.get(name)
        if field is None or field.read_only:
            continue
        text = _as_text(raw)
        if field.type is FieldType.JOURNAL:
            if text.strip():
                journal[name] = text
            continue
        if display_input:
            text = _from_display(state, definition.name, name, field, text, zone)
        inputs[name] = text
    return inputs, journal


def apply_rules(
    state: ServiceNowState,
    definition: TableDef,
    record: MutableMapping[str, str],
    previous: Mapping[str, str] | None,
    user: str,
) -> None:
    """Run the table's business rules, if it has any."""
    rule = _RULES.get(definition.name)
    if rule is None:
        return
    previous_state = previous.get("state") if previous is not None else None
    rule(record, previous_state, user_id=_user_id(state, user), now=state.now_text())


def changed_fields(
    definition: TableDef,
    record: Mapping[str, str],
    previous: Mapping[str, str] | None,
    journal: Mapping[str, str],
) -> tuple[str, ...]:
    """List the fields that differ from before (from empty on insert), in dictionary order."""
    before = previous or {}
    return tuple(
        name
        for name in definition.fields
        if name not in _SYSTEM_FIELDS
        and (name in journal or record.get(name, "") != before.get(name, ""))
    )


def stamp(
    state: ServiceNowState,
    record: MutableMapping[str, str],
    previous: Mapping[str, str] | None,
    user: str,
) -> None:
    """Set sys_updated_on/by and count the update in sys_mod_count."""
    record["sys_updated_on"] = state.now_text()
    record["sys_updated_by"] = user
    count = int(previous.get("sys_mod_count") or "0") + 1 if previous is not None else 0
    record["sys_mod_count"] = str(count)


def journal_row(
    definition: TableDef, record: Mapping[str, str], element: str, text: str
) -> dict[str, str]:
    """Build the sys_journal_field row for one comment or work note."""
    return {
        "element": element,
        "element_id": record["sys_id"],
        "name": definition.name,
        "value": text,
    }


def attachment_row(
    table: str, sys_id: str, file_name: str, content: bytes, content_type: str
) -> dict[str, str]:
    """Build the sys_attachment row of a file attached to record `sys_id` of `table`.

    The documented responses show compressed files with a `size_compressed`. The emulator
    stores files as they are, so `compressed` is always false.
    """
    return {
        "file_name": file_name,
        "content_type": content_type,
        "size_bytes": str(len(content)),
        "size_compressed": "",
        "compressed": "false",
        "table_name": table,
        "table_sys_id": sys_id,
    }


def check_attachment_size(size: int, max_bytes: int) -> None:
    """Raise the 400 error of an upload larger than `com.glide.attachment.max_size`.

    NOTE: the Attachment API documentation says that uploads respect this property. It does
    not show the refusal, so the status and wording here are the emulator's own.
    """
    if size <= max_bytes:
        return
    limit_mb = max_bytes / (1024 * 1024)
    detail = (
        f"File size of {size} bytes exceeds the maximum attachment size of {limit_mb:g} MB "
        "(com.glide.attachment.max_size)"
    )
    raise api_error(400, "Failed to create the attachment", detail)
