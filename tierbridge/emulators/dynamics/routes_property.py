"""Single-property reads: `<set>(<id>)/<column>` and its raw value `<set>(<id>)/<column>/$value`.

Clients read a note's file this way: `annotations(<id>)/documentbody/$value` returns the
Base64 text as `text/plain`, not the decoded bytes. A null value returns 204 No Content,
as OData specifies. Lookups are not served here; they are read as `_<column>_value`.
"""

from __future__ import annotations

from fastapi.responses import Response

from tierbridge.emulators.dynamics.call import Call, respond
from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.schema import Kind, Table
from tierbridge.emulators.dynamics.values import wire_value

__all__ = ["get_property"]


def get_property(call: Call, table: Table, row_id: str, column: str, *, raw: bool) -> Response:
    """Serve one column of one row, as JSON (`{"value": …}`) or, with `raw`, as plain text."""
    definition = table.columns.get(column)
    if definition is None or definition.kind is Kind.LOOKUP:
        message = f"Resource not found for the segment '{column}'."
        raise odata_error(404, NOT_FOUND_SEGMENT, message)

    row = call.ctx.state.require(table.logical_name, row_id)
    value = wire_value(row.get(column))
    if value is None:
        return Response(status_code=204, headers={"OData-Version": "4.0"})
    if raw:
        return Response(
            str(value).lower() if isinstance(value, bool) else str(value),
            media_type="text/plain",
            headers={"OData-Version": "4.0"},
        )
    context = f"{call.api_url}/$metadata#{table.entity_set}({row_id})/{column}"
    return respond({"@odata.context": context, "value": value})
