"""Render stored records as the Table API sends them, for each `sysparm_display_value` mode.

* `false`: stored values; references are `{"link", "value"}`.
* `true`: display values (choice labels, referenced names, dates in the caller's time zone);
  references are `{"display_value", "link"}`.
* `all`: `{"display_value", "value"}` for every field, plus `link` on references.

`sysparm_exclude_reference_link=true` drops `link`, which turns references into plain strings
in the first two modes. Empty references are always `""` outside `all`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from tierbridge.emulators.servicenow.schema import FieldType, TableDef

if TYPE_CHECKING:
    from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = ["DisplayMode", "RenderOptions", "render_record"]

DisplayMode = Literal["false", "true", "all"]
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_JOURNAL_LABELS = {"comments": "Additional comments", "work_notes": "Work notes"}


@dataclass(frozen=True)
class RenderOptions:
    """Rendering options from the request, plus the caller's time zone for display values."""

    display: DisplayMode
    exclude_link: bool
    fields: Sequence[str] | None
    base_url: str
    zone: ZoneInfo


def _local_time(value: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.strptime(value, _DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return value
    return moment.astimezone(zone).strftime(_DATETIME_FORMAT)


def _journal_text(
    state: ServiceNowState, record: Mapping[str, str], element: str, zone: ZoneInfo
) -> str:
    """Concatenate a record's journal entries newest first, each under a header line."""
    entries = [e for e in state.journal(record.get("sys_id", "")) if e["element"] == element]
    blocks = []
    for entry in reversed(entries):
        author = state.user_by_name(entry["sys_created_by"])
        name = author["name"] if author else entry["sys_created_by"]
        when = _local_time(entry["sys_created_on"], zone)
        blocks.append(f"{when} - {name} ({_JOURNAL_LABELS[element]})\n{entry['value']}\n\n")
    return "".join(blocks)


def _display(
    state: ServiceNowState,
    definition: TableDef,
    name: str,
    value: str,
    record: Mapping[str, str],
    zone: ZoneInfo,
) -> str:
    kind = definition.fields[name].type
    if kind is FieldType.JOURNAL:
        return _journal_text(state, record, name, zone)
    if kind is FieldType.DATETIME:
        return _local_time(value, zone)
    return state.display_value(definition.name, name, value)


def _render_field(
    state: ServiceNowState,
    definition: TableDef,
    name: str,
    value: str,
    record: Mapping[str, str],
    options: RenderOptions,
) -> Any:
    field = definition.fields[name]
    mode = options.display
    display = (
        "" if mode == "false" else _display(state, definition, name, value, record, options.zone)
    )
    if field.type is FieldType.JOURNAL:
        value = ""

    is_link = field.type is FieldType.REFERENCE and value != "" and not options.exclude_link
    link = f"{options.base_url}/api/now/table/{field.reference}/{value}"
    if mode == "all":
        pair = {"display_value": display, "value": value}
        return {**pair, "link": link} if is_link else pair
    shown = value if mode == "false" else display
    if not is_link:
        return shown
    key = "value" if mode == "false" else "display_value"
    return {"link": link, key: shown} if mode == "false" else {key: shown, "link": link}


def render_record(
    state: ServiceNowState, table: str, record: Mapping[str, str], options: RenderOptions
) -> dict[str, Any]:
    """Render one record; `options.fields` may name dot-walked fields, unknown ones are left out."""
    names = options.fields if options.fields else list(state.table(table).fields)
    rendered: dict[str, Any] = {}
    for path in names:
        found = state.walk(table, record, path)
        if found is None:
            continue
        definition, name, value = found
        # Journal text needs the record that owns the field; dot-walked journals render empty.
        source = record if definition.name == table else {}
        rendered[path] = _render_field(state, definition, name, value, source, options)
    return rendered
