"""Operation routes: the CloseIncident action, status metadata of the case table and WhoAmI."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from tierbridge.emulators.dynamics.body import stored_values
from tierbridge.emulators.dynamics.call import Call, respond
from tierbridge.emulators.dynamics.envelope import INVALID_ARGUMENT, NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.schema import (
    BUSINESS_UNIT_ID,
    INCIDENT_STATUS,
    ORGANIZATION_ID,
    TABLES,
)

__all__ = ["close_incident", "status_metadata", "who_am_i"]

_RESOLUTION_TYPE = "Microsoft.Dynamics.CRM.incidentresolution"
#: English (United States), the language of every label the emulator serves.
_LANGUAGE = 1033
#: A fixed id, so that the metadata reads the same on every run.
_STATUS_ATTRIBUTE_ID = "a2a7b1c4-5d6e-4f70-8a9b-0c1d2e3f4a5b"


async def close_incident(call: Call) -> Response:
    """Resolve a case: create the `IncidentResolution` and set the Resolved status reason."""
    body = await call.json_object()
    resolution = body.get("IncidentResolution")
    status = body.get("Status")
    if not isinstance(resolution, dict) or type(status) is not int:
        msg = "CloseIncident needs an IncidentResolution object and an Int32 Status."
        raise odata_error(400, NOT_FOUND_SEGMENT, msg)
    declared = resolution.get("@odata.type", _RESOLUTION_TYPE)
    if declared != _RESOLUTION_TYPE:
        msg = f"IncidentResolution must be of type {_RESOLUTION_TYPE}, not {declared}."
        raise odata_error(400, INVALID_ARGUMENT, msg)

    table = TABLES["incidentresolution"]
    values = stored_values(call.ctx.state, table, resolution, creating=True)
    call.ctx.state.close_incident(
        values, status, user_id=call.user_id, correlation_id=call.correlation_id
    )
    return Response(status_code=204, headers={"OData-Version": "4.0"})


def _label(text: str) -> dict[str, Any]:
    localized = {"Label": text, "LanguageCode": _LANGUAGE}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def _status_attribute(expand_option_set: bool) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "@odata.type": "#Microsoft.Dynamics.CRM.StatusAttributeMetadata",
        "LogicalName": "statuscode",
        "MetadataId": _STATUS_ATTRIBUTE_ID,
    }
    if expand_option_set:
        options = [
            {"Value": code, "State": state, "Label": _label(label)}
            for code, (state, label) in INCIDENT_STATUS.items()
        ]
        attribute["OptionSet"] = {"Name": "incident_statuscode", "Options": options}
    return attribute


def status_metadata(call: Call, entity: str, single: bool) -> Response:
    """Serve the StatusAttributeMetadata of a table, as a collection or as one attribute."""
    if entity != "incident":
        msg = f"Could not find entity with LogicalName = '{entity}'."
        raise odata_error(404, "0x80040217", msg)
    expand = call.params.get("$expand", "").strip() == "OptionSet"
    attribute = _status_attribute(expand)
    base = f"{call.api_url}/$metadata#EntityDefinitions('{entity}')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata"
    if single:
        return respond({"@odata.context": f"{base}/$entity", **attribute})
    return respond({"@odata.context": base, "value": [attribute]})


def who_am_i(call: Call) -> Response:
    """Serve WhoAmI: the caller's systemuserid plus fixed business unit and organisation."""
    return respond(
        {
            "@odata.context": f"{call.api_url}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": BUSINESS_UNIT_ID,
            "UserId": call.user_id,
            "OrganizationId": ORGANIZATION_ID,
        }
    )
