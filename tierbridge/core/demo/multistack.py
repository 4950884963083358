"""Start an emulator for every connector of a config, and the daemon wired to all of them.

This is the general form of `DemoStack`: any systems in any tiers, and configs with
tenants. Each connector gets its own emulator, so two tenants never share one. The stack
sets the secrets the config names in the environment, as an operator would before `run`,
and puts the previous values back when it stops.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierbridge.core.config import AppConfig
from tierbridge.core.connector_settings import BasicAuth, ConnectorSettings
from tierbridge.core.demo.desks import Desk
from tierbridge.core.demo.emulated import EmulatedSystem, emulate
from tierbridge.core.model import Tier
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.runtime import Runtime, build_runtime

__all__ = ["EmulatedStack", "local_config", "start_systems", "stop_systems"]

_SETTLE_ROUNDS = 50


@dataclass
class EmulatedStack:
    """The emulators (by connector name), the runtime and the runner of one run."""

    systems: dict[str, EmulatedSystem]
    runtime: Runtime
    runner: EmbeddedRunner
    #: The webhook secret of each connector, as its emulator signs or sends it.
    webhook_secrets: dict[str, str]
    _saved_environment: dict[str, str | None] = field(default_factory=dict)
    #: Whether `stop()` stops the emulators too.
    owns_systems: bool = True

    @classmethod
    def start(
        cls,
        config: AppConfig,
        workdir: Path,
        *,
        systems: dict[str, EmulatedSystem] | None = None,
        workers: int = 1,
        subscribe: bool = True,
    ) -> EmulatedStack:
        """Start the daemon under `workdir`; the caller must call `stop()`.

        `systems` are emulators started before, by connector name, which the stack uses
        and leaves running when it stops; without them it starts its own.
        """
        owned = systems is None
        running = start_systems(config, workdir / "tls") if systems is None else systems
        try:
            webhook_secrets = {name: secrets.token_hex(16) for name in config.connectors}
            saved = _export_secrets(config, running, webhook_secrets)
            runtime = build_runtime(local_config(config, running, workdir))
            runner = EmbeddedRunner(runtime, workers=workers).start()
        except BaseException:
            if owned:
                stop_systems(running)
            raise
        stack = cls(running, runtime, runner, webhook_secrets, saved, owns_systems=owned)
        if subscribe:
            stack.subscribe()
        return stack

    def webhook_url(self, connector: str) -> str:
        return f"http://127.0.0.1:{self.runner.port}/webhooks/{connector}"

    def subscribe(self, *connectors: str) -> None:
        """Send the named connectors' (default: all) change notices to the daemon."""
        for name in connectors or tuple(self.systems):
            self.systems[name].subscribe(self.webhook_url(name), self.webhook_secrets[name])

    def unsubscribe(self) -> None:
        for system in self.systems.values():
            system.subscribe(None, None)

    def connector_for(self, tier: Tier) -> str:
        """Return the connector that serves `tier`; raise KeyError if none does."""
        name = self.runtime.connector_for_tier(tier)
        if name is None:
            raise KeyError(f"no connector serves {tier}")
        return name

    def desk(self, connector: str, tier: Tier) -> Desk:
        """Return a desk for the person working in `connector`'s system at `tier`; close it after use."""
        return self.systems[connector].desk(tier)

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until every notice was delivered and every event processed, all ways."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        for _ in range(_SETTLE_ROUNDS):
            before = self.runtime.store.count_actions()
            for system in self.systems.values():
                system.drain(max(1.0, deadline - time.monotonic()))
            if not self.runner.wait_idle(max(1.0, deadline - time.monotonic())):
                msg = f"the daemon did not finish its queue within {timeout:.0f} s"
                raise TimeoutError(msg)
            quiet_rounds = quiet_rounds + 1 if self.runtime.store.count_actions() == before else 0
            if quiet_rounds >= 2:
                return
        msg = f"the daemon kept finding work after {_SETTLE_ROUNDS} rounds; look for a sync loop"
        raise TimeoutError(msg)

    def stop(self) -> None:
        """Stop the daemon and every emulator; restore the environment."""
        self.unsubscribe()
        self.runner.stop(timeout=5)
        self.runtime.close()
        if self.owns_systems:
            stop_systems(self.systems)
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_systems(config: AppConfig, tls_dir: Path) -> dict[str, EmulatedSystem]:
    """Start one emulator per connector of `config`, all trusting one CA in `tls_dir`."""
    systems: dict[str, EmulatedSystem] = {}
    try:
        for name, settings in config.connectors.items():
            systems[name] = emulate(settings, tls_dir)
    except BaseException:
        stop_systems(systems)
        raise
    return systems


def stop_systems(systems: dict[str, EmulatedSystem]) -> None:
    for system in systems.values():
        system.stop()


def _secret_variables(settings: ConnectorSettings) -> tuple[str | None, str | None]:
    """Return the environment variables of a connector's credential and webhook secret."""
    auth = settings.auth
    credential = auth.password if isinstance(auth, BasicAuth) else auth.client_secret
    webhook = settings.webhook.secret if settings.webhook is not None else None
    return credential.env, webhook.env if webhook is not None else None


def _export_secrets(
    config: AppConfig, systems: dict[str, EmulatedSystem], webhook_secrets: dict[str, str]
) -> dict[str, str | None]:
    """Set each secret the config reads from the environment; return the previous values."""
    values: dict[str, str] = {}
    for name, settings in config.connectors.items():
        credential, webhook = _secret_variables(settings)
        if credential is None:
            msg = f"connector {name}: the emulated stack sets secrets as environment variables; use {{env: NAME}}"
            raise ValueError(msg)
        values[credential] = systems[name].credential()
        if webhook is not None:
            values[webhook] = webhook_secrets[name]
    saved = {variable: os.environ.get(variable) for variable in values}
    os.environ.update(values)
    return saved


def _pointed(settings: ConnectorSettings, system: EmulatedSystem) -> ConnectorSettings:
    values: dict[str, Any] = {**settings.model_dump(), **system.connector_values()}
    return type(settings).model_validate(values)


def local_config(config: AppConfig, systems: dict[str, EmulatedSystem], workdir: Path) -> AppConfig:
    """Point `config` at the emulators, a fresh SQLite store in `workdir` and a free port."""
    connectors = {
        name: _pointed(settings, systems[name]) for name, settings in config.connectors.items()
    }
    store = config.store.model_copy(update={"url": f"sqlite:///{workdir / 'tierbridge.db'}"})
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "store": store, "server": server})
