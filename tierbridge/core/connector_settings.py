"""Settings every connector shares; each system's package adds its own keys by subclassing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from tierbridge.core.limits.limiter import (
    DEFAULT_ALLOCATION_CEILING,
    DEFAULT_ALLOCATION_RECHECK_SECONDS,
    DEFAULT_MAX_BLOCK_SECONDS,
)
from tierbridge.core.secrets import SecretRef

__all__ = [
    "AttachmentSettings",
    "BasicAuth",
    "ConnectorSettings",
    "OAuthClientCredentials",
    "RateLimitSettings",
    "WebhookSettings",
]

DEFAULT_POLL_INTERVAL_SECONDS = 60.0
DEFAULT_POLL_OVERLAP_SECONDS = 120.0
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_PAGE_SIZE = 100
DEFAULT_REPLAY_WINDOW_SECONDS = 24 * 3600.0
#: Largest file copied to a connector when its settings name no limit, in MB (2**20 bytes).
#: Set `attachments.max_size_mb` to the instance's own limit.
DEFAULT_ATTACHMENT_MAX_MB = 10.0


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BasicAuth(_Settings):
    """User name and password (ServiceNow) or e-mail and API token (Jira Cloud)."""

    type: Literal["basic"]
    username: str = Field(min_length=1)
    password: SecretRef


class OAuthClientCredentials(_Settings):
    """OAuth 2.0 client-credentials grant; `token_url` defaults to the system's usual path."""

    type: Literal["oauth_client_credentials"]
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    token_url: HttpUrl | None = None


Auth = Annotated[BasicAuth | OAuthClientCredentials, Field(discriminator="type")]


class WebhookSettings(_Settings):
    """How incoming webhooks from this connector are authenticated."""

    secret: SecretRef
    #: Header that carries the signature; each system's settings give the vendor's default.
    signature_header: str | None = None
    #: Oldest signed delivery time accepted, in seconds. Only sources that sign a timestamp
    #: are checked (Jira's body `timestamp`); ServiceNow notices carry none.
    replay_window_seconds: float = Field(default=DEFAULT_REPLAY_WINDOW_SECONDS, gt=0)


class RateLimitSettings(_Settings):
    """Client-side limits on the calls of one connector, on top of the vendor's answers."""

    #: Longest a call waits for a throttled scope, in seconds; a longer wait raises instead,
    #: and the event waits in the inbox.
    max_block_seconds: float = Field(default=DEFAULT_MAX_BLOCK_SECONDS, ge=0)
    #: Most calls in flight at once; None sets no cap (Dataverse allows 52 per user).
    max_concurrency: int | None = Field(default=None, ge=1)
    #: Share of a daily API allocation (Salesforce) the connector may use before it defers.
    allocation_ceiling: float = Field(default=DEFAULT_ALLOCATION_CEILING, gt=0, le=1)
    #: Seconds a connector at its allocation ceiling waits before it tries one call again.
    allocation_recheck_seconds: float = Field(default=DEFAULT_ALLOCATION_RECHECK_SECONDS, gt=0)


class AttachmentSettings(_Settings):
    """File copying to and from this connector: whether it is on, and the size limit."""

    #: False: files are neither copied from this connector's tickets nor to them.
    enabled: bool = True
    #: Largest file copied to this connector, in MB (2**20 bytes). A larger file is skipped
    #: and an internal note on the ticket names it.
    max_size_mb: float = Field(default=DEFAULT_ATTACHMENT_MAX_MB, gt=0)

    @property
    def max_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)


class ConnectorSettings(_Settings):
    """Keys common to every connector entry under `connectors:` in the config."""

    system: str
    base_url: HttpUrl
    mapping: Path
    auth: Auth
    webhook: WebhookSettings | None = None
    poll_interval_seconds: float = Field(default=DEFAULT_POLL_INTERVAL_SECONDS, gt=0)
    poll_overlap_seconds: float = Field(default=DEFAULT_POLL_OVERLAP_SECONDS, ge=0)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=1000)
    #: PEM bundle of the CA that signed the instance's certificate; None uses the system store.
    ca_bundle: Path | None = None
    #: The integration account's login; changes made by it are our own writes coming back.
    integration_user: str | None = None
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            msg = (
                f"base_url must use https, got {value.scheme}://; ticketing APIs carry credentials"
            )
            raise ValueError(msg)
        return value

    @property
    def url(self) -> str:
        """The base URL without a trailing slash."""
        return str(self.base_url).rstrip("/")
