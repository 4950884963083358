"""Run the real daemon (`tierbridge run`) as a child process against the bench's emulators.

The config is the shipped demo config with the emulators' URLs, the CA bundle, a free port
and the bench's store put in. Its log lines go to `daemon.log` in the work folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import requests
from ruamel.yaml import YAML

__all__ = ["DEMO_CONFIG", "ChildProcess", "DaemonSettings", "free_port", "write_config"]

#: The shipped demo config that the bench config starts from.
DEMO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "demo.yaml"
_READY_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class DaemonSettings:
    """The values the bench puts into the demo config."""

    snow_url: str
    jira_url: str
    ca_bundle: Path
    store_url: str
    port: int
    log_level: str = "info"


def write_config(settings: DaemonSettings, path: Path) -> Path:
    """Write the bench's daemon config to `path`, with absolute mapping paths."""
    yaml = YAML(typ="safe", pure=True)
    config: dict[str, Any] = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config.setdefault("store", {})["url"] = settings.store_url
    config.setdefault("server", {}).update(host="127.0.0.1", port=settings.port)
    config.setdefault("logging", {})["level"] = settings.log_level
    urls = {"snow": settings.snow_url, "jsm": settings.jira_url}
    for name, connector in config["connectors"].items():
        connector["base_url"] = urls[name]
        connector["ca_bundle"] = str(settings.ca_bundle)
        connector["mapping"] = str((DEMO_CONFIG.parent / connector["mapping"]).resolve())
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    return path


def tierbridge_command() -> list[str]:
    """Return the command that starts the installed `tierbridge` CLI of this interpreter."""
    script = Path(sys.executable).parent / "tierbridge"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tierbridge.core.cli"]


class ChildProcess:
    """A daemon or floor process serving `/readyz` on `port`, stopped with SIGTERM."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._log: TextIO = log_path.open("w", encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - our own CLI, no shell
            command, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._session = requests.Session()
        self._session.trust_env = False

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = _READY_TIMEOUT_SECONDS) -> None:
        """Wait until `/readyz` returns 200; raise RuntimeError if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                msg = f"process exited with {self._process.returncode}; see {self.log_path}"
                raise RuntimeError(msg)
            try:
                if self._session.get(f"{self.base_url}/readyz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        msg = f"process not ready within {timeout:.0f} s; see {self.log_path}"
        raise RuntimeError(msg)

    def queue_depth(self) -> int:
        """Return the events received and not yet finished, from `/readyz`."""
        body = self._session.get(f"{self.base_url}/readyz", timeout=10).json()
        return int(body["queue_depth"])

    def stop(self) -> int:
        """Send SIGTERM, wait for the exit (SIGKILL after 20 s) and return the exit status."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._session.close()
        self._log.close()
        return self._process.returncode
