"""Run the daemon as a separate process against emulators served from this process.

The crash bench and the reliability tests use it to treat the daemon as an operator does:
start it with `python -m tierbridge.core.cli run --config FILE`, send it signals, and read
its store and both emulators from outside. `Scenario.start` serves a ServiceNow emulator (L1)
and a JSM emulator (L2), and writes a config built from `config/demo.yaml` that points at
them, at a fresh SQLite store and at a fixed local webhook port.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import requests
from starlette.types import ASGIApp

from tierbridge.core.store import Store
from tierbridge.core.yamlfile import load_yaml
from tierbridge.emulators._server import EmulatorServer
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

__all__ = ["Daemon", "Scenario", "write_config"]

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
L1_AGENT = "agent.l1"
L2_AGENT = "agent.l2@example.com"
_START_TIMEOUT_SECONDS = 30.0
_CONNECTORS = ("snow", "jsm")


@dataclass
class Daemon:
    """One `tierbridge run` process; its output goes to `log_path`."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = _START_TIMEOUT_SECONDS) -> None:
        """Wait until `/healthz` responds; raise RuntimeError if the process exits first."""
        deadline = time.monotonic() + timeout
        with requests.Session() as session:
            session.trust_env = False  # no proxy between us and 127.0.0.1
            while time.monotonic() < deadline:
                if not self.running:
                    msg = (
                        f"the daemon exited with status {self.process.returncode}; "
                        f"the end of {self.log_path}:\n{_tail(self.log_path)}"
                    )
                    raise RuntimeError(msg)
                try:
                    if session.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                        return
                except requests.ConnectionError:
                    pass
                time.sleep(0.05)
        msg = f"the daemon did not respond on /healthz within {timeout:.0f} s; see {self.log_path}"
        raise RuntimeError(msg)

    def kill(self) -> None:
        """Send SIGKILL and reap the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout: float) -> float:
        """Send SIGTERM and return the seconds until the process exited.

        Raises subprocess.TimeoutExpired (and kills the process) if it runs past `timeout`.
        """
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return time.monotonic() - started


@dataclass
class Scenario:
    """Two emulators, a generated config, the L1 and L2 agents, and the daemons started."""

    workdir: Path
    snow: ServiceNowEmulator
    jira: JiraEmulator
    config_path: Path
    store_url: str
    port: int
    env: dict[str, str]
    poll_interval: float
    l1: ServiceNowAgent
    l2: JiraAgent
    daemons: list[Daemon] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        poll_interval: float = 1.0,
        queue: dict[str, Any] | None = None,
        connector_overrides: dict[str, dict[str, Any]] | None = None,
        jira_middleware: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> Scenario:
        """Serve both emulators and write the daemon's config under `workdir`.

        `queue` sets the config's `queue:` section. `connector_overrides` sets keys of the
        `snow` and `jsm` connector entries (a `base_url`, say). `jira_middleware` wraps the
        JSM emulator's app, to slow it down for example. Call `stop()` when done.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        tls_dir = workdir / "tls"
        snow = ServiceNowEmulator(tls_dir=tls_dir).start()
        jira = JiraEmulator(tls_dir=tls_dir, middleware=jira_middleware).start()
        port = _free_port()
        env = _secrets()
        store_url = f"sqlite:///{workdir / 'tierbridge.db'}"
        config_path = write_config(
            workdir / "tierbridge.yaml",
            base_urls={"snow": snow.base_url, "jsm": jira.base_url},
            ca_cert=snow.ca_cert,
            store_url=store_url,
            port=port,
            poll_interval=poll_interval,
            queue=queue,
            connector_overrides=connector_overrides,
        )
        base = f"http://127.0.0.1:{port}/webhooks"
        snow.set_webhook(f"{base}/snow", env["TIERBRIDGE_SNOW_WEBHOOK_SECRET"])
        jira.set_webhook(f"{base}/jsm", env["TIERBRIDGE_JIRA_WEBHOOK_SECRET"])
        l1 = ServiceNowAgent(snow.base_url, snow.ca_cert, L1_AGENT, DEFAULT_PASSWORDS[L1_AGENT])
        l2 = JiraAgent(jira.base_url, jira.ca_cert, L2_AGENT, DEFAULT_TOKENS[L2_AGENT])
        return cls(workdir, snow, jira, config_path, store_url, port, env, poll_interval, l1, l2)

    # -- the daemon ---------------------------------------------------------------------

    def start_daemon(self, *, wait: bool = True) -> Daemon:
        """Start `tierbridge run` on the generated config and, if `wait`, wait until it serves."""
        log_path = self.workdir / "daemon.log"
        command = [
            sys.executable,
            "-m",
            "tierbridge.core.cli",
            "run",
            "--config",
            str(self.config_path),
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT
            )
        daemon = Daemon(process, self.port, log_path)
        self.daemons.append(daemon)
        if wait:
            daemon.wait_ready()
        return daemon

    def open_store(self) -> Store:
        """Open the daemon's store from this process; the caller closes it."""
        return Store.open(self.store_url)

    # -- waiting for the daemon ---------------------------------------------------------

    def settle(self, store: Store, *, catch_up: bool = False, timeout: float = 60.0) -> None:
        """Wait until the daemon has handled every change made so far, in both directions.

        Webhooks are drained first, then the inbox must be empty and stay so. With
        `catch_up`, each connector must also finish two polls after this call started, so
        that changes whose webhooks were lost while the daemon was down are read: the first
        poll may have started before the call.
        """
        deadline = time.monotonic() + timeout
        started = datetime.now(UTC)
        quiet_rounds = 0
        while quiet_rounds < 2:
            before = _progress(store)
            self.snow.drain_webhooks(_left(deadline))
            self.jira.drain_webhooks(_left(deadline))
            _wait_for(lambda: store.pending_count() == 0, deadline, "the inbox to empty")
            if catch_up:
                _wait_for_two_polls(store, started, deadline)
                catch_up = False
            time.sleep(0.05)
            quiet_rounds = quiet_rounds + 1 if _progress(store) == before else 0

    def reconnect_agents(self) -> None:
        """Drop the agents' pooled connections; later calls open new ones.

        The emulators close a connection after 5 s idle, and a request sent on it as it
        closes fails, so callers reconnect after a long wait.
        """
        self.l1.close()
        self.l2.close()

    # -- outages ------------------------------------------------------------------------

    def stop_jira_server(self) -> None:
        """Stop serving the JSM emulator's HTTPS port; its state and webhooks stay.

        Close the other clients' connections to it first: uvicorn waits for open
        connections when it stops, and leaves them unclosed after its 1 s grace period.
        """
        self.reconnect_agents()
        # Caught errors keep responses, and with them sockets, alive in reference cycles.
        gc.collect()
        # NOTE: the emulators have no restart method, so this reaches into their server.
        self.jira._server.stop()

    def restart_jira_server(self) -> None:
        """Serve the JSM emulator again on its old port, with its state as it was."""
        old = self.jira._server
        app = cast("ASGIApp", old._server.config.app)
        server = EmulatorServer(app, tls_dir=self.workdir / "tls", port=old.port)
        self.jira._server = server.start()

    def stop(self) -> None:
        """Kill every daemon still running, close the agents and stop both emulators."""
        for daemon in self.daemons:
            if daemon.running:
                daemon.kill()
        self.l1.close()
        self.l2.close()
        self.jira.stop()
        self.snow.stop()


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _secrets() -> dict[str, str]:
    """Return the daemon's environment: this one plus the credentials the demo config names."""
    env = dict(os.environ)
    env.update(
        {
            "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS["svc.tierbridge"],
            "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS["svc.tierbridge@example.com"],
            "TIERBRIDGE_SNOW_WEBHOOK_SECRET": os.urandom(16).hex(),
            "TIERBRIDGE_JIRA_WEBHOOK_SECRET": os.urandom(16).hex(),
        }
    )
    return env


def write_config(
    path: Path,
    *,
    base_urls: Mapping[str, str],
    ca_cert: Path,
    store_url: str,
    port: int = 0,
    poll_interval: float | None = None,
    queue: Mapping[str, Any] | None = None,
    connector_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write `config/demo.yaml` pointed at local emulators, store and port to `path`.

    `base_urls` maps the connectors `snow` and `jsm` to their emulators. `poll_interval`
    replaces the demo's poll intervals when given, `queue` becomes the `queue:` section,
    and `connector_overrides` sets keys of a connector entry (a `mapping`, say).
    """
    data, _locator = load_yaml(DEMO_CONFIG)
    overrides = connector_overrides or {}
    for name in _CONNECTORS:
        entry = data["connectors"][name]
        entry["base_url"] = base_urls[name]
        entry["ca_bundle"] = str(ca_cert)
        entry["mapping"] = str((DEMO_CONFIG.parent / entry["mapping"]).resolve())
        if poll_interval is not None:
            entry["poll_interval_seconds"] = poll_interval
        entry.update(overrides.get(name, {}))
    data["store"] = {"url": store_url}
    data["server"] = {"host": "127.0.0.1", "port": port}
    data["logging"] = {"level": "info"}
    if queue:
        data["queue"] = dict(queue)
    # JSON is valid YAML, and the config loader reads it as such.
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def _progress(store: Store) -> tuple[int, int]:
    """Sync log rows and unfinished events: they stay equal only while the daemon is idle."""
    return sum(store.count_actions().values()), store.pending_count()


def _wait_for_two_polls(store: Store, started: datetime, deadline: float) -> None:
    """Wait until each connector finished a poll after `started` and then one more.

    The first poll may have begun before `started`. The scheduler runs one poll of a
    connector at a time, so the second began after the first ended, after `started`.
    """
    for name in _CONNECTORS:
        first = _wait_for_cursor(store, name, started, deadline)
        _wait_for_cursor(store, name, first, deadline)


def _wait_for_cursor(store: Store, name: str, after: datetime, deadline: float) -> datetime:
    """Wait until the poll cursor of `name` was saved after `after`; return when it was."""
    while True:
        cursor = store.get_cursor(name)
        if cursor is not None and cursor.updated_at > after:
            return cursor.updated_at
        if time.monotonic() > deadline:
            msg = f"timed out waiting for a poll of {name}"
            raise TimeoutError(msg)
        time.sleep(0.05)


def _left(deadline: float) -> float:
    return max(0.5, deadline - time.monotonic())


def _wait_for(condition: Callable[[], bool], deadline: float, what: str) -> None:
    while not condition():
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.05)
