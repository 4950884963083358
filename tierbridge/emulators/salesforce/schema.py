"""The objects and fields the emulator serves, with the properties the API enforces.

Field properties follow the object reference: `create`/`update` tell whether the API may
write a field, `filter` whether SOQL may use it in WHERE (long text areas may not), and
picklists list their values in order. Every object also has the system fields below.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "CASE_STATUSES",
    "OBJECTS",
    "FieldDef",
    "FieldType",
    "ObjectDef",
    "PicklistValue",
    "relationship_field",
]


class FieldType(enum.Enum):
    """SOAP/REST field types, as far as the emulator distinguishes them."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    PICKLIST = "picklist"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    REFERENCE = "reference"
    EMAIL = "email"


@dataclass(frozen=True)
class PicklistValue:
    """One picklist entry; `closed` is the CaseStatus flag that derives `Case.IsClosed`."""

    value: str
    default: bool = False
    closed: bool = False


@dataclass(frozen=True)
class FieldDef:
    """One field: its type and what the API may do with it."""

    name: str
    type: FieldType
    create: bool = True
    update: bool = True
    filter: bool = True
    nillable: bool = True
    length: int | None = None
    #: Object types a reference may point to; the first one types relationship paths.
    reference_to: tuple[str, ...] = ()
    picklist: tuple[PicklistValue, ...] = ()


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: its key prefix, its fields and its child relationships."""

    name: str
    prefix: str
    fields: Mapping[str, FieldDef]
    #: Child relationship name -> (child object, the child's field that points here).
    children: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Whether the REST API may create, update and delete rows.
    writable: bool = True

    def picklist_default(self, name: str) -> str | None:
        """Return the default value of a picklist field, or None."""
        values = self.fields[name].picklist
        return next((entry.value for entry in values if entry.default), None)


def _read_only(name: str, kind: FieldType, **extra: object) -> FieldDef:
    return FieldDef(name, kind, create=False, update=False, **extra)  # type: ignore[arg-type]


def _system_fields() -> list[FieldDef]:
    return [
        _read_only("Id", FieldType.ID, nillable=False),
        _read_only("IsDeleted", FieldType.BOOLEAN, nillable=False),
        _read_only("CreatedDate", FieldType.DATETIME, nillable=False),
        _read_only("CreatedById", FieldType.REFERENCE, nillable=False, reference_to=("User",)),
        _read_only("LastModifiedDate", FieldType.DATETIME, nillable=False),
        _read_only("LastModifiedById", FieldType.REFERENCE, nillable=False, reference_to=("User",)),
        _read_only("SystemModstamp", FieldType.DATETIME, nillable=False),
    ]


def _object(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    children: Mapping[str, tuple[str, str]] | None = None,
    writable: bool = True,
) -> ObjectDef:
    every = {item.name: item for item in [*_system_fields(), *fields]}
    return ObjectDef(name, prefix, every, dict(children or {}), writable)


def _picklist(*values: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(value, default=value == default) for value in values)


#: The Case Status picklist: the four defaults, plus On Hold and Resolved, which an admin
#: adds so that pending and resolved tickets have a status of their own.
CASE_STATUSES = (
    PicklistValue("New", default=True),
    PicklistValue("Working"),
    PicklistValue("Escalated"),
    PicklistValue("On Hold"),
    PicklistValue("Resolved", closed=True),
    PicklistValue("Closed", closed=True),
)

_CASE = _object(
    "Case",
    "500",
    [
        _read_only("CaseNumber", FieldType.STRING, nillable=False, length=30),
        FieldDef("Subject", FieldType.STRING, length=255),
        FieldDef("Description", FieldType.TEXTAREA, length=32000, filter=False),
        FieldDef("Status", FieldType.PICKLIST, picklist=CASE_STATUSES),
        _read_only("IsClosed", FieldType.BOOLEAN, nillable=False),
        FieldDef(
            "Priority",
            FieldType.PICKLIST,
            picklist=_picklist("High", "Medium", "Low", default="Medium"),
        ),
        FieldDef("Origin", FieldType.PICKLIST, picklist=_picklist("Phone", "Email", "Web")),
        FieldDef(
            "Type",
            FieldType.PICKLIST,
            picklist=_picklist("Mechanical", "Electrical", "Electronic", "Structural", "Other"),
        ),
        FieldDef(
            "Reason",
            FieldType.PICKLIST,
            picklist=_picklist(
                "Installation",
                "Equipment Complexity",
                "Performance",
                "Breakdown",
                "Equipment Design",
                "Feedback",
                "Other",
            ),
        ),
        FieldDef("OwnerId", FieldType.REFERENCE, nillable=False, reference_to=("User", "Group")),
        FieldDef("ContactId", FieldType.REFERENCE, reference_to=("Contact",)),
        _read_only("ContactEmail", FieldType.EMAIL, length=80),
        FieldDef("SuppliedEmail", FieldType.EMAIL, length=80),
        FieldDef("SuppliedName", FieldType.STRING, length=80),
        FieldDef("IsEscalated", FieldType.BOOLEAN, nillable=False),
        _read_only("ClosedDate", FieldType.DATETIME),
        FieldDef("External_Ref__c", FieldType.STRING, length=255),
    ],
    children={"CaseComments": ("CaseComment", "ParentId")},
)

_CASE_COMMENT = _object(
    "CaseComment",
    "00a",
    [
        FieldDef(
            "ParentId", FieldType.REFERENCE, update=False, nillable=False, reference_to=("Case",)
        ),
        FieldDef("CommentBody", FieldType.TEXTAREA, length=4000),
        FieldDef("IsPublished", FieldType.BOOLEAN, nillable=False),
    ],
)

_USER = _object(
    "User",
    "005",
    [
        FieldDef("Username", FieldType.STRING, nillable=False, length=80),
        FieldDef("Name", FieldType.STRING, length=121),
        FieldDef("Email", FieldType.EMAIL, nillable=False, length=128),
        FieldDef("IsActive", FieldType.BOOLEAN, nillable=False),
    ],
    writable=False,
)

_GROUP = _object(
    "Group",
    "00G",
    [
        FieldDef("Name", FieldType.STRING, nillable=False, length=40),
        FieldDef("Type", FieldType.STRING, nillable=False, length=40),
    ],
    writable=False,
)

_CONTACT = _object(
    "Contact",
    "003",
    [
        FieldDef("FirstName", FieldType.STRING, length=40),
        FieldDef("LastName", FieldType.STRING, nillable=False, length=80),
        _read_only("Name", FieldType.STRING, length=121),
        FieldDef("Email", FieldType.EMAIL, length=80),
    ],
)

_CASE_STATUS = _object(
    "CaseStatus",
    "01J",
    [
        _read_only("ApiName", FieldType.STRING, nillable=False, length=255),
        _read_only("MasterLabel", FieldType.STRING, nillable=False, length=255),
        _read_only("IsClosed", FieldType.BOOLEAN, nillable=False),
        _read_only("IsDefault", FieldType.BOOLEAN, nillable=False),
    ],
    writable=False,
)

#: Served objects by API name.
OBJECTS: Mapping[str, ObjectDef] = {
    item.name: item for item in (_CASE, _CASE_COMMENT, _USER, _GROUP, _CONTACT, _CASE_STATUS)
}


def relationship_field(definition: ObjectDef, relationship: str) -> FieldDef | None:
    """Return the lookup field behind a relationship name (`Owner` -> `OwnerId`), or None."""
    found = definition.fields.get(f"{relationship}Id")
    if found is None or found.type is not FieldType.REFERENCE:
        return None
    return found
