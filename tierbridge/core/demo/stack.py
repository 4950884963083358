"""Start the demo's moving parts: two emulators and the daemon, wired to each other."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

__all__ = ["DEMO_CONFIG", "DemoStack"]

#: The shipped demo config; the stack replaces its URLs, ports and store with local ones.
DEMO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "demo.yaml"

_SNOW_USER = "svc.tierbridge"
_JIRA_USER = "svc.tierbridge@example.com"
_SETTLE_ROUNDS = 50


@dataclass
class DemoStack:
    """The emulators, the runtime and the runner of one demo run."""

    snow: ServiceNowEmulator
    jira: JiraEmulator
    runtime: Runtime
    runner: EmbeddedRunner

    @classmethod
    def start(cls, workdir: Path, config_path: Path = DEMO_CONFIG) -> DemoStack:
        """Start everything on free ports under `workdir`; the caller must call `stop()`."""
        secrets = _export_secrets()
        tls_dir = workdir / "tls"
        snow = ServiceNowEmulator(tls_dir=tls_dir).start()
        jira = JiraEmulator(tls_dir=tls_dir).start()
        config = _local_config(load_config(config_path), snow, jira, workdir)
        runtime = build_runtime(config)
        runner = EmbeddedRunner(runtime).start()
        base = f"http://127.0.0.1:{runner.port}/webhooks"
        snow.set_webhook(f"{base}/snow", secrets["TIERBRIDGE_SNOW_WEBHOOK_SECRET"])
        jira.set_webhook(f"{base}/jsm", secrets["TIERBRIDGE_JIRA_WEBHOOK_SECRET"])
        return cls(snow, jira, runtime, runner)

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until every webhook was delivered and every event processed, both ways."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        for _ in range(_SETTLE_ROUNDS):
            before = self.runtime.store.count_actions()
            self.snow.drain_webhooks(max(1.0, deadline - time.monotonic()))
            self.jira.drain_webhooks(max(1.0, deadline - time.monotonic()))
            if not self.runner.wait_idle(max(1.0, deadline - time.monotonic())):
                msg = f"the daemon did not finish its queue within {timeout:.0f} s"
                raise TimeoutError(msg)
            quiet_rounds = quiet_rounds + 1 if self.runtime.store.count_actions() == before else 0
            if quiet_rounds >= 2:
                return
        msg = f"the daemon kept finding work after {_SETTLE_ROUNDS} rounds; look for a sync loop"
        raise TimeoutError(msg)

    def stop(self) -> None:
        self.runner.stop()
        self.runtime.close()
        self.jira.stop()
        self.snow.stop()


def _export_secrets() -> dict[str, str]:
    """Set the demo's credentials in the environment, as an operator would before `run`."""
    values = {
        "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS[_SNOW_USER],
        "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS[_JIRA_USER],
        "TIERBRIDGE_SNOW_WEBHOOK_SECRET": os.urandom(16).hex(),
        "TIERBRIDGE_JIRA_WEBHOOK_SECRET": os.urandom(16).hex(),
    }
    os.environ.update(values)
    return values


def _local_config(
    config: AppConfig, snow: ServiceNowEmulator, jira: JiraEmulator, workdir: Path
) -> AppConfig:
    """Point the demo config at the running emulators, a fresh store and a free port."""
    urls = {"snow": snow.base_url, "jsm": jira.base_url}
    connectors = {
        name: type(settings).model_validate(
            {**settings.model_dump(), "base_url": urls[name], "ca_bundle": snow.ca_cert}
        )
        for name, settings in config.connectors.items()
    }
    store = config.store.model_copy(update={"url": f"sqlite:///{workdir / 'tierbridge.db'}"})
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "store": store, "server": server})
