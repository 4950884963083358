"""Field paths in SOQL: resolve `Rel.Field` against the schema and read it from a record.

Field and relationship names are case-insensitive, as in SOQL. A relationship is the name
of a lookup field without its `Id` suffix (`CreatedBy` for `CreatedById`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tierbridge.emulators.salesforce.schema import (
    OBJECTS,
    FieldDef,
    FieldType,
    ObjectDef,
    relationship_field,
)
from tierbridge.emulators.salesforce.soql_syntax import FieldPath, SoqlError

__all__ = [
    "Record",
    "RecordSource",
    "Step",
    "find_field",
    "format_datetime",
    "invalid_field",
    "read_path",
    "render_field",
    "render_value",
    "resolve_path",
]

Record = dict[str, Any]


class RecordSource(Protocol):
    """The record store the evaluator reads: the emulator's state."""

    def find(self, record_id: str) -> tuple[ObjectDef, Record] | None:
        """Return the object type and record of any id, deleted ones included."""

    def rows(self, object_name: str, *, include_deleted: bool) -> list[Record]:
        """Return every record of one object type, in creation order."""


def format_datetime(moment: datetime) -> str:
    """Write a date-time as the REST API does: UTC, milliseconds, `+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def render_value(value: Any) -> Any:
    """Convert a stored value to its JSON form."""
    return format_datetime(value) if isinstance(value, datetime) else value


def render_field(definition: ObjectDef, record: Record, field: FieldDef, version: str) -> Any:
    """Return a field's JSON value; a blob field gives the path that serves its bytes."""
    value = record.get(field.name)
    if field.type is FieldType.BASE64 and value is not None:
        return f"/services/data/v{version}/sobjects/{definition.name}/{record['Id']}/{field.name}"
    return render_value(value)


def invalid_field(message: str) -> SoqlError:
    """Build the INVALID_FIELD error of a query naming a field the schema does not have."""
    return SoqlError("INVALID_FIELD", message)


def find_field(definition: ObjectDef, name: str) -> FieldDef | None:
    """Return the field of this name in any case, or None."""
    wanted = name.lower()
    return next((item for key, item in definition.fields.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Step:
    """One hop of a field path: the lookup field followed, and the relationship name."""

    field: FieldDef
    relationship: str


def resolve_path(definition: ObjectDef, path: FieldPath) -> tuple[list[Step], FieldDef]:
    """Check a path against the schema; return its hops and the final field."""
    steps: list[Step] = []
    current = definition
    for hop in path.parts[:-1]:
        named = find_field(current, f"{hop}Id")
        lookup = relationship_field(current, named.name[:-2]) if named is not None else None
        if lookup is None:
            raise invalid_field(
                f"Didn't understand relationship '{hop}' in field path. "
                "If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name."
            )
        steps.append(Step(lookup, lookup.name[:-2]))
        current = OBJECTS[lookup.reference_to[0]]
    final = find_field(current, path.parts[-1])
    if final is None and steps:
        targets = [OBJECTS[name] for name in steps[-1].field.reference_to]
        final = next((f for t in targets if (f := find_field(t, path.parts[-1])) is not None), None)
    if final is None:
        raise invalid_field(f"No such column '{path.text}' on entity '{definition.name}'.")
    return steps, final


def read_path(source: RecordSource, record: Record, steps: list[Step], final: FieldDef) -> Any:
    """Return a resolved path's value in `record`; an empty lookup on the way gives None."""
    current: Record | None = record
    for step in steps:
        target_id = current.get(step.field.name) if current is not None else None
        found = source.find(target_id) if target_id else None
        current = found[1] if found is not None else None
    return current.get(final.name) if current is not None else None
