"""Turn a create or update request body into stored-form column values.

Plain properties are checked against the column's type. Lookups are written only through
`<navigation property>@odata.bind` with a `/<entity set>(<guid>)` path, and the bound row
must exist. Unknown properties and columns the operation may not write are 400s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tierbridge.emulators.dynamics.envelope import INVALID_ARGUMENT, NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.schema import BINDINGS, Kind, Table, by_entity_set
from tierbridge.emulators.dynamics.state import DynamicsState
from tierbridge.emulators.dynamics.values import Ref, parse_guid, parse_value

__all__ = ["stored_values"]

_BIND_SUFFIX = "@odata.bind"
_BIND_PATH = re.compile(r"^/?(?P<set>[a-z_]+)\((?P<id>[0-9a-fA-F-]{36})\)$")


def _unknown(table: Table, name: str) -> Exception:
    msg = (
        f"The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{table.logical_name}'. "
        "Make sure to only use property names that are defined by the type."
    )
    return odata_error(400, NOT_FOUND_SEGMENT, msg)


def _bind(state: DynamicsState, table: Table, name: str, path: Any) -> tuple[str, Ref | None]:
    navigation = name.removesuffix(_BIND_SUFFIX)
    binding = BINDINGS.get(table.logical_name, {}).get(navigation)
    if binding is None:
        raise _unknown(table, navigation)
    if path is None:
        return binding.column, None
    match = _BIND_PATH.match(path) if isinstance(path, str) else None
    target = by_entity_set(match["set"]) if match else None
    if match is None or target is None or target.logical_name not in binding.targets:
        allowed = ", ".join(f"/{t}s(<id>)" for t in binding.targets)
        msg = f"Invalid value for {name}: {path!r}; expected one of {allowed}."
        raise odata_error(400, NOT_FOUND_SEGMENT, msg)
    row_id = parse_guid(match["id"]) or ""
    state.require(target.logical_name, row_id)
    return binding.column, Ref(target.logical_name, row_id)


def stored_values(
    state: DynamicsState, table: Table, body: Mapping[str, Any], *, creating: bool
) -> dict[str, Any]:
    """Return the body's columns in stored form; raise the Web API's 400 for a bad property."""
    values: dict[str, Any] = {}
    for name, raw in body.items():
        if name.endswith(_BIND_SUFFIX):
            column_name, ref = _bind(state, table, name, raw)
            values[column_name] = ref
            continue
        if name.startswith("@odata.") or "@" in name:
            continue
        column = table.columns.get(name)
        if column is None or column.kind is Kind.LOOKUP:
            raise _unknown(table, name)
        allowed = column.creatable if creating else column.updatable
        if not allowed:
            action = "created" if creating else "updated"
            msg = f"The column '{name}' of {table.logical_name} cannot be {action} by a request."
            raise odata_error(400, INVALID_ARGUMENT, msg)
        values[name] = parse_value(table.logical_name, name, column, raw)
    return values
