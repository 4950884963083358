"""Check written values against the schema and apply the rules an org runs on save.

Every failing field adds one entry to the 400 error array, as the REST API reports a
rejected write. Picklist values are checked against restricted picklists and references
against the objects they may point to. Lengths are checked against the field length, in
UTF-8 bytes for text areas and in characters otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from tierbridge.emulators.salesforce import files
from tierbridge.emulators.salesforce.errors import FieldError, errors_response
from tierbridge.emulators.salesforce.fieldpaths import Record, find_field
from tierbridge.emulators.salesforce.ids import canonical_id
from tierbridge.emulators.salesforce.schema import FieldDef, FieldType, ObjectDef

__all__ = ["apply_rules", "check_values"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEXT = {FieldType.STRING, FieldType.TEXTAREA, FieldType.EMAIL, FieldType.PICKLIST}

#: Finds a record of any type by its 18-character id: (object name, record) or None.
Finder = Callable[[str], tuple[str, Record] | None]


def _coerce(field: FieldDef, raw: Any, find: Finder) -> tuple[Any, FieldError | None]:
    """Return the stored form of one value, or the error entry it causes."""
    name = field.name
    if raw is None:
        if not field.nillable:
            return None, (
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{name}]",
                [name],
            )
        return None, None
    if field.type is FieldType.BOOLEAN:
        if not isinstance(raw, bool):
            message = f"Cannot deserialize instance of boolean from {type(raw).__name__} value"
            return None, ("JSON_PARSER_ERROR", message, [name])
        return raw, None
    if field.type is FieldType.REFERENCE:
        return _reference(field, raw, find)
    if field.type is FieldType.BASE64:
        return files.decode_version_data(raw)
    if field.type in _TEXT:
        return _text(field, raw)
    return None, ("INVALID_FIELD", f"Unable to write field {name}", [name])


def _text(field: FieldDef, raw: Any) -> tuple[Any, FieldError | None]:
    name = field.name
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None, ("JSON_PARSER_ERROR", f"Cannot deserialize {name} from a JSON object", [name])
    text = str(raw)
    size = len(text.encode("utf-8")) if field.type is FieldType.TEXTAREA else len(text)
    if field.length is not None and size > field.length:
        message = f"{name}: data value too large (max length={field.length})"
        return None, ("STRING_TOO_LONG", message, [name])
    if field.type is FieldType.PICKLIST and text not in {v.value for v in field.picklist}:
        message = f"{name}: bad value for restricted picklist field: {text}"
        return None, ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, [name])
    if field.type is FieldType.EMAIL and text and not _EMAIL.match(text):
        return None, ("INVALID_EMAIL_ADDRESS", f"{name}: invalid email address: {text}", [name])
    return text or None, None


def _reference(field: FieldDef, raw: Any, find: Finder) -> tuple[Any, FieldError | None]:
    name = field.name
    record_id = canonical_id(raw) if isinstance(raw, str) else None
    if record_id is None:
        return None, ("MALFORMED_ID", f"{name}: id value of incorrect type: {raw}", [name])
    found = find(record_id)
    if found is None or found[0] not in field.reference_to or found[1].get("IsDeleted"):
        message = f"{name}: id value of incorrect type: {raw}"
        return None, ("FIELD_INTEGRITY_EXCEPTION", message, [name])
    return record_id, None


def check_values(
    definition: ObjectDef, values: Mapping[str, Any], *, creating: bool, find: Finder
) -> dict[str, Any]:
    """Return the values keyed by API name in their stored form; raise the 400 error array."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    locked: list[str] = []
    for name, raw in values.items():
        field = find_field(definition, name)
        if field is None:
            message = f"No such column '{name}' on sobject of type {definition.name}"
            errors.append(("INVALID_FIELD", message, [name]))
            continue
        if not (field.create if creating else field.update):
            locked.append(field.name)
            continue
        value, error = _coerce(field, raw, find)
        if error is not None:
            errors.append(error)
        clean[field.name] = value
    if locked:
        action = "create" if creating else "update"
        message = (
            f"Unable to {action} fields: {', '.join(locked)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set."
        )
        errors.append(("INVALID_FIELD_FOR_INSERT_UPDATE", message, locked))
    if errors:
        raise errors_response(400, errors)
    return clean


def _case_rules(
    definition: ObjectDef, record: Record, previous: Record | None, now: datetime, find: Finder
) -> None:
    status = record.get("Status") or definition.picklist_default("Status")
    record["Status"] = status
    record["Priority"] = record.get("Priority") or definition.picklist_default("Priority")
    closed = any(v.closed for v in definition.fields["Status"].picklist if v.value == status)
    was_closed = bool(previous and previous.get("IsClosed"))
    record["IsClosed"] = closed
    if closed and not was_closed:
        record["ClosedDate"] = now
    elif not closed:
        record["ClosedDate"] = None
    if record.get("IsEscalated") is None:
        record["IsEscalated"] = False
    contact = find(record["ContactId"]) if record.get("ContactId") else None
    record["ContactEmail"] = contact[1].get("Email") if contact is not None else None


def apply_rules(
    definition: ObjectDef, record: Record, previous: Record | None, now: datetime, find: Finder
) -> None:
    """Fill defaults and derived fields of a merged record before it is saved."""
    if definition.name == "Case":
        _case_rules(definition, record, previous, now, find)
    elif definition.name == "CaseComment":
        if record.get("IsPublished") is None:
            record["IsPublished"] = False
        if not record.get("ParentId"):
            raise errors_response(
                400,
                [
                    (
                        "REQUIRED_FIELD_MISSING",
                        "Required fields are missing: [ParentId]",
                        ["ParentId"],
                    )
                ],
            )
    elif definition.name == "Contact":
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(part for part in parts if part)
    elif definition.name == "ContentVersion":
        files.version_rules(record)
    elif definition.name == "ContentDocumentLink":
        _link_rules(record)


def _link_rules(record: Record) -> None:
    missing = [name for name in ("ContentDocumentId", "LinkedEntityId") if not record.get(name)]
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        raise errors_response(400, [("REQUIRED_FIELD_MISSING", message, missing)])
    record["ShareType"] = record.get("ShareType") or "V"
    record["Visibility"] = record.get("Visibility") or "AllUsers"
