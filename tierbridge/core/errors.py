"""Every error tierbridge raises on purpose, grouped by what the caller should do about it.

    TierbridgeError
    ├── ConfigError                 bad config or mapping file; fix the file and restart
    │   └── MappingError            a value has no mapping; the ticket waits in the dead-letter queue
    ├── WebhookError                an intake request was rejected (carries the HTTP status)
    │   ├── WebhookAuthError        401: missing or wrong signature
    │   └── WebhookPayloadError     400: body is not what the source sends
    ├── StoreError                  the state store failed or holds something impossible
    └── ConnectorError              a call to a ticketing system failed
        ├── RetryableError          try again later: timeouts, 5xx, connection resets
        │   └── ThrottledError      429 or quota; carries the wait the vendor asked for
        ├── PermanentError          the same call will fail again until a person acts
        │   ├── AuthenticationError 401/403 on credentials
        │   └── RejectedError       400/409/422: the system refused this payload
        └── NotFoundError           404: the record does not exist or is hidden by ACLs

Connectors translate their client library's exceptions into these classes at their boundary,
so `core/` never imports a vendor exception. Messages name the value and the fix, and never
carry a secret or a ticket's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConfigIssue",
    "ConnectorError",
    "MappingError",
    "NotFoundError",
    "PermanentError",
    "RejectedError",
    "RetryableError",
    "StoreError",
    "ThrottledError",
    "TierbridgeError",
    "WebhookAuthError",
    "WebhookError",
    "WebhookPayloadError",
]


class TierbridgeError(Exception):
    """Root of every error tierbridge raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config or mapping file, located to the character."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(TierbridgeError):
    """A config or mapping file is invalid; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[ConfigIssue] | str) -> None:
        if isinstance(issues, str):
            self.issues: tuple[ConfigIssue, ...] = ()
            super().__init__(issues)
            return
        self.issues = tuple(issues)
        count = len(self.issues)
        lines = "\n".join(str(issue) for issue in self.issues)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in configuration:\n{lines}")


class MappingError(ConfigError):
    """A ticket carries a value its mapping cannot translate.

    Retrying cannot help, so the engine parks the ticket in the dead-letter queue until the
    mapping is fixed.
    """

    def __init__(
        self,
        mapping: str,
        field: str,
        value: object,
        allowed: Sequence[str],
        key: str | None = None,
    ) -> None:
        """`key` is where the entry belongs in the mapping file, `values.<field>` by default."""
        self.mapping = mapping
        self.field = field
        self.value = value
        self.allowed = tuple(allowed)
        choices = ", ".join(repr(item) for item in self.allowed) or "(none)"
        msg = (
            f"mapping {mapping!r} has no entry for {field} value {value!r}; "
            f"add it under {key or f'values.{field}'} in {mapping} or use one of: {choices}"
        )
        TierbridgeError.__init__(self, msg)
        self.issues = ()


class WebhookError(TierbridgeError):
    """An intake request was rejected; `status_code` is the HTTP answer to send."""

    status_code = 400


class WebhookAuthError(WebhookError):
    """The request's signature or token is missing or wrong."""

    status_code = 401


class WebhookPayloadError(WebhookError):
    """The request body is not a payload this source sends."""

    status_code = 400


class StoreError(TierbridgeError):
    """The state store failed, or holds a state that should be impossible."""


class ConnectorError(TierbridgeError):
    """A call to a ticketing system failed.

    Attributes carry the evidence: the connector name, the operation, the HTTP status and
    the record involved. None of them holds a credential.
    """

    def __init__(
        self,
        message: str,
        *,
        connector: str,
        operation: str,
        status: int | None = None,
        record: str | None = None,
    ) -> None:
        self.connector = connector
        self.operation = operation
        self.status = status
        self.record = record
        where = f"{connector} {operation}"
        if record:
            where += f" {record}"
        if status is not None:
            where += f" (HTTP {status})"
        super().__init__(f"{where}: {message}")


class RetryableError(ConnectorError):
    """A transient failure: the same call may succeed later."""


class ThrottledError(RetryableError):
    """The system asked us to slow down; `retry_after` is its wait in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class PermanentError(ConnectorError):
    """The call will keep failing until a person changes something."""


class AuthenticationError(PermanentError):
    """The credentials were refused."""


class RejectedError(PermanentError):
    """The system refused the payload (validation, data policy, conflict)."""


class NotFoundError(ConnectorError):
    """The record does not exist, or the integration user cannot see it."""
