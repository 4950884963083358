"""Wire details shared by the emulator's routes: error bodies, timestamps, JSON bodies, auth."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import JSONResponse

from tierbridge.emulators.jira.catalog import UserProfile

__all__ = [
    "ApiError",
    "epoch_ms",
    "issue_not_found",
    "jira_time",
    "jsm_date",
    "read_json",
    "utc_now_ms",
    "verify_basic_auth",
]


class ApiError(Exception):
    """An error response in Jira's shape.

    The platform API returns `{"errorMessages": [...], "errors": {field: message}}`. The JSM
    `servicedeskapi` returns `{"errorMessage": "...", "i18nErrorMessage": {...}}`.
    """

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: Mapping[str, str] | None = None,
        *,
        servicedesk: bool = False,
    ) -> None:
        self.status = status
        self.messages = messages or []
        self.errors = dict(errors or {})
        self.servicedesk = servicedesk
        super().__init__(f"HTTP {status}: {self.messages} {self.errors}")

    def to_response(self) -> JSONResponse:
        if self.servicedesk:
            text = " ".join([*self.messages, *self.errors.values()])
            body: dict[str, Any] = {
                "errorMessage": text,
                "i18nErrorMessage": {"i18nKey": "sd.emulator.error", "parameters": []},
            }
        else:
            body = {"errorMessages": self.messages, "errors": self.errors}
        return JSONResponse(body, status_code=self.status)


def issue_not_found(id_or_key: str, *, servicedesk: bool = False) -> ApiError:
    if servicedesk:
        return ApiError(
            404, ["Issue does not exist or you do not have permission to see it."], servicedesk=True
        )
    message = f"Issue {id_or_key} does not exist or you do not have permission to see it."
    return ApiError(404, [message])


def jira_time(moment: datetime, time_zone: str) -> str:
    """Format as Jira does, `2024-05-01T11:03:10.554+0200`, in the viewer's time zone."""
    local = moment.astimezone(ZoneInfo(time_zone))
    millis = local.microsecond // 1000
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}" + local.strftime("%z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def jsm_date(moment: datetime, time_zone: str) -> dict[str, Any]:
    """Return the JSM `DateDTO`: ISO 8601 without milliseconds, Jira format, text, epoch ms."""
    local = moment.astimezone(ZoneInfo(time_zone))
    offset = local.strftime("%z")
    return {
        "iso8601": local.strftime("%Y-%m-%dT%H:%M:%S") + offset,
        "jira": jira_time(moment, time_zone),
        "friendly": local.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": epoch_ms(moment),
    }


async def read_json(request: Request, *, servicedesk: bool = False) -> dict[str, Any]:
    """Parse the request body as a JSON object or raise a 400 in Jira's shape."""
    raw = await request.body()
    try:
        value = json.loads(raw.decode("utf-8", "replace") or "null")
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, [f"Unexpected character in request body: {exc.msg}"], servicedesk=servicedesk
        ) from exc
    if not isinstance(value, dict):
        raise ApiError(400, ["Request body must be a JSON object."], servicedesk=servicedesk)
    return value


def verify_basic_auth(
    header: str | None, tokens: Mapping[str, str], profiles: Mapping[str, UserProfile]
) -> UserProfile:
    """Return the profile of the e-mail and API token in a Basic header; raise 401 otherwise."""
    rejected = ApiError(401, ["Client must be authenticated to access this resource."])
    if not header or not header.lower().startswith("basic "):
        raise rejected
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise rejected from exc
    email, _, token = decoded.partition(":")
    expected = tokens.get(email)
    if expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        raise rejected
    return profiles[email]


def utc_now_ms(clock_value: datetime) -> datetime:
    """Convert a clock reading to UTC at millisecond precision, as Jira stores times."""
    moment = clock_value.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
