"""Row routes: list with paging, read one, create, and update with the upsert rules.

`PATCH /<set>(<id>)` is an upsert, as in Dataverse: without `If-Match` a missing row is
created. `If-Match: *` makes it update-only (404 when missing), `If-Match: W/"<version>"`
also requires that version (412 otherwise), and `If-None-Match: *` makes it create-only
(412 when the row exists).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi.responses import Response

from tierbridge.emulators.dynamics.body import stored_values
from tierbridge.emulators.dynamics.call import Call, respond
from tierbridge.emulators.dynamics.documents import truncated
from tierbridge.emulators.dynamics.envelope import DOES_NOT_EXIST, NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.expand import parse_expand
from tierbridge.emulators.dynamics.odata import (
    Comparison,
    Expression,
    Filter,
    parse_filter,
    parse_select,
)
from tierbridge.emulators.dynamics.ordering import after, parse_orderby
from tierbridge.emulators.dynamics.prefer import MAX_PAGE_SIZE, decode_skiptoken, encode_skiptoken
from tierbridge.emulators.dynamics.render import RenderOptions, etag, render_row
from tierbridge.emulators.dynamics.schema import Table
from tierbridge.emulators.dynamics.state import Row

__all__ = ["create_row", "get_row", "list_rows", "related_notes", "update_row"]

_PRECONDITION_FAILED = (
    "The version of the existing record doesn't match the RowVersion property provided."
)


def _options(call: Call, table: Table) -> RenderOptions:
    params = call.params
    return RenderOptions(
        parse_select(table, params.get("$select")),
        parse_expand(table, params.get("$expand")),
        call.prefer,
    )


def _preference_applied(call: Call, page_size: int | None) -> dict[str, str]:
    applied = []
    if page_size is not None:
        applied.append(f"odata.maxpagesize={page_size}")
    if call.prefer.annotations is not None:
        applied.append(f'odata.include-annotations="{",".join(call.prefer.annotations)}"')
    if call.prefer.return_representation and call.request.method in ("POST", "PATCH"):
        applied.append("return=representation")
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _next_link(call: Call, path: str, page: int, last_key: list[Any]) -> str:
    if call.ctx.faults.repeat_next_link > 0 and "$skiptoken" in call.params:
        call.ctx.faults.repeat_next_link -= 1
        return str(call.request.url)
    params = {name: value for name, value in call.params.items() if name != "$skiptoken"}
    params["$skiptoken"] = encode_skiptoken(page, last_key)
    query = urlencode(params, safe="$,()'", quote_via=quote)
    return f"{call.api_url}/{path}?{query}"


def list_rows(call: Call, table: Table, path: str, scope: Expression | None = None) -> Response:
    """Serve a collection GET: filter, order, page by `odata.maxpagesize`, link the next page."""
    params = call.params
    if "$skip" in params:
        raise odata_error(400, NOT_FOUND_SEGMENT, "The query parameter $skip is not supported.")
    options = _options(call, table)
    where = parse_filter(table, params.get("$filter"))
    if scope is not None:
        where = scope if where is None else Filter("and", scope, where)
    orders = parse_orderby(table, params.get("$orderby"))
    rows = call.ctx.state.select(table.logical_name, where, orders)
    total = len(rows)

    page = 1
    if "$skiptoken" in params:
        page, last_key = decode_skiptoken(params["$skiptoken"])
        rows = [(key, row) for key, row in rows if after(orders, key, last_key)]
    page_size = call.prefer.max_page_size
    limit = page_size or MAX_PAGE_SIZE
    top = params.get("$top")
    if page_size is None and top is not None and top.isdigit():
        rows, limit = rows[: int(top)], int(top)

    body: dict[str, Any] = {"@odata.context": f"{call.api_url}/$metadata#{path}"}
    if params.get("$count") == "true":
        body["@odata.count"] = min(total, MAX_PAGE_SIZE)
    body["value"] = [render_row(call.ctx.state, table, row, options) for _, row in rows[:limit]]
    if len(rows) > limit:
        body["@odata.nextLink"] = _next_link(call, path, page + 1, rows[limit - 1][0])
    return respond(body, headers=_preference_applied(call, page_size))


def related_notes(call: Call, table: Table, incident_id: str) -> Response:
    """Serve `incidents(<id>)/Incident_Annotation`: the notes of one case."""
    call.ctx.state.require("incident", incident_id)
    scope = Comparison("objectid", "eq", incident_id.lower())
    return list_rows(call, table, f"incidents({incident_id})/Incident_Annotation", scope)


def get_row(call: Call, table: Table, row_id: str) -> Response:
    """Serve a single-row GET; `If-None-Match` with the current ETag gives 304 when allowed."""
    row = call.ctx.state.require(table.logical_name, row_id)
    options = _options(call, table)
    cached = call.request.headers.get("If-None-Match")
    plain = not options.expand and call.prefer.annotations is None
    if plain and cached is not None and cached == etag(row):
        return Response(status_code=304, headers={"ETag": etag(row)})
    body = {
        "@odata.context": f"{call.api_url}/$metadata#{table.entity_set}/$entity",
        **render_row(call.ctx.state, table, row, options),
    }
    return respond(body, headers={"ETag": etag(row)} if "@odata.etag" in body else None)


def _saved(call: Call, table: Table, row: Row, created: bool) -> Response:
    entity_id = f"{call.api_url}/{table.entity_set}({row[table.primary_id]})"
    headers = {"OData-EntityId": entity_id, **_preference_applied(call, None)}
    if not call.prefer.return_representation:
        return Response(status_code=204, headers={"OData-Version": "4.0", **headers})
    body = {
        "@odata.context": f"{call.api_url}/$metadata#{table.entity_set}/$entity",
        **render_row(call.ctx.state, table, row, _options(call, table)),
    }
    return respond(body, status=201 if created else 200, headers=headers)


def _cut_file(call: Call, values: dict[str, Any]) -> None:
    """Drop the file's last byte while a `truncate_files` fault is pending."""
    faults = call.ctx.faults
    if faults.truncate_files > 0 and values.get("documentbody"):
        faults.truncate_files -= 1
        values["documentbody"] = truncated(values["documentbody"])


async def create_row(call: Call, table: Table) -> Response:
    """Serve a POST to a collection: 204 with `OData-EntityId`, or 201 with the row."""
    body = await call.json_object()
    values = stored_values(call.ctx.state, table, body, creating=True)
    _cut_file(call, values)
    row_id = values.pop(table.primary_id, None)
    if row_id is not None and call.ctx.state.get(table.logical_name, row_id) is not None:
        raise odata_error(412, "", "A record with matching key values already exists.")
    row = call.ctx.state.create(
        table.logical_name,
        values,
        user_id=call.user_id,
        correlation_id=call.correlation_id,
        row_id=row_id,
    )
    return _saved(call, table, row, created=True)


async def update_row(call: Call, table: Table, row_id: str) -> Response:
    """Serve a PATCH with Dataverse's upsert and conditional rules."""
    state = call.ctx.state
    headers = call.request.headers
    current = state.get(table.logical_name, row_id)
    if_match = headers.get("If-Match")
    if_none_match = headers.get("If-None-Match")

    if current is None and if_match is not None:
        message = f"{table.logical_name} With Id = {row_id} Does Not Exist"
        raise odata_error(404, DOES_NOT_EXIST, message)
    if current is not None and if_none_match == "*":
        raise odata_error(412, "", "A record with matching key values already exists.")
    if current is not None and if_match not in (None, "*") and if_match != etag(current):
        raise odata_error(412, "", _PRECONDITION_FAILED)

    body = await call.json_object()
    if current is None:
        values = stored_values(state, table, body, creating=True)
        values.pop(table.primary_id, None)
        row = state.create(
            table.logical_name,
            values,
            user_id=call.user_id,
            correlation_id=call.correlation_id,
            row_id=row_id,
        )
        return _saved(call, table, row, created=True)

    values = stored_values(state, table, body, creating=False)
    row = state.update(
        table.logical_name, row_id, values, user_id=call.user_id, correlation_id=call.correlation_id
    )
    return _saved(call, table, row, created=False)
