"""Run the emulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

from tierbridge.emulators.jira.emulator import JiraEmulator

__all__ = ["serve"]


def serve(port: int, tls_dir: Path, webhook_url: str | None, webhook_secret: str | None) -> None:
    """Serve on 127.0.0.1:`port` over HTTPS until interrupted; print where and how to connect."""
    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    with JiraEmulator(
        tls_dir=tls_dir, port=port, webhook_url=webhook_url, webhook_secret=webhook_secret
    ) as emulator:
        print(f"Jira emulator at {emulator.base_url}", flush=True)
        print(f"trust the CA in {emulator.ca_cert}", flush=True)
        print(f"users: {', '.join(sorted(emulator.state.profiles))}", flush=True)
        if webhook_url:
            signed = "signed" if webhook_secret else "unsigned"
            print(f"webhooks ({signed}) go to {webhook_url}", flush=True)
        stop.wait()
