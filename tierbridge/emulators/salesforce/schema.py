"""The objects and fields the emulator serves, with the properties the API enforces.

Field properties follow the object reference: `create`/`update` tell whether the API may
write a field, `filter` whether SOQL may use it in WHERE (long text areas may not), and
picklists list their values in order. Every object also has the system fields below,
except ContentDocumentLink, which has only Id, IsDeleted and SystemModstamp.
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
    INT = "int"
    #: Binary content, sent as base64 on create and served raw at `.../{Id}/{field}`.
    BASE64 = "base64"


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


_ALL_OPERATIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: its key prefix, its fields and its child relationships."""

    name: str
    prefix: str
    fields: Mapping[str, FieldDef]
    #: Child relationship name -> (child object, the child's field that points here).
    children: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: REST writes the object supports: "create", "update" and "delete".
    operations: frozenset[str] = frozenset(_ALL_OPERATIONS)

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


#: The system fields of ContentDocumentLink, which has no created or modified fields.
_LINK_SYSTEM_FIELDS = ("Id", "IsDeleted", "SystemModstamp")


def _object(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    children: Mapping[str, tuple[str, str]] | None = None,
    operations: tuple[str, ...] = _ALL_OPERATIONS,
    system: tuple[str, ...] | None = None,
) -> ObjectDef:
    common = [item for item in _system_fields() if system is None or item.name in system]
    every = {item.name: item for item in [*common, *fields]}
    return ObjectDef(name, prefix, every, dict(children or {}), frozenset(operations))


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
    children={
        "CaseComments": ("CaseComment", "ParentId"),
        "ContentDocumentLinks": ("ContentDocumentLink", "LinkedEntityId"),
    },
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
    operations=(),
)

_GROUP = _object(
    "Group",
    "00G",
    [
        FieldDef("Name", FieldType.STRING, nillable=False, length=40),
        FieldDef("Type", FieldType.STRING, nillable=False, length=40),
    ],
    operations=(),
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
    operations=(),
)

# Salesforce Files: a ContentVersion insert creates its ContentDocument and the links that
# share it. The emulator keeps one version per document: ContentDocumentId cannot be
# written, so a new version of an existing file cannot be uploaded.
_CONTENT_VERSION = _object(
    "ContentVersion",
    "068",
    [
        FieldDef("Title", FieldType.STRING, length=255),
        FieldDef("PathOnClient", FieldType.STRING, update=False, length=500),
        FieldDef("VersionData", FieldType.BASE64, update=False, filter=False),
        FieldDef(
            "FirstPublishLocationId",
            FieldType.REFERENCE,
            update=False,
            reference_to=("Case", "User"),
        ),
        _read_only("ContentDocumentId", FieldType.REFERENCE, reference_to=("ContentDocument",)),
        _read_only("ContentSize", FieldType.INT),
        _read_only("FileExtension", FieldType.STRING, length=40),
        _read_only("FileType", FieldType.STRING, length=20),
        _read_only("Checksum", FieldType.STRING, length=50),
        _read_only("IsLatest", FieldType.BOOLEAN, nillable=False),
        _read_only("VersionNumber", FieldType.STRING, length=20),
    ],
    operations=("create",),
)

_CONTENT_DOCUMENT = _object(
    "ContentDocument",
    "069",
    [
        _read_only("Title", FieldType.STRING, nillable=False, length=255),
        _read_only("FileExtension", FieldType.STRING, length=40),
        _read_only("FileType", FieldType.STRING, length=20),
        _read_only("ContentSize", FieldType.INT),
        _read_only(
            "LatestPublishedVersionId", FieldType.REFERENCE, reference_to=("ContentVersion",)
        ),
        _read_only("OwnerId", FieldType.REFERENCE, nillable=False, reference_to=("User",)),
    ],
    children={
        "ContentVersions": ("ContentVersion", "ContentDocumentId"),
        "ContentDocumentLinks": ("ContentDocumentLink", "ContentDocumentId"),
    },
    operations=(),
)

_CONTENT_DOCUMENT_LINK = _object(
    "ContentDocumentLink",
    "06A",
    [
        FieldDef(
            "ContentDocumentId",
            FieldType.REFERENCE,
            update=False,
            nillable=False,
            reference_to=("ContentDocument",),
        ),
        FieldDef(
            "LinkedEntityId",
            FieldType.REFERENCE,
            update=False,
            nillable=False,
            reference_to=("Case", "User"),
        ),
        FieldDef("ShareType", FieldType.PICKLIST, picklist=_picklist("V", "C", "I")),
        FieldDef(
            "Visibility",
            FieldType.PICKLIST,
            picklist=_picklist("AllUsers", "InternalUsers", "SharedUsers"),
        ),
    ],
    operations=("create", "delete"),
    system=_LINK_SYSTEM_FIELDS,
)

#: Served objects by API name.
OBJECTS: Mapping[str, ObjectDef] = {
    item.name: item
    for item in (
        _CASE,
        _CASE_COMMENT,
        _USER,
        _GROUP,
        _CONTACT,
        _CASE_STATUS,
        _CONTENT_VERSION,
        _CONTENT_DOCUMENT,
        _CONTENT_DOCUMENT_LINK,
    )
}


def relationship_field(definition: ObjectDef, relationship: str) -> FieldDef | None:
    """Return the lookup field behind a relationship name (`Owner` -> `OwnerId`), or None."""
    found = definition.fields.get(f"{relationship}Id")
    if found is None or found.type is not FieldType.REFERENCE:
        return None
    return found
