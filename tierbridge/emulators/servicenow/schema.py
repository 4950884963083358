"""Field dictionary of the emulated tables, and the choice lists seeded into `sys_choice`.

Only the fields a ticket sync touches are modelled. The dictionary matters for three wire
behaviours: which query terms are valid (an unknown field is dropped from the query), how a
value is rendered as a display value, and which written fields are stored.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "CHOICES",
    "TABLES",
    "FieldDef",
    "FieldType",
    "TableDef",
    "table_def",
]


class FieldType(enum.StrEnum):
    """Field type, which sets how a value is compared and rendered; stored values are strings."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATETIME = "glide_date_time"
    REFERENCE = "reference"
    CHOICE = "choice"
    JOURNAL = "journal_input"


@dataclass(frozen=True)
class FieldDef:
    """One dictionary entry; `reference` is the target table of a reference field."""

    type: FieldType = FieldType.STRING
    reference: str | None = None
    #: Read-only fields are computed by the instance; writes to them are ignored.
    read_only: bool = False


@dataclass(frozen=True)
class TableDef:
    """One table: its fields, the field shown as a reference's display value, its numbering."""

    name: str
    fields: Mapping[str, FieldDef]
    display_field: str
    number_prefix: str | None = None
    #: True for tables the Table API only reads (writes get 403, as ACLs do on instances).
    read_only: bool = False
    defaults: Mapping[str, str] = field(default_factory=dict)


_STRING = FieldDef()
_DATETIME = FieldDef(FieldType.DATETIME)
_CHOICE = FieldDef(FieldType.CHOICE)
_USER = FieldDef(FieldType.REFERENCE, reference="sys_user")
_GROUP = FieldDef(FieldType.REFERENCE, reference="sys_user_group")

#: Fields every table carries; the instance maintains all of them.
_SYSTEM_FIELDS: dict[str, FieldDef] = {
    "sys_id": FieldDef(read_only=True),
    "sys_created_on": FieldDef(FieldType.DATETIME, read_only=True),
    "sys_created_by": FieldDef(read_only=True),
    "sys_updated_on": FieldDef(FieldType.DATETIME, read_only=True),
    "sys_updated_by": FieldDef(read_only=True),
    "sys_mod_count": FieldDef(FieldType.INTEGER, read_only=True),
}


def _task_fields() -> dict[str, FieldDef]:
    """Fields of the incident table (and of other task tables added later)."""
    return {
        **_SYSTEM_FIELDS,
        "number": _STRING,
        "short_description": _STRING,
        "description": _STRING,
        "state": _CHOICE,
        "incident_state": FieldDef(FieldType.CHOICE, read_only=True),
        "hold_reason": _CHOICE,
        "impact": _CHOICE,
        "urgency": _CHOICE,
        "priority": FieldDef(FieldType.CHOICE, read_only=True),
        "active": FieldDef(FieldType.BOOLEAN, read_only=True),
        "caller_id": _USER,
        "opened_by": FieldDef(FieldType.REFERENCE, reference="sys_user", read_only=True),
        "assigned_to": _USER,
        "assignment_group": _GROUP,
        "category": _CHOICE,
        "subcategory": _STRING,
        "opened_at": FieldDef(FieldType.DATETIME, read_only=True),
        "resolved_at": FieldDef(FieldType.DATETIME, read_only=True),
        "resolved_by": FieldDef(FieldType.REFERENCE, reference="sys_user", read_only=True),
        "closed_at": FieldDef(FieldType.DATETIME, read_only=True),
        "closed_by": FieldDef(FieldType.REFERENCE, reference="sys_user", read_only=True),
        "close_code": _CHOICE,
        "close_notes": _STRING,
        "reopen_count": FieldDef(FieldType.INTEGER, read_only=True),
        "comments": FieldDef(FieldType.JOURNAL),
        "work_notes": FieldDef(FieldType.JOURNAL),
        "correlation_id": _STRING,
        "correlation_display": _STRING,
        "parent_incident": FieldDef(FieldType.REFERENCE, reference="incident"),
        "problem_id": FieldDef(FieldType.REFERENCE, reference="problem"),
    }


def _case_fields() -> dict[str, FieldDef]:
    """Fields of the Customer Service Management case table (`sn_customerservice_case`).

    On instances `contact` refers to customer_contact, which extends sys_user; the emulator
    keeps contacts in sys_user. Priority is chosen directly on cases, not derived.
    """
    fields = _task_fields()
    for incident_only in (
        "caller_id",
        "impact",
        "urgency",
        "incident_state",
        "hold_reason",
        "close_code",
        "parent_incident",
        "problem_id",
    ):
        del fields[incident_only]
    fields["priority"] = _CHOICE
    fields["contact"] = _USER
    fields["account"] = FieldDef(FieldType.REFERENCE, reference="customer_account")
    fields["resolution_code"] = _CHOICE
    return fields


TABLES: dict[str, TableDef] = {
    "incident": TableDef(
        name="incident",
        fields=_task_fields(),
        display_field="number",
        number_prefix="INC",
        defaults={"state": "1", "impact": "3", "urgency": "3", "reopen_count": "0"},
    ),
    "sn_customerservice_case": TableDef(
        name="sn_customerservice_case",
        fields=_case_fields(),
        display_field="number",
        number_prefix="CS",
        defaults={"state": "1", "priority": "4", "reopen_count": "0"},
    ),
    "sys_user": TableDef(
        name="sys_user",
        fields={
            **_SYSTEM_FIELDS,
            "user_name": _STRING,
            "name": _STRING,
            "email": _STRING,
            "time_zone": _STRING,
            "active": FieldDef(FieldType.BOOLEAN),
        },
        display_field="name",
        defaults={"active": "true", "time_zone": "GMT"},
    ),
    "sys_user_group": TableDef(
        name="sys_user_group",
        fields={
            **_SYSTEM_FIELDS,
            "name": _STRING,
            "description": _STRING,
            "active": FieldDef(FieldType.BOOLEAN),
        },
        display_field="name",
        defaults={"active": "true"},
    ),
    "sys_journal_field": TableDef(
        name="sys_journal_field",
        fields={
            **_SYSTEM_FIELDS,
            "element": _STRING,
            "element_id": _STRING,
            "name": _STRING,
            "value": _STRING,
        },
        display_field="value",
        read_only=True,
    ),
    # Metadata of attached files, whose bytes the state keeps beside the table. Files are added
    # through the Attachment API, so the Table API only reads this table.
    "sys_attachment": TableDef(
        name="sys_attachment",
        fields={
            **_SYSTEM_FIELDS,
            "file_name": _STRING,
            "content_type": _STRING,
            "size_bytes": FieldDef(FieldType.INTEGER),
            "size_compressed": FieldDef(FieldType.INTEGER),
            "compressed": FieldDef(FieldType.BOOLEAN),
            "table_name": _STRING,
            "table_sys_id": _STRING,
            "image_width": _STRING,
            "image_height": _STRING,
            "average_image_color": _STRING,
        },
        display_field="file_name",
        read_only=True,
    ),
    "sys_choice": TableDef(
        name="sys_choice",
        fields={
            **_SYSTEM_FIELDS,
            "name": _STRING,
            "element": _STRING,
            "value": _STRING,
            "label": _STRING,
            "sequence": FieldDef(FieldType.INTEGER),
            "inactive": FieldDef(FieldType.BOOLEAN),
            "language": _STRING,
        },
        display_field="label",
        read_only=True,
    ),
}

_STATES = (
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
)
_LEVELS = (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low"))

#: Choice lists as (table, element) -> ((value, label), ...), in display order. The close
#: codes are the newer base-system set; older instances use "Solved (Permanently)" and others.
CHOICES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("incident", "state"): _STATES,
    ("incident", "incident_state"): _STATES,
    ("incident", "impact"): _LEVELS,
    ("incident", "urgency"): _LEVELS,
    ("incident", "priority"): (
        ("1", "1 - Critical"),
        ("2", "2 - High"),
        ("3", "3 - Moderate"),
        ("4", "4 - Low"),
        ("5", "5 - Planning"),
    ),
    ("incident", "hold_reason"): (
        ("1", "Awaiting Caller"),
        ("5", "Awaiting Change"),
        ("3", "Awaiting Problem"),
        ("4", "Awaiting Vendor"),
    ),
    ("incident", "close_code"): tuple(
        (code, code)
        for code in (
            "Duplicate",
            "Known error",
            "No resolution provided",
            "Resolved by caller",
            "Resolved by change",
            "Resolved by problem",
            "Resolved by request",
            "Solution provided",
            "Workaround provided",
            "User error",
        )
    ),
    # Base CSM case states; instances often add their own between these.
    ("sn_customerservice_case", "state"): (
        ("1", "New"),
        ("10", "Open"),
        ("18", "Awaiting Info"),
        ("6", "Resolved"),
        ("3", "Closed"),
        ("7", "Cancelled"),
    ),
    ("sn_customerservice_case", "priority"): (
        ("1", "1 - Critical"),
        ("2", "2 - High"),
        ("3", "3 - Moderate"),
        ("4", "4 - Low"),
    ),
    ("sn_customerservice_case", "resolution_code"): tuple(
        (code, code)
        for code in (
            "Solved (Permanently)",
            "Solved (Work Around)",
            "Not Solved",
            "Closed by Caller",
        )
    ),
    ("incident", "category"): (
        ("inquiry", "Inquiry / Help"),
        ("software", "Software"),
        ("hardware", "Hardware"),
        ("network", "Network"),
        ("database", "Database"),
    ),
}


def table_def(name: str) -> TableDef | None:
    """Return the dictionary of table `name`, or None if the emulator does not serve it."""
    return TABLES.get(name)
