"""The fields the connector reads and writes, per ServiceNow table it supports."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASE", "INCIDENT", "PROFILES", "TableProfile"]


@dataclass(frozen=True)
class TableProfile:
    """Field lists of one table, by their ServiceNow names.

    `user_fields` are read as the user's e-mail address and `group_fields` as the group's
    name; `derived_fields` are computed by the instance, so they are read but never written.
    """

    native_fields: tuple[str, ...]
    user_fields: tuple[str, ...]
    group_fields: tuple[str, ...]
    derived_fields: tuple[str, ...] = ()

    @property
    def writable_fields(self) -> tuple[str, ...]:
        return tuple(name for name in self.native_fields if name not in self.derived_fields)

    @property
    def read_fields(self) -> tuple[str, ...]:
        """Fields every read requests (`sysparm_fields`)."""
        system = (
            "sys_id",
            "number",
            "sys_mod_count",
            "sys_created_on",
            "sys_updated_on",
            "sys_updated_by",
        )
        return (*system, *self.native_fields)


#: Incidents: priority is derived from impact and urgency by the Priority Lookup Rules.
INCIDENT = TableProfile(
    native_fields=(
        "short_description",
        "description",
        "state",
        "impact",
        "urgency",
        "priority",
        "category",
        "subcategory",
        "assignment_group",
        "assigned_to",
        "caller_id",
        "close_code",
        "close_notes",
        "correlation_id",
        "correlation_display",
        "hold_reason",
    ),
    user_fields=("assigned_to", "caller_id"),
    group_fields=("assignment_group",),
    derived_fields=("priority",),
)

#: Customer Service Management cases: the customer is `contact` (a customer_contact, which
#: extends sys_user), priority is set directly, and resolving takes `resolution_code`.
CASE = TableProfile(
    native_fields=(
        "short_description",
        "description",
        "state",
        "priority",
        "category",
        "subcategory",
        "assignment_group",
        "assigned_to",
        "contact",
        "resolution_code",
        "close_notes",
        "correlation_id",
        "correlation_display",
    ),
    user_fields=("assigned_to", "contact"),
    group_fields=("assignment_group",),
)

PROFILES: dict[str, TableProfile] = {"incident": INCIDENT, "sn_customerservice_case": CASE}
