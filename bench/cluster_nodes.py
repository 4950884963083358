"""The moving parts of the cluster bench: the webhook relay, webhook nodes and workers.

The emulators post their notices to `Relay`, which keeps them until `flush()` and then
posts each one twice, all in a shuffled order, spread over the webhook nodes as a load
balancer would. Webhook nodes are `tierbridge run` processes and workers are
`tierbridge worker` processes, all on one generated config with `runner: procrastinate`.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import requests

__all__ = ["Node", "Relay", "start_node", "start_worker", "write_cluster_config"]

ROOT = Path(__file__).resolve().parents[1]
_READY_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 15.0
#: Headers a vendor's delivery carries that the receiver reads.
_FORWARDED = (
    "content-type",
    "x-snow-signature",
    "x-snow-delivery-id",
    "x-hub-signature",
    "x-atlassian-webhook-identifier",
    "x-atlassian-webhook-flow",
)


@dataclass
class Node:
    """One child process: a webhook node (`port` set) or a worker (`worker_id` set)."""

    process: subprocess.Popen[bytes]
    name: str
    log_path: Path
    port: int | None = None
    worker_id: int | None = None

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Send SIGKILL and reap the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Send SIGTERM, and SIGKILL if the process is still running after a while."""
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()


def _spawn(args: list[str], name: str, workdir: Path, env: dict[str, str]) -> tuple[Any, Path]:
    log_path = workdir / f"{name}.log"
    command = [sys.executable, "-m", "tierbridge.core.cli", *args]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    return process, log_path


def start_node(config: Path, port: int, name: str, workdir: Path, env: dict[str, str]) -> Node:
    """Start `tierbridge run` on `config` and wait until /healthz responds."""
    process, log_path = _spawn(["run", "--config", str(config)], name, workdir, env)
    node = Node(process, name, log_path, port=port)
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.trust_env = False
        while time.monotonic() < deadline:
            _check_running(node)
            try:
                if session.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    return node
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
    msg = f"{name}: /healthz did not respond within {_READY_TIMEOUT_SECONDS:.0f} s; see {log_path}"
    raise RuntimeError(msg)


def start_worker(
    config: Path, name: str, workdir: Path, env: dict[str, str], jobs_conninfo: tuple[str, str]
) -> Node:
    """Start `tierbridge worker` and wait until it registers in procrastinate's workers table."""
    conninfo, options = jobs_conninfo
    with psycopg.connect(conninfo, options=options, autocommit=True) as connection:
        before = _max_worker_id(connection)
        process, log_path = _spawn(
            ["worker", "--config", str(config), "--name", name], name, workdir, env
        )
        node = Node(process, name, log_path)
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            _check_running(node)
            newest = _max_worker_id(connection)
            if newest > before:
                node.worker_id = newest
                return node
            time.sleep(0.05)
    msg = f"{name} did not register within {_READY_TIMEOUT_SECONDS:.0f} s; see {log_path}"
    raise RuntimeError(msg)


def _max_worker_id(connection: psycopg.Connection[Any]) -> int:
    row = connection.execute("SELECT coalesce(max(id), 0) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


def _check_running(node: Node) -> None:
    if not node.running:
        msg = f"{node.name} exited with status {node.process.returncode}; see {node.log_path}"
        raise RuntimeError(msg)


@dataclass
class Relay:
    """Receives the emulators' notices on 127.0.0.1 and re-posts them on `flush()`."""

    targets: list[str]
    rng: random.Random
    copies: int = 2
    posted: int = 0
    _held: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Serve in a thread; return the base URL the emulators should post to."""
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED}
                with relay._lock:
                    relay._held.append((self.path, body, headers))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="relay", daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def flush(self) -> int:
        """Post every held notice `copies` times, shuffled, round robin over the targets."""
        with self._lock:
            batch, self._held = self._held, []
        deliveries = [item for item in batch for _ in range(self.copies)]
        self.rng.shuffle(deliveries)
        with requests.Session() as session:
            session.trust_env = False
            for index, (path, body, headers) in enumerate(deliveries):
                target = self.targets[index % len(self.targets)]
                response = session.post(f"{target}{path}", data=body, headers=headers, timeout=30)
                if response.status_code >= 300:
                    msg = f"webhook node {target} answered {response.status_code}: {response.text}"
                    raise RuntimeError(msg)
        self.posted += len(deliveries)
        return len(batch)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def write_cluster_config(base: Path, path: Path, port: int, extra: dict[str, Any]) -> Path:
    """Copy the JSON config at `base` to `path` with the server `port` and `extra` keys set."""
    data = json.loads(base.read_text(encoding="utf-8"))
    data["server"] = {"host": "127.0.0.1", "port": port}
    data.update(extra)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
