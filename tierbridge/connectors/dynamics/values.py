"""Turn the native field values the engine writes into Web API columns and lookup binds.

Mappings hand over choice values as text (`"1"`), so choice columns are converted to
integers here. `statecode` and `statuscode` are left to the status logic of the connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tierbridge.connectors.dynamics.lookups import LookupCache
from tierbridge.connectors.dynamics.records import TEXT_FIELDS
from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.core.errors import RejectedError

__all__ = ["Converted", "WriteValues"]

_STATUS_FIELDS = ("statecode", "statuscode")
_CHOICES = ("prioritycode", "caseorigincode")
_LOOKUPS = ("customerid", "ownerid")


@dataclass(frozen=True)
class Converted:
    """Plain column values, and `<navigation>@odata.bind` paths for lookups."""

    columns: dict[str, Any] = field(default_factory=dict)
    binds: dict[str, str] = field(default_factory=dict)


class WriteValues:
    """Checks and converts native field values for one connector."""

    def __init__(self, settings: DynamicsSettings, lookups: LookupCache, connector: str) -> None:
        self._settings = settings
        self._lookups = lookups
        self._connector = connector
        self._writable = (
            *TEXT_FIELDS,
            *_CHOICES,
            *_STATUS_FIELDS,
            *_LOOKUPS,
            settings.correlation_field,
            *settings.date_only_fields,
        )

    def _reject(self, message: str, operation: str) -> RejectedError:
        return RejectedError(
            message, connector=self._connector, operation=operation, record="incidents"
        )

    def convert(self, fields: Mapping[str, Any], operation: str) -> Converted:
        """Return the columns and binds for `fields`; raise RejectedError for a value that cannot be written."""
        unknown = sorted(set(fields) - set(self._writable))
        if unknown:
            msg = f"fields {unknown} are not written by this connector; writable: {', '.join(self._writable)}"
            raise self._reject(msg, operation)

        converted = Converted()
        for name, value in fields.items():
            if name in _STATUS_FIELDS:
                continue
            if name in _LOOKUPS:
                converted.binds.update(self._bind(name, value, operation))
            elif name in _CHOICES:
                converted.columns[name] = self._choice(name, value, operation)
            elif name in self._settings.date_only_fields:
                converted.columns[name] = self._date(name, value, operation)
            else:
                converted.columns[name] = None if value is None else str(value)
        return converted

    def _choice(self, name: str, value: Any, operation: str) -> int | None:
        if value is None:
            return None
        try:
            return int(str(value))
        except ValueError:
            raise self._reject(
                f"{name} value {value!r} is not an option value (an integer)", operation
            ) from None

    def _date(self, name: str, value: Any, operation: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        msg = f"{name} is a date-only column; give a date (YYYY-MM-DD), not {type(value).__name__}"
        raise self._reject(msg, operation)

    def _bind(self, name: str, value: Any, operation: str) -> dict[str, str]:
        if value is None or not str(value).strip():
            msg = f"{name} cannot be cleared: a case always has a customer and an owner"
            raise self._reject(msg, operation)
        if name == "ownerid":
            return {"ownerid@odata.bind": self._lookups.owner(str(value))}
        navigation, path = self._lookups.customer(str(value))
        return {f"{navigation}@odata.bind": path}

    def create_binds(self, binds: Mapping[str, str], operation: str) -> dict[str, str]:
        """Return `binds` plus the default customer when none is given; a case needs one."""
        if any(name.startswith("customerid_") for name in binds):
            return dict(binds)
        default = self._settings.default_customer
        if default is None:
            msg = "a new case needs a customer; set default_customer or map a field to customerid"
            raise self._reject(msg, operation)
        navigation = (
            "customerid_account" if default.startswith("/accounts(") else "customerid_contact"
        )
        return {**binds, f"{navigation}@odata.bind": default}
