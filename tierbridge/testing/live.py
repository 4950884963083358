"""The live target: a real instance, with credentials from `TIERBRIDGE_LIVE_*` variables.

Every ticket a live test creates carries `MARKER` at the start of its title and is removed
when the test ends (deleted, or closed where the integration account may not delete), also
when the test fails. Situations that would need control over the vendor (a forced 429, an
expired session, a frozen clock, a webhook sent to this machine) are skipped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from tierbridge.core.errors import TierbridgeError
from tierbridge.testing.adapter import WRONG_SECRET_ENV
from tierbridge.testing.env import ScopedEnv
from tierbridge.testing.settings import build_connector
from tierbridge.testing.target import MARKER, Seeded, Target

if TYPE_CHECKING:
    import requests

    from tierbridge.core.connector import Connector
    from tierbridge.testing.adapter import ContractAdapter

__all__ = ["LiveTarget", "live_skip_reason", "raise_for_status"]

_log = structlog.get_logger(__name__)
_WRONG_SECRET = "tierbridge-contract-wrong-secret"  # noqa: S105 - deliberately wrong
_LIVE_STEP_SECONDS = 1.1


def live_skip_reason(contract: ContractAdapter, env: Mapping[str, str]) -> str | None:
    """Return why live tests of the system cannot run with `env`, or None if they can."""
    missing = contract.missing_live_variables(env)
    if not missing:
        return None
    return f"live {contract.system} instance not configured: set {', '.join(missing)}"


class LiveTarget(Target):
    """A live instance for one test; tickets it learns about are removed by `close()`."""

    def __init__(self, contract: ContractAdapter, env: Mapping[str, str]) -> None:
        super().__init__(contract.system, "live", contract.facts)
        self._live = contract.live_system(env)
        self._env = ScopedEnv({WRONG_SECRET_ENV.credential: _WRONG_SECRET})
        self.settings, self._wrong = self._live.settings(WRONG_SECRET_ENV.credential)
        self._created: list[Seeded] = []
        # Unique per test, so that a ticket an earlier run failed to remove is never found.
        self._correlation = f"servicenow:{uuid.uuid4().hex}"

    def _build(self, overrides: Mapping[str, Any]) -> Connector:
        return build_connector(self.system, {**self.settings, **overrides})

    def invalid_credentials(self) -> dict[str, Any]:
        return dict(self._wrong)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def correlation_key(self) -> str:
        return self._correlation

    def long_ago(self) -> datetime:
        """Return one hour ago: reading a live instance from 2000 would page through all of it.

        NOTE: live mode therefore checks an old cursor only an hour back; the recorded and
        emulator modes check one in 2000.
        """
        return self.now() - timedelta(hours=1)

    def seed(self, title: str) -> Seeded:
        seeded = self._live.seed(title if title.startswith(MARKER) else f"{MARKER} {title}")
        self._created.append(seeded)
        return seeded

    def created(self, ticket_id: str) -> None:
        self._created.append(Seeded(ticket_id))

    def advance(self, seconds: float) -> None:
        """Wait a little over a second, the coarsest change-time step of the bundled systems.

        A live clock cannot be moved, and waiting the full `seconds` would make the suite slow.
        One second is enough for a later change to get a later timestamp and version.
        """
        time.sleep(_LIVE_STEP_SECONDS)

    def close(self) -> None:
        try:
            super().close()
            for seeded in reversed(self._created):
                self._remove(seeded)
        finally:
            self._created.clear()
            self._live.close()
            self._env.restore()

    def _remove(self, seeded: Seeded) -> None:
        """Remove one ticket; a failure is logged with the id, so a person can remove it."""
        try:
            self._live.remove(seeded)
        except (TierbridgeError, RuntimeError, OSError, ValueError) as exc:
            _log.warning(
                "contract_cleanup_failed",
                system=self.system,
                ticket=seeded.id,
                error=type(exc).__name__,
            )


def raise_for_status(response: requests.Response, action: str) -> None:
    """Raise RuntimeError naming `action` and the status if the response is an error."""
    if response.status_code >= 400:
        msg = f"{action} failed with HTTP {response.status_code}; check the account's permissions"
        raise RuntimeError(msg)
