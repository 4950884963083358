"""Run the emulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator

__all__ = ["serve", "startup_lines"]


def startup_lines(
    emulator: JiraEmulator, webhook_url: str | None, webhook_secret: str | None
) -> list[str]:
    """Return what a client needs to connect: URL, CA file, accounts and where webhooks go.

    Each account is its e-mail address and API token, the basic-auth pair of Jira Cloud.
    """
    lines = [
        f"Jira emulator at {emulator.base_url}",
        f"CA certificate: {emulator.ca_cert.resolve()}",
    ]
    lines += [f"user {email} / API token {token}" for email, token in DEFAULT_TOKENS.items()]
    if webhook_url:
        signed = "signed" if webhook_secret else "unsigned"
        lines.append(f"webhooks ({signed}) go to {webhook_url}")
    return lines


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
        for line in startup_lines(emulator, webhook_url, webhook_secret):
            print(line, flush=True)
        stop.wait()
