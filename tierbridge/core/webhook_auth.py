"""Checks shared by every webhook source: signature comparison, replay window, media type.

The intake server runs them in this order, each before any of the body is trusted:

1. the media type (415 unless one of `accepted_media_types(system)`, JSON by default);
2. the connector's signature check (401), which compares digests with `signatures_match`;
3. the replay window (401), for sources that sign a delivery time.

Sources and their signed time:

| system     | signed time                          | replay protection          |
|------------|--------------------------------------|----------------------------|
| jira       | body `timestamp`, epoch milliseconds | window, then delivery-id dedupe |
| servicenow | none: the business rule signs the body only | delivery-id dedupe only |

A source without a signed time is protected from replays only by the inbox's unique
delivery id, which a replay of a captured notice repeats, so it is stored once.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

__all__ = [
    "FUTURE_SKEW",
    "JSON_MEDIA_TYPES",
    "MEDIA_TYPES",
    "SIGNED_TIME_READERS",
    "accepted_media_types",
    "body_epoch_ms",
    "check_replay_window",
    "media_type_problem",
    "signatures_match",
]

JSON_MEDIA_TYPES = frozenset({"application/json"})
#: Media types per `system:` whose webhooks are not JSON; every other system sends JSON.
MEDIA_TYPES: dict[str, frozenset[str]] = {"salesforce": frozenset({"text/xml"})}
#: How far in the future a signed time may lie, for clock differences between the hosts.
FUTURE_SKEW = timedelta(minutes=5)

#: Reads the signed delivery time of one source from the verified headers and body.
SignedTimeReader = Callable[[Mapping[str, str], bytes], datetime | None]


def signatures_match(expected: str, received: str) -> bool:
    """Compare two signatures in constant time (`hmac.compare_digest` over UTF-8 bytes)."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


def accepted_media_types(system: str) -> frozenset[str]:
    """Return the media types a source's webhooks may use."""
    return MEDIA_TYPES.get(system, JSON_MEDIA_TYPES)


def media_type_problem(content_type: str | None, accepted: frozenset[str]) -> str | None:
    """Return why `content_type` is not one of `accepted`, or None if it is.

    Parameters (`; charset=UTF-8`) and case are ignored, and any `+json` suffix counts as
    JSON when JSON is accepted.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in accepted:
        return None
    if media_type.endswith("+json") and "application/json" in accepted:
        return None
    received = media_type or "no Content-Type header"
    return f"unsupported media type ({received}); send {' or '.join(sorted(accepted))}"


def body_epoch_ms(key: str) -> SignedTimeReader:
    """Return a reader for a top-level JSON key that contains epoch milliseconds."""

    def read(_headers: Mapping[str, str], body: bytes) -> datetime | None:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookPayloadError("webhook body is not valid JSON") from exc
        value = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None

    return read


#: Signed delivery time per `system:`; a system that is not listed signs none.
SIGNED_TIME_READERS: dict[str, SignedTimeReader] = {"jira": body_epoch_ms("timestamp")}


def check_replay_window(
    system: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    window_seconds: float,
) -> None:
    """Raise WebhookAuthError if a signed delivery time is missing, too old or in the future.

    Call it only after the signature check, since the time is trusted because it is signed.
    """
    reader = SIGNED_TIME_READERS.get(system)
    if reader is None:
        return
    sent_at = reader(headers, body)
    if sent_at is None:
        raise WebhookAuthError("delivery has no signed timestamp; the replay window needs one")

    age = now - sent_at
    if age > timedelta(seconds=window_seconds):
        msg = (
            f"delivery signed at {sent_at:%Y-%m-%dT%H:%M:%SZ} is older than "
            f"webhook.replay_window_seconds ({window_seconds:g} s); rejected as a possible replay"
        )
        raise WebhookAuthError(msg)
    if -age > FUTURE_SKEW:
        msg = (
            f"delivery signed at {sent_at:%Y-%m-%dT%H:%M:%SZ} lies more than "
            f"{FUTURE_SKEW.total_seconds():g} s in the future; check both hosts' clocks"
        )
        raise WebhookAuthError(msg)
