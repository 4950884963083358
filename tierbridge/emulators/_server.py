"""Serve an emulator's ASGI app over HTTPS on 127.0.0.1 from a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from tierbridge.emulators._tls import TlsFiles, ensure_tls_files

__all__ = ["EmulatorServer"]

_START_TIMEOUT_SECONDS = 10.0


class EmulatorServer:
    """One uvicorn server bound to 127.0.0.1; `port=0` picks a free port.

    Use as a context manager, or call `start()` and `stop()`. `base_url` is known once started.
    """

    def __init__(self, app: ASGIApp, *, tls_dir: Path, port: int = 0) -> None:
        self.tls: TlsFiles = ensure_tls_files(tls_dir)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without it, uvicorn's separate header and body writes meet delayed ACKs: ~40 ms a call.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            ssl_certfile=str(self.tls.server_cert),
            ssl_keyfile=str(self.tls.server_key),
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, name=f"emulator-{self.port}", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> EmulatorServer:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                msg = (
                    f"emulator on port {self.port} did not start within {_START_TIMEOUT_SECONDS} s"
                )
                raise RuntimeError(msg)
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_SECONDS)
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
