"""Helpers the operator commands share: open the config, store or runtime, parse times, tables.

Commands call `run_reported(body)`, which turns the errors an operator can fix into a message
on stderr and an exit status: 2 for an invalid config, 1 for a store or connector failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tierbridge.core.errors import ConfigError, ConnectorError, StoreError

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import Store

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "add_config_argument",
    "format_table",
    "opened_runtime",
    "opened_store",
    "parse_time",
    "run_reported",
]

#: Exit status for a config or mapping file that does not load.
EXIT_CONFIG = 2
#: Exit status for a store or connector failure, or checks that found problems.
EXIT_FAILED = 1


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="path of the YAML config file")


def run_reported(body: Callable[[], int]) -> int:
    """Run a command body; print a config, store or connector error and return its status."""
    try:
        return body()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except (StoreError, ConnectorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


@contextmanager
def opened_store(path: Path) -> Iterator[tuple[AppConfig, Store]]:
    """Load the config at `path` and open its store; the store is closed on exit."""
    from tierbridge.core.config import load_config
    from tierbridge.core.store import Store

    config = load_config(path)
    store = Store.open(config.store.url)
    try:
        yield config, store
    finally:
        store.close()


@contextmanager
def opened_runtime(path: Path) -> Iterator[Runtime]:
    """Load the config, open the store and build every connector; all are closed on exit.

    Building a connector reads its secrets, so this raises ConfigError for a missing one.
    """
    from tierbridge.core.config import load_config
    from tierbridge.core.runtime import build_runtime

    runtime = build_runtime(load_config(path))
    try:
        yield runtime
    finally:
        runtime.close()


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a date means its midnight, a naive time means UTC.

    Raises argparse.ArgumentTypeError, so argparse reports the value and the expected form.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        msg = f"invalid time {text!r}; use ISO 8601 such as 2026-03-01 or 2026-03-01T08:30:00Z"
        raise argparse.ArgumentTypeError(msg) from None
    if len(text) <= len("2026-03-01"):
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows as left-aligned columns under a header line; the last column is not padded."""
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(widths[index]) for index, cell in enumerate(cells[:-1])]
        return "  ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
