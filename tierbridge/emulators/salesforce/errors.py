"""The REST API's error body: a JSON array of `{"message", "errorCode", "fields"}` objects.

Handlers raise `api_error(...)`; the app's exception handler renders the array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException

__all__ = ["NOT_FOUND_MESSAGE", "FieldError", "api_error", "error_entry", "errors_response"]

NOT_FOUND_MESSAGE = "The requested resource does not exist"

#: One entry of an error array: (errorCode, message, fields).
FieldError = tuple[str, str, Sequence[str]]


#: Errors about the session or the org, not a record: their documented bodies carry only
#: `message` and `errorCode`.
_NO_FIELDS = frozenset({"INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED"})


def error_entry(code: str, message: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    """Build one entry of an error array."""
    if code in _NO_FIELDS:
        return {"message": message, "errorCode": code}
    return {"message": message, "errorCode": code, "fields": list(fields)}


def errors_response(
    status: int, errors: Sequence[FieldError], headers: dict[str, str] | None = None
) -> HTTPException:
    """Build the exception that responds with `status` and one array entry per error."""
    body = [error_entry(code, message, fields) for code, message, fields in errors]
    return HTTPException(status, detail=body, headers=headers)


def api_error(
    status: int,
    code: str,
    message: str,
    fields: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> HTTPException:
    """Build the exception that responds with `status` and a one-entry error array."""
    return errors_response(status, [(code, message, fields)], headers)
