"""Write stored rows as Web API JSON: `@odata.etag`, values, lookups and instance annotations.

Lookups appear as `_<column>_value` (the GUID). With `Prefer: odata.include-annotations`,
choices, booleans, date-times and lookups get a `FormattedValue` label, and lookups also
their target table (`lookuplogicalname`) and navigation property. Labels are for display:
they follow the emulator's fixed English locale and UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tierbridge.emulators.dynamics.expand import Expansion
from tierbridge.emulators.dynamics.prefer import Preferences
from tierbridge.emulators.dynamics.schema import BINDINGS, OPTION_LABELS, Kind, Table
from tierbridge.emulators.dynamics.state import DynamicsState, Row
from tierbridge.emulators.dynamics.values import Ref, wire_value

__all__ = ["FORMATTED", "LOGICAL_NAME", "NAVIGATION", "RenderOptions", "etag", "render_row"]

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


@dataclass(frozen=True)
class RenderOptions:
    """Output options: the selected query names (None: all), expansions and preferences."""

    select: Sequence[str] | None = None
    expand: Sequence[Expansion] = ()
    prefer: Preferences = field(default_factory=Preferences)


def etag(row: Row) -> str:
    """Return the weak ETag of a row, `W/"<versionnumber>"`."""
    return f'W/"{row["versionnumber"]}"'


def _query_name(table: Table, column: str) -> str:
    return f"_{column}_value" if table.columns[column].kind is Kind.LOOKUP else column


def _label(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    hour = utc.hour % 12 or 12
    return f"{utc.month}/{utc.day}/{utc.year} {hour}:{utc.minute:02d} {'AM' if utc.hour < 12 else 'PM'}"


def _navigation(table: Table, column: str, ref: Ref) -> str | None:
    for name, binding in BINDINGS.get(table.logical_name, {}).items():
        if binding.column == column and ref.table in binding.targets:
            return name
    return column if column in ("createdby", "modifiedby") else None


def _annotations(
    state: DynamicsState, table: Table, column: str, value: Any, prefer: Preferences
) -> dict[str, Any]:
    """Return the instance annotations of one value that the request asked for."""
    if value is None:
        return {}
    found: dict[str, Any] = {}
    if isinstance(value, Ref):
        found[FORMATTED] = state.primary_name(value)
        found[LOGICAL_NAME] = value.table
        found[NAVIGATION] = _navigation(table, column, value)
    elif isinstance(value, bool):
        found[FORMATTED] = "Yes" if value else "No"
    elif isinstance(value, datetime):
        found[FORMATTED] = _label(value)
    elif (table.logical_name, column) in OPTION_LABELS:
        found[FORMATTED] = OPTION_LABELS[(table.logical_name, column)].get(value)
    return {name: text for name, text in found.items() if prefer.wants_annotation(name)}


def _columns(table: Table, select: Sequence[str] | None) -> list[str]:
    if select is None:
        return list(table.columns)
    chosen = [
        name[1:-6] if name.startswith("_") and name.endswith("_value") else name for name in select
    ]
    return [table.primary_id, *(name for name in chosen if name != table.primary_id)]


def render_row(
    state: DynamicsState, table: Table, row: Row, options: RenderOptions
) -> dict[str, Any]:
    """Write one row as the Web API returns it in a collection or single-row response."""
    rendered: dict[str, Any] = {}
    if "versionnumber" in table.columns:
        rendered["@odata.etag"] = etag(row)
    for column in _columns(table, options.select):
        name = _query_name(table, column)
        value = row.get(column)
        rendered[name] = wire_value(value)
        for annotation, text in _annotations(state, table, column, value, options.prefer).items():
            rendered[f"{name}@{annotation}"] = text
    for expansion in options.expand:
        rendered[expansion.name] = _expanded(state, row, expansion, options.prefer)
    return rendered


def _expanded(
    state: DynamicsState, row: Row, expansion: Expansion, prefer: Preferences
) -> dict[str, Any] | None:
    ref = row.get(expansion.binding.column)
    if not isinstance(ref, Ref) or ref.table not in expansion.binding.targets:
        return None
    target_row = state.get(ref.table, ref.id)
    if target_row is None:
        return None
    target = state.table_of(ref.table)
    return render_row(state, target, target_row, RenderOptions(expansion.select, (), prefer))
