"""The tables the emulator serves, with their columns, option sets and navigation properties.

Column names, option values and relationship names follow the base Dataverse metadata of
Dynamics 365 Customer Service. `new_externalref` (text) and `new_duedate` (date only) stand
for an organisation's own customisations.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ACTIVITY_TABLES",
    "BINDINGS",
    "BUSINESS_UNIT_ID",
    "EXPANSIONS",
    "INCIDENT_STATUS",
    "OPTION_LABELS",
    "ORGANIZATION_ID",
    "ORGANIZATION_NAME",
    "STATE_LABELS",
    "TABLES",
    "Binding",
    "Column",
    "Kind",
    "Table",
    "by_entity_set",
]


#: The emulated organisation; fixed so that webhook bodies and WhoAmI read the same every run.
ORGANIZATION_NAME = "contoso-example"
ORGANIZATION_ID = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
BUSINESS_UNIT_ID = "b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e"


class Kind(enum.Enum):
    """The Web API type of a column, which decides how values are read, checked and shown."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    INTEGER = "Edm.Int32"
    BIGINT = "Edm.Int64"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTimeOffset"
    DATE = "Edm.Date"
    PICKLIST = "Picklist"
    LOOKUP = "Lookup"


@dataclass(frozen=True)
class Column:
    """One column. `targets` lists the tables a lookup may point to."""

    kind: Kind
    targets: tuple[str, ...] = ()
    creatable: bool = True
    updatable: bool = True


@dataclass(frozen=True)
class Table:
    """One table: its logical name, entity set, key column, name column and columns."""

    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    columns: Mapping[str, Column] = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    """A single-valued navigation property: the lookup column it sets and the tables allowed."""

    column: str
    targets: tuple[str, ...]


_SYSTEM = Column(Kind.DATETIME, creatable=False, updatable=False)
_SYSTEM_USER = Column(Kind.LOOKUP, ("systemuser",), creatable=False, updatable=False)
_VERSION = Column(Kind.BIGINT, creatable=False, updatable=False)


def _audited(columns: Mapping[str, Column]) -> dict[str, Column]:
    """Add the columns every table has: created/modified on and by, and the row version."""
    return {
        **columns,
        "createdon": _SYSTEM,
        "modifiedon": _SYSTEM,
        "createdby": _SYSTEM_USER,
        "modifiedby": _SYSTEM_USER,
        "versionnumber": _VERSION,
    }


_INCIDENT = Table(
    "incident",
    "incidents",
    "incidentid",
    "title",
    _audited(
        {
            "incidentid": Column(Kind.GUID, updatable=False),
            "ticketnumber": Column(Kind.STRING, creatable=False, updatable=False),
            "title": Column(Kind.STRING),
            "description": Column(Kind.STRING),
            "statecode": Column(Kind.PICKLIST),
            "statuscode": Column(Kind.PICKLIST),
            "prioritycode": Column(Kind.PICKLIST),
            "caseorigincode": Column(Kind.PICKLIST),
            "casetypecode": Column(Kind.PICKLIST),
            "isescalated": Column(Kind.BOOLEAN),
            "customerid": Column(Kind.LOOKUP, ("account", "contact")),
            "primarycontactid": Column(Kind.LOOKUP, ("contact",)),
            "ownerid": Column(Kind.LOOKUP, ("systemuser", "team")),
            "new_externalref": Column(Kind.STRING),
            "new_duedate": Column(Kind.DATE),
        }
    ),
)

_ANNOTATION = Table(
    "annotation",
    "annotations",
    "annotationid",
    "subject",
    _audited(
        {
            "annotationid": Column(Kind.GUID, updatable=False),
            "subject": Column(Kind.STRING),
            "notetext": Column(Kind.STRING),
            "isdocument": Column(Kind.BOOLEAN),
            "filename": Column(Kind.STRING),
            "mimetype": Column(Kind.STRING),
            "documentbody": Column(Kind.STRING),
            "filesize": Column(Kind.INTEGER, creatable=False, updatable=False),
            "objectid": Column(Kind.LOOKUP, ("incident",)),
            "objecttypecode": Column(Kind.STRING, creatable=False, updatable=False),
        }
    ),
)

_RESOLUTION = Table(
    "incidentresolution",
    "incidentresolutions",
    "activityid",
    "subject",
    _audited(
        {
            "activityid": Column(Kind.GUID, updatable=False),
            "subject": Column(Kind.STRING),
            "description": Column(Kind.STRING),
            "incidentid": Column(Kind.LOOKUP, ("incident",)),
        }
    ),
)


def _activity(logical_name: str) -> Table:
    return Table(
        logical_name,
        f"{logical_name}s",
        "activityid",
        "subject",
        _audited(
            {
                "activityid": Column(Kind.GUID, updatable=False),
                "subject": Column(Kind.STRING),
                "description": Column(Kind.STRING),
                "regardingobjectid": Column(Kind.LOOKUP, ("incident",)),
            }
        ),
    )


#: Activity tables whose rows can hang off a case (`regardingobjectid`).
ACTIVITY_TABLES = ("adx_portalcomment", "email", "phonecall", "task")

_PEOPLE = (
    Table(
        "systemuser",
        "systemusers",
        "systemuserid",
        "fullname",
        {
            "systemuserid": Column(Kind.GUID),
            "fullname": Column(Kind.STRING),
            "internalemailaddress": Column(Kind.STRING),
            "applicationid": Column(Kind.GUID),
        },
    ),
    Table(
        "team",
        "teams",
        "teamid",
        "name",
        {"teamid": Column(Kind.GUID), "name": Column(Kind.STRING)},
    ),
    Table(
        "account",
        "accounts",
        "accountid",
        "name",
        {
            "accountid": Column(Kind.GUID),
            "name": Column(Kind.STRING),
            "emailaddress1": Column(Kind.STRING),
        },
    ),
    Table(
        "contact",
        "contacts",
        "contactid",
        "fullname",
        {
            "contactid": Column(Kind.GUID),
            "fullname": Column(Kind.STRING),
            "emailaddress1": Column(Kind.STRING),
        },
    ),
)

#: Tables by logical name.
TABLES: dict[str, Table] = {
    table.logical_name: table
    for table in (
        _INCIDENT,
        _ANNOTATION,
        _RESOLUTION,
        *(_activity(name) for name in ACTIVITY_TABLES),
        *_PEOPLE,
    )
}


def by_entity_set(entity_set: str) -> Table | None:
    """Return the table served under an entity set name (`incidents`), or None."""
    return next((t for t in TABLES.values() if t.entity_set == entity_set), None)


#: Navigation properties usable in `<name>@odata.bind`, per table.
BINDINGS: dict[str, dict[str, Binding]] = {
    "incident": {
        "customerid_account": Binding("customerid", ("account",)),
        "customerid_contact": Binding("customerid", ("contact",)),
        "primarycontactid": Binding("primarycontactid", ("contact",)),
        "ownerid": Binding("ownerid", ("systemuser", "team")),
    },
    "annotation": {"objectid_incident": Binding("objectid", ("incident",))},
    "incidentresolution": {"incidentid": Binding("incidentid", ("incident",))},
    **{
        name: {"regardingobjectid_incident": Binding("regardingobjectid", ("incident",))}
        for name in ACTIVITY_TABLES
    },
}

#: Navigation properties usable in `$expand`, per table. `owninguser` and `owningteam` read
#: the owner lookup and are null when the owner is of the other kind.
EXPANSIONS: dict[str, dict[str, Binding]] = {
    "incident": {
        **BINDINGS["incident"],
        "owninguser": Binding("ownerid", ("systemuser",)),
        "owningteam": Binding("ownerid", ("team",)),
        "createdby": Binding("createdby", ("systemuser",)),
        "modifiedby": Binding("modifiedby", ("systemuser",)),
    },
    "annotation": {
        **BINDINGS["annotation"],
        "createdby": Binding("createdby", ("systemuser",)),
    },
}

#: Status reasons of the case table: statuscode -> (statecode, label).
INCIDENT_STATUS: dict[int, tuple[int, str]] = {
    1: (0, "In Progress"),
    2: (0, "On Hold"),
    3: (0, "Waiting for Details"),
    4: (0, "Researching"),
    5: (1, "Problem Solved"),
    1000: (1, "Information Provided"),
    6: (2, "Cancelled"),
    2000: (2, "Merged"),
}

#: statecode -> (label, default statuscode).
STATE_LABELS: dict[int, tuple[str, int]] = {
    0: ("Active", 1),
    1: ("Resolved", 5),
    2: ("Canceled", 6),
}

#: Labels of the choice columns, for FormattedValue annotations: (table, column) -> labels.
OPTION_LABELS: dict[tuple[str, str], dict[int, str]] = {
    ("incident", "statecode"): {code: label for code, (label, _) in STATE_LABELS.items()},
    ("incident", "statuscode"): {code: label for code, (_, label) in INCIDENT_STATUS.items()},
    ("incident", "prioritycode"): {1: "High", 2: "Normal", 3: "Low"},
    ("incident", "caseorigincode"): {
        1: "Phone",
        2: "Email",
        3: "Web",
        2483: "Facebook",
        3986: "Twitter",
    },
    ("incident", "casetypecode"): {1: "Question", 2: "Problem", 3: "Request"},
}
