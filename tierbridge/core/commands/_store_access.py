"""Open the state store named by a config file, for commands that work on the store alone.

Such commands contact no ticketing system, so they work while the daemon runs (SQLite in WAL
mode and PostgreSQL both allow it) and while a vendor is down.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierbridge.core.store import Store

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "run_with_store"]

#: Exit status when the command could not do what was asked (an unknown id, say).
EXIT_FAILED = 1
#: Exit status when the config cannot be loaded or the store cannot be opened.
EXIT_CONFIG = 2


def run_with_store(config_path: Path, action: Callable[[Store], int]) -> int:
    """Open the store of the config at `config_path`, run `action` on it, and close it.

    Returns the action's exit status. When the config is invalid or the store cannot be
    opened, it prints the problem on stderr and returns EXIT_CONFIG; when the store fails
    during the action, it prints the error and returns EXIT_FAILED.
    """
    from tierbridge.core.config import load_config
    from tierbridge.core.errors import ConfigError, StoreError
    from tierbridge.core.store import Store

    try:
        config = load_config(config_path)
        store = Store.open(config.store.url)
    except (ConfigError, StoreError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    try:
        return action(store)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILED
    finally:
        store.close()
