"""The Table API's error envelope, `{"error": {"message", "detail"}, "status": "failure"}`.

Handlers raise `api_error(...)`; the app's exception handler renders it with this envelope.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

__all__ = ["NOT_FOUND_DETAIL", "api_error", "error_body"]

NOT_FOUND_DETAIL = "Record doesn't exist or ACL restricts the record retrieval"


def error_body(message: str, detail: str | None) -> dict[str, Any]:
    """Build the error envelope; instances send `detail: null` for some 400s."""
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


def api_error(
    status: int, message: str, detail: str | None, headers: dict[str, str] | None = None
) -> HTTPException:
    """Build the exception a handler raises to respond with `status` and the envelope."""
    return HTTPException(status, detail=error_body(message, detail), headers=headers)
