"""The emulator target: the bundled emulator of a system, on HTTPS at 127.0.0.1.

One emulator per system runs for the whole test session (`EmulatorPool`). Each test gets a
fresh `EmulatedTarget`, which resets the emulator and sets its clock back to `CONTRACT_START`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierbridge.testing.adapter import SECRET_ENV, WRONG_SECRET_ENV
from tierbridge.testing.clock import ManualClock
from tierbridge.testing.env import ScopedEnv
from tierbridge.testing.settings import build_connector
from tierbridge.testing.sink import WebhookSink
from tierbridge.testing.target import MARKER, Delivery, Seeded, Target, Unsupported

if TYPE_CHECKING:
    from tierbridge.core.connector import Connector
    from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem

__all__ = ["EmulatedTarget", "EmulatorPool"]

_WRONG_PREFIX = "wrong-"


class EmulatorPool:
    """Emulators started on first use and stopped by `close()`, with one webhook sink for all."""

    def __init__(self, tls_dir: Path) -> None:
        self._tls_dir = tls_dir
        self._running: dict[str, tuple[EmulatedSystem, ManualClock]] = {}
        self.sink = WebhookSink().start()

    def get(self, contract: ContractAdapter) -> tuple[EmulatedSystem, ManualClock]:
        """Return the running emulator of the adapter's system and its clock."""
        if contract.system not in self._running:
            clock = ManualClock()
            emulated = contract.start_emulator(self._tls_dir, clock)
            self._running[contract.system] = (emulated, clock)
        return self._running[contract.system]

    def close(self) -> None:
        """Stop every emulator and the sink."""
        # Caught errors keep responses and their sockets alive in reference cycles, and the
        # servers wait for open connections when they stop, so collect them first.
        gc.collect()
        for emulated, _clock in self._running.values():
            emulated.stop()
        self._running.clear()
        self.sink.stop()


class EmulatedTarget(Target):
    """A system's emulator, reset for one test."""

    def __init__(self, contract: ContractAdapter, pool: EmulatorPool) -> None:
        super().__init__(contract.system, "emulator", contract.facts)
        self._contract = contract
        self._emulated, self._clock = pool.get(contract)
        self._sink = pool.sink
        self._emulated.reset()
        self._clock.rewind()
        self._sink.take()
        self._env = ScopedEnv(
            {
                SECRET_ENV.credential: self._emulated.credential,
                SECRET_ENV.webhook: self._emulated.webhook_secret,
                WRONG_SECRET_ENV.credential: _WRONG_PREFIX + self._emulated.credential,
                WRONG_SECRET_ENV.webhook: _WRONG_PREFIX + self._emulated.webhook_secret,
            }
        )
        self.settings = self._emulated.settings(SECRET_ENV)

    @property
    def emulated(self) -> EmulatedSystem:
        """The running emulator, for checks that talk to it directly."""
        return self._emulated

    def _build(self, overrides: Mapping[str, Any]) -> Connector:
        return build_connector(self.system, {**self.settings, **overrides})

    def invalid_credentials(self) -> dict[str, Any]:
        return self._contract.credential_override(self.settings, WRONG_SECRET_ENV.credential)

    def other_webhook_secret(self) -> dict[str, Any]:
        webhook = {**self.settings["webhook"], "secret": {"env": WRONG_SECRET_ENV.webhook}}
        return {"webhook": webhook}

    def now(self) -> datetime:
        return self._clock()

    def seed(self, title: str) -> Seeded:
        return self._emulated.seed(title if title.startswith(MARKER) else f"{MARKER} {title}")

    def advance(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def _arrange(self, action: Callable[[], None]) -> None:
        """Run an emulator hook; an Unsupported reason gets the system's name in front."""
        try:
            action()
        except Unsupported as exc:
            raise Unsupported(f"{self.system} {exc}") from exc

    def expire_sessions(self) -> None:
        self._arrange(self._emulated.expire_sessions)

    def throttle(self) -> None:
        retry_after = int(self.facts.throttle_retry_after or 0)
        self._arrange(lambda: self._emulated.throttle(retry_after))

    def fail_next(self, status: int) -> None:
        self._arrange(lambda: self._emulated.fail_next(status))

    def repeat_next_page(self) -> None:
        self._arrange(self._emulated.repeat_next_page)

    def delivery(self, seeded: Seeded) -> Delivery:
        """Change the ticket as the human agent and return the webhook the emulator sent."""
        self._sink.take()
        self._emulated.subscribe(self._sink.url, self._emulated.webhook_secret)
        try:
            self._emulated.touch(seeded, f"{MARKER} changed to send a webhook")
            self._emulated.drain()
        finally:
            self._emulated.subscribe(None, None)
        received = self._sink.take()
        if not received:
            msg = f"the {self.system} emulator sent no webhook after a change to {seeded.id}"
            raise AssertionError(msg)
        return received[-1]

    def resign(self, delivery: Delivery, body: bytes) -> Delivery:
        kept = delivery.without(*self._contract.webhook_auth_headers)
        headers = {**kept.headers, **self._contract.sign(body, self._emulated.webhook_secret)}
        return Delivery(headers, body)

    def strip_auth(self, delivery: Delivery) -> Delivery:
        return delivery.without(*self._contract.webhook_auth_headers)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._emulated.subscribe(None, None)
            self._env.restore()
