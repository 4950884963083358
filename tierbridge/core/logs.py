"""structlog set-up: one JSON object per line on stderr, with secrets redacted.

Event names and context keys are fixed in `LogKey` so dashboards can rely on them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
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
    """Mask registered secrets in a string, and secrets in dicts, lists and tuples inside it."""
    if isinstance(value, Mapping):
        return {key: _masked_item(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    if not isinstance(value, str) or not _known_secrets:
        return value
    for secret in _known_secrets:
        if secret in value:
            value = value.replace(secret, _REDACTED)
    return value


def _masked_item(key: str, value: Any) -> Any:
    return _REDACTED if _SECRET_KEYS.search(key) else _mask(value)


def redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask values under secret-looking keys and any registered secret value, at any depth.

    Runs after `format_exc_info`, so a secret in an exception's message is masked as well.
    """
    for key, value in list(event.items()):
        event[key] = _masked_item(key, value)
    return event


def configure_logging(level: str = "info", *, renderer: str = "json") -> None:
    """Route structlog and stdlib logging to stderr, one JSON object (or console line) each."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: Iterable[Any] = (
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
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
