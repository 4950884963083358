"""Environment variables set for the duration of one test and restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ScopedEnv"]


class ScopedEnv:
    """Set `values` in `os.environ` now; `restore()` puts back what was there before."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)

    def restore(self) -> None:
        """Put back the earlier values, and remove the variables that were unset before."""
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}
