"""Jira Cloud emulator: `JiraEmulator` for tests, `serve` for `tierbridge emulate jira`."""

from __future__ import annotations

from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.jira.serve import serve

__all__ = ["JiraEmulator", "serve"]
