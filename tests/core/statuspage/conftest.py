"""Fixtures for the command tests, which run `tierbridge` in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """Put structlog's config back after each test, since `main` binds it to pytest's stderr."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
