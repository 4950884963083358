"""Config keys of a Salesforce Service Cloud connector."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.core.connector_settings import (
    AttachmentSettings,
    ConnectorSettings,
    OAuthClientCredentials,
)

__all__ = ["DEFAULT_API_VERSION", "SalesforceSettings"]

DEFAULT_API_VERSION = "62.0"
#: Largest file, in MB, whose Base64 form fits the 50 MB JSON body an org accepts.
MAX_JSON_UPLOAD_MB = 37.5


class SalesforceSettings(ConnectorSettings):
    """One org's Cases, read and written through the REST API.

    `base_url` is the org's My Domain URL (`https://example.my.salesforce.com`): the
    client-credentials grant works only there. `auth.token_url` defaults to
    `<base_url>/services/oauth2/token`. `webhook.secret` is the token the Outbound Message
    endpoint URL carries as `?token=`. `webhook.signature_header` may name a header that
    carries it instead, for a proxy that moves it there.
    """

    system: Literal["salesforce"]
    auth: OAuthClientCredentials
    #: REST API version, as in `/services/data/v62.0/`.
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d{2,3}\.0$")
    #: The org's id (15 or 18 characters, `00D...`). Outbound messages from other orgs are rejected.
    organization_id: str
    #: Text field (External Id, 255 characters) that stores the source ticket's correlation key.
    correlation_field: str = Field(default="External_Ref__c", pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$")
    #: Rows one SOQL query reads before the next query resumes after the last row read.
    query_limit: int = Field(default=2000, ge=1, le=50000)

    @field_validator("attachments")
    @classmethod
    def _json_upload_limit(cls, value: AttachmentSettings) -> AttachmentSettings:
        if value.max_size_mb > MAX_JSON_UPLOAD_MB:
            msg = (
                f"max_size_mb {value.max_size_mb:g} is over {MAX_JSON_UPLOAD_MB:g}, the largest "
                "file the connector can upload as JSON; set it to that or lower"
            )
            raise ValueError(msg)
        return value

    @field_validator("organization_id")
    @classmethod
    def _org_id(cls, value: str) -> str:
        normalized = normalize_id(value)
        if not normalized.startswith("00D"):
            raise ValueError("an organization id starts with 00D; copy it from Company Information")
        return normalized
