"""The push half of the emulator: a WebHook service endpoint with asynchronous steps.

Steps are registered for Create and Update of `incident` and Create of `annotation`, at
stage 40 (post-operation), asynchronous. Each saved change is posted as a serialised
`RemoteExecutionContext`: key/value lists, typed values with `__type`, WCF dates
(`/Date(<epoch ms>)/`), `Target` with the written columns and a post-image aliased
`PostImage`. The endpoint authenticates with a fixed header (`HttpHeader`) or a `code`
query parameter (`WebhookKey`). A body over 256 KB loses `InputParameters`, the images and
`ParentContext` and carries `x-ms-dynamics-msg-size-exceeded`. A note with a file has its
Base64 `documentbody` in `Target`, so a file above about 190 KB always loses them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from urllib.parse import urlencode

from tierbridge.emulators._webhooks import WebhookSender
from tierbridge.emulators.dynamics.schema import (
    BUSINESS_UNIT_ID,
    ORGANIZATION_ID,
    ORGANIZATION_NAME,
    TABLES,
    Kind,
)
from tierbridge.emulators.dynamics.state import ChangeEvent
from tierbridge.emulators.dynamics.values import Ref

__all__ = [
    "DEFAULT_HEADER",
    "MAX_BODY_BYTES",
    "WebhookAuth",
    "WebhookEndpoint",
    "context_body",
    "wcf_date",
]

#: Header carrying the shared value when the endpoint authenticates with `HttpHeader`.
DEFAULT_HEADER = "x-tierbridge-webhook-key"
#: Bodies above this size are sent without InputParameters, images and ParentContext.
MAX_BODY_BYTES = 256 * 1024
_CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
_STEPS = {("incident", "Create"), ("incident", "Update"), ("annotation", "Create")}
#: Columns of the post-image registered per table.
_IMAGE_COLUMNS = {
    "incident": (
        "ticketnumber",
        "title",
        "statecode",
        "statuscode",
        "prioritycode",
        "modifiedon",
        "versionnumber",
    ),
    "annotation": ("objectid", "subject", "isdocument", "createdon", "versionnumber"),
}
_STRIPPED = ("InputParameters", "PreEntityImages", "PostEntityImages")

WebhookAuth = Literal["header", "webhookkey"]


def wcf_date(value: datetime | date) -> str:
    """Format a date-time (or a date, as its UTC midnight) as a WCF JSON date."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    return f"/Date({round(value.timestamp() * 1000)})/"


def _xrm_value(table: str, column: str, value: Any) -> Any:
    if isinstance(value, Ref):
        return {
            "__type": f"EntityReference:{_CONTRACTS}",
            "Id": value.id,
            "KeyAttributes": [],
            "LogicalName": value.table,
            "Name": None,
            "RowVersion": None,
        }
    if isinstance(value, datetime | date):
        return wcf_date(value)
    definition = TABLES[table].columns.get(column)
    if definition is not None and definition.kind is Kind.PICKLIST and value is not None:
        return {"__type": f"OptionSetValue:{_CONTRACTS}", "Value": value}
    return value


def _entity(table: str, row: Mapping[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "__type": f"Entity:{_CONTRACTS}",
        "Attributes": [{"key": c, "value": _xrm_value(table, c, row.get(c))} for c in columns],
        "EntityState": None,
        "FormattedValues": [],
        "Id": row[TABLES[table].primary_id],
        "KeyAttributes": [],
        "LogicalName": table,
        "RelatedEntities": [],
        "RowVersion": str(row.get("versionnumber")),
    }


def _target_columns(event: ChangeEvent) -> tuple[str, ...]:
    primary = TABLES[event.table].primary_id
    extra = (primary, "modifiedon", "modifiedby")
    return tuple(dict.fromkeys((*event.changed, *extra)))


def context_body(event: ChangeEvent, new_guid: Callable[[], str]) -> dict[str, Any]:
    """Build the RemoteExecutionContext a step posts for one saved change."""
    row = event.row
    table = event.table
    primary = TABLES[table].primary_id
    images = [
        {"key": "AsynchronousStepPrimaryName", "value": _entity(table, row, (primary,))},
        {"key": "PostImage", "value": _entity(table, row, _IMAGE_COLUMNS[table])},
    ]
    output = [{"key": "id", "value": row[primary]}] if event.message == "Create" else []
    return {
        "BusinessUnitId": BUSINESS_UNIT_ID,
        "CorrelationId": event.correlation_id,
        "Depth": 1,
        "InitiatingUserId": event.user_id,
        "InputParameters": [
            {"key": "Target", "value": _entity(table, row, _target_columns(event))}
        ],
        "IsExecutingOffline": False,
        "IsInTransaction": False,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": event.message,
        "Mode": 1,
        "OperationCreatedOn": wcf_date(row["modifiedon"]),
        "OperationId": new_guid(),
        "OrganizationId": ORGANIZATION_ID,
        "OrganizationName": ORGANIZATION_NAME,
        "OutputParameters": output,
        "ParentContext": None,
        "PostEntityImages": images,
        "PreEntityImages": [],
        "PrimaryEntityId": row[primary],
        "PrimaryEntityName": table,
        "RequestId": new_guid(),
        "SecondaryEntityName": "none",
        "SharedVariables": [],
        "Stage": 40,
        "UserId": event.user_id,
    }


class WebhookEndpoint:
    """A state listener that queues one RemoteExecutionContext per change a step watches.

    `url=None` sends nothing until `configure` gives one. Dataverse retries a failed
    delivery once; so does this endpoint.

    NOTE: the shared sender retries after any failure, while Dataverse retries only after
    502, 503 or 504.
    """

    def __init__(
        self,
        new_guid: Callable[[], str],
        *,
        url: str | None,
        secret: str | None,
        auth: WebhookAuth = "header",
        header: str = DEFAULT_HEADER,
    ) -> None:
        self.sender = WebhookSender(self._auth_headers, retries=1)
        self._new_guid = new_guid
        self.configure(url, secret, auth=auth, header=header)

    def configure(
        self,
        url: str | None,
        secret: str | None,
        *,
        auth: WebhookAuth = "header",
        header: str = DEFAULT_HEADER,
    ) -> None:
        """Send later changes to `url` (None stops them), authenticated as `auth` selects."""
        self._secret = secret
        self._auth = auth
        self._header = header
        if url is not None and secret is not None and auth == "webhookkey":
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}{urlencode({'code': secret})}"
        self.sender.url = url

    def _auth_headers(self, _body: bytes) -> Mapping[str, str]:
        if self._secret is None or self._auth != "header":
            return {}
        return {self._header: self._secret}

    def __call__(self, event: ChangeEvent) -> None:
        if (event.table, event.message) not in _STEPS:
            return
        context = context_body(event, self._new_guid)
        headers = {
            "x-ms-dynamics-organization": f"{ORGANIZATION_NAME}.crm.dynamics.com",
            "x-ms-dynamics-entity-name": event.table,
            "x-ms-dynamics-request-name": event.message,
            "x-ms-correlation-request-id": self._new_guid(),
        }
        body = json.dumps(context).encode("utf-8")
        if len(body) > MAX_BODY_BYTES:
            context.update({name: [] for name in _STRIPPED}, ParentContext=None)
            body = json.dumps(context).encode("utf-8")
            headers["x-ms-dynamics-msg-size-exceeded"] = "true"
        self.sender.send(body, headers)
