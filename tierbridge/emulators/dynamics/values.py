"""Column values: how request JSON is checked and stored, and how stored values are written out.

Stored values are Python types: `str`, `int`, `bool`, aware UTC `datetime`, `date` and `Ref`
for lookups. On the wire, date-times are `2024-05-01T07:15:42Z` (no fraction) and date-only
columns (`Edm.Date`) are plain `2024-05-01`; a date-time sent to a date-only column is a 400.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tierbridge.emulators.dynamics.envelope import INVALID_ARGUMENT, NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.schema import OPTION_LABELS, Column, Kind

__all__ = ["Ref", "format_datetime", "parse_guid", "parse_value", "wire_value"]

_WIRE_DATETIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Ref:
    """A stored lookup value: the target table's logical name and the row's id."""

    table: str
    id: str


def format_datetime(moment: datetime) -> str:
    """Format an aware datetime as the Web API does: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime(_WIRE_DATETIME)


def parse_guid(text: str) -> str | None:
    """Return the canonical lower-case form of a GUID, or None if `text` is not one."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None


def _type_error(table: str, name: str, column: Column, raw: Any) -> Exception:
    msg = (
        f"Cannot convert the literal '{raw}' to the expected type '{column.kind.value}' "
        f"for property '{name}' of 'Microsoft.Dynamics.CRM.{table}'."
    )
    return odata_error(400, NOT_FOUND_SEGMENT, msg)


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _parse_date(text: str) -> date:
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def _parse_option(table: str, name: str, raw: Any) -> int:
    labels = OPTION_LABELS.get((table, name))
    if labels is not None and raw not in labels:
        msg = (
            f"A validation error occurred. The value {raw} of '{name}' on record of type "
            f"'{table}' is outside the valid range."
        )
        raise odata_error(400, INVALID_ARGUMENT, msg)
    return int(raw)


def parse_value(table: str, name: str, column: Column, raw: Any) -> Any:
    """Check a request value against the column's type and return it in stored form."""
    if raw is None:
        return None
    kind = column.kind
    try:
        if kind is Kind.STRING and isinstance(raw, str):
            return raw
        if kind is Kind.BOOLEAN and isinstance(raw, bool):
            return raw
        if kind in (Kind.INTEGER, Kind.BIGINT) and type(raw) is int:
            return raw
        if kind is Kind.PICKLIST and type(raw) is int:
            return _parse_option(table, name, raw)
        if kind is Kind.DATETIME and isinstance(raw, str):
            return _parse_datetime(raw)
        if kind is Kind.DATE and isinstance(raw, str):
            return _parse_date(raw)
        if kind is Kind.GUID and isinstance(raw, str) and parse_guid(raw):
            return parse_guid(raw)
    except ValueError:
        pass
    raise _type_error(table, name, column, raw)


def wire_value(value: Any) -> Any:
    """Return a stored value as the Web API writes it in JSON."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Ref):
        return value.id
    return value
