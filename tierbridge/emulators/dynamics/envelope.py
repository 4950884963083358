"""The Web API's error body, `{"error": {"code": "...", "message": "..."}}`.

Handlers raise `odata_error(...)`; the app's exception handler renders it. `code` is the
hexadecimal platform error code where Dataverse sends one and empty where it often sends
none (validation failures, 412).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

__all__ = [
    "DOES_NOT_EXIST",
    "INVALID_ARGUMENT",
    "NOT_FOUND_SEGMENT",
    "error_body",
    "odata_error",
]

#: The record does not exist (`ObjectDoesNotExist`).
DOES_NOT_EXIST = "0x80040217"
#: A request value or query option is not valid for the table.
NOT_FOUND_SEGMENT = "0x80060888"
#: A column value is not valid (bad option value, wrong state/status pair, read-only record).
INVALID_ARGUMENT = "0x80040203"


def error_body(code: str, message: str) -> dict[str, Any]:
    """Build the error body."""
    return {"error": {"code": code, "message": message}}


def odata_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HTTPException:
    """Build the exception a handler raises to respond with `status` and the error body."""
    return HTTPException(status, detail=error_body(code, message), headers=headers)
