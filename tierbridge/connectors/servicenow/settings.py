"""Config keys of a ServiceNow connector."""

from __future__ import annotations

from typing import Literal

from tierbridge.core.connector_settings import ConnectorSettings

__all__ = ["ServiceNowSettings"]


class ServiceNowSettings(ConnectorSettings):
    """A ServiceNow instance, one table of it (incidents, or CSM cases)."""

    system: Literal["servicenow"]
    table: Literal["incident", "sn_customerservice_case"] = "incident"
    #: Header in which the business rule sends its base64 HMAC-SHA256 of the body.
    signature_header: str = "X-Snow-Signature"
