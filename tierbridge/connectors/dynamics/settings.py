"""Config keys of a Dynamics 365 Customer Service connector."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from tierbridge.core.connector_settings import (
    AttachmentSettings,
    ConnectorSettings,
    OAuthClientCredentials,
    WebhookSettings,
)

__all__ = [
    "DEFAULT_ATTACHMENT_MAX_MB",
    "DEFAULT_WEBHOOK_HEADER",
    "DynamicsSettings",
    "DynamicsWebhookSettings",
    "PublicActivity",
]

#: Header that carries the shared value when webhooks authenticate with `HttpHeader`.
DEFAULT_WEBHOOK_HEADER = "x-tierbridge-webhook-key"
#: Activity tables a public comment may be written to (`regardingobjectid` points at the case).
PublicActivity = Literal["adx_portalcomment", "email", "phonecall", "task"]
#: Largest file copied to a case by default, in MB: 3.75 MB is 5 MB in Base64. Dataverse
#: checks `organization.maxuploadfilesize` (default 5,242,880) against the Base64 length of
#: a note's file. An administrator raises it in the environment's e-mail settings, up to
#: 128 MB; then raise `attachments.max_size_mb` to three quarters of the new limit.
DEFAULT_ATTACHMENT_MAX_MB = 3.75
_BIND_PATH = re.compile(r"^/(accounts|contacts)\([0-9a-fA-F-]{36}\)$")
_COLUMN = re.compile(r"^[a-z][a-z0-9_]*$")


class DynamicsWebhookSettings(WebhookSettings):
    """Authentication of the service endpoint's webhooks.

    `header` (Dataverse `HttpHeader`) sends `secret` in the header named by
    `signature_header`; `webhookkey` (Dataverse `WebhookKey`) sends it as the `code` query
    parameter. Either way it is a static shared value, not a signature.
    """

    auth: Literal["header", "webhookkey"] = "header"


class DynamicsSettings(ConnectorSettings):
    """One Dataverse organisation (`base_url`, such as `https://org.crm4.dynamics.com`) and its cases.

    Records report the modifying user as a systemuserid, so `integration_user` is the
    systemuserid of the application user the app registration acts as.
    """

    system: Literal["dynamics"]
    auth: OAuthClientCredentials
    webhook: DynamicsWebhookSettings | None = None
    #: Microsoft Entra ID tenant (directory) id or domain of the app registration.
    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9.-]+$")
    #: Entra ID host that issues tokens; national clouds and test emulators use another one.
    authority_host: HttpUrl = HttpUrl("https://login.microsoftonline.com")
    #: Text column that stores the other side's ticket id, for create-once searches.
    correlation_field: str = Field(default="new_externalref", pattern=_COLUMN.pattern)
    #: Extra case columns of type Date Only, read as dates and written as `YYYY-MM-DD`.
    date_only_fields: tuple[str, ...] = ()
    #: Customer bound to cases created without one, as `/accounts(<id>)` or `/contacts(<id>)`.
    default_customer: str | None = Field(default=None, pattern=_BIND_PATH.pattern)
    #: Activity table that receives public comments; None rejects them (notes are internal).
    public_notes_as: PublicActivity | None = None
    #: Subject of the case resolution written when a case is resolved through this connector.
    resolution_subject: str = Field(default="Resolved by tierbridge", min_length=1)
    # NOTE: Dataverse allows 52 or more concurrent requests per user and web server; one
    # client has reported a limit of 100. 8 stays well under both and is not a vendor figure.
    max_concurrent_requests: int = Field(default=8, ge=1, le=52)
    attachments: AttachmentSettings = Field(
        default_factory=lambda: AttachmentSettings(max_size_mb=DEFAULT_ATTACHMENT_MAX_MB)
    )

    @field_validator("attachments", mode="before")
    @classmethod
    def _dynamics_file_limit(cls, value: object) -> object:
        """Keep this system's default limit when a partial `attachments:` block omits it."""
        if isinstance(value, dict) and "max_size_mb" not in value:
            return {**value, "max_size_mb": DEFAULT_ATTACHMENT_MAX_MB}
        return value

    @field_validator("auth")
    @classmethod
    def _no_token_url(cls, value: OAuthClientCredentials) -> OAuthClientCredentials:
        if value.token_url is not None:
            msg = (
                "token_url is not used by dynamics; MSAL finds it from authority_host and tenant_id"
            )
            raise ValueError(msg)
        return value

    @field_validator("authority_host")
    @classmethod
    def _https_authority(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            msg = "authority_host must use https; MSAL rejects any other authority"
            raise ValueError(msg)
        return value

    @field_validator("date_only_fields")
    @classmethod
    def _column_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not _COLUMN.match(name)]
        if bad:
            msg = f"not column logical names (lower case, digits, '_'): {', '.join(bad)}"
            raise ValueError(msg)
        return value

    @property
    def authority(self) -> str:
        """The MSAL authority: `<authority host>/<tenant id>`."""
        return f"{str(self.authority_host).rstrip('/')}/{self.tenant_id}"

    @property
    def scope(self) -> str:
        """The token scope for this organisation: `<base url>/.default`."""
        return f"{self.url}/.default"

    @property
    def webhook_header(self) -> str:
        """The header that carries the shared value when webhooks use `HttpHeader`."""
        if self.webhook is not None and self.webhook.signature_header:
            return self.webhook.signature_header
        return DEFAULT_WEBHOOK_HEADER
