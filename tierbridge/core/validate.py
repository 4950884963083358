"""`tierbridge validate`: check a config file and its mappings without starting anything."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.errors import ConfigError, ConfigIssue

__all__ = ["check_config", "format_issues", "summary", "validate_config"]


def check_config(path: Path | str) -> tuple[AppConfig | None, list[ConfigIssue]]:
    """Load the config; return it, or None and every issue found. Secrets are not read."""
    try:
        return load_config(path), []
    except ConfigError as exc:
        return None, list(exc.issues) or [ConfigIssue(str(path), 1, 1, "", str(exc))]


def validate_config(path: Path | str) -> list[ConfigIssue]:
    """Return every issue in the config file and the mapping files it names; empty if valid."""
    return check_config(path)[1]


def format_issues(issues: Iterable[ConfigIssue]) -> str:
    """Render issues one per line as `file:line:column: key.path: message`, then a count."""
    lines = []
    for issue in issues:
        where = f"{issue.file}:{issue.line}:{issue.column}"
        lines.append(
            f"{where}: {issue.path}: {issue.message}" if issue.path else f"{where}: {issue.message}"
        )
    count = len(lines)
    lines.append(f"{_count(count, 'problem')} found")
    return "\n".join(lines)


def summary(config: AppConfig) -> str:
    """Return the line printed for a valid config: `config OK: 2 connectors, 2 mappings`."""
    connectors = len(config.connectors)
    mappings = len({str(settings.mapping) for settings in config.connectors.values()})
    return f"config OK: {_count(connectors, 'connector')}, {_count(mappings, 'mapping')}"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
