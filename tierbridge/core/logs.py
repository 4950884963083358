"""structlog set-up: one JSON object per line on stderr, with secrets redacted.

Event names and context keys are fixed in `LogKey` so dashboards can rely on them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "register_secret"]

_REDACTED = "[redacted]"
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|api[_-]?key|signature", re.I)
_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret value so that it is masked wherever it appears in a log line."""
    if len(value) >= 4:
        _known_secrets.add(value)


def _mask(value: Any) -> Any:
    if not isinstance(value, str) or not _known_secrets:
        return value
    for secret in _known_secrets:
        if secret in value:
            value = value.replace(secret, _REDACTED)
    return value


def redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask values under secret-looking keys and any registered secret value."""
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key):
            event[key] = _REDACTED
        else:
            event[key] = _mask(value)
    return event


def configure_logging(level: str = "info", *, renderer: str = "json") -> None:
    """Route structlog and stdlib logging to stderr, one JSON object (or console line) each."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: Iterable[Any] = (
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer()
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False),
    )
    structlog.configure(
        processors=list(processors),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)
