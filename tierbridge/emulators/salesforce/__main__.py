"""Run the Salesforce emulator alone.

    python -m tierbridge.emulators.salesforce --port N --tls-dir DIR \
        [--webhook-url URL --webhook-secret-env VAR]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tierbridge.emulators.salesforce.emulator import DEFAULT_CLIENTS, SalesforceEmulator

__all__ = ["main", "serve", "startup_lines"]


def startup_lines(
    emulator: SalesforceEmulator, webhook_url: str | None, webhook_secret: str | None
) -> list[str]:
    """Return what a client needs to connect: URL, CA file, org, clients and message target."""
    lines = [
        f"Salesforce emulator at {emulator.base_url}",
        f"CA certificate: {emulator.ca_cert.resolve()}",
        f"organization id {emulator.organization_id}",
    ]
    lines += [
        f"client {client_id} / secret {secret} (runs as {username})"
        for client_id, (secret, username) in DEFAULT_CLIENTS.items()
    ]
    if webhook_url:
        token = "token in ?token=" if webhook_secret else "no token"
        lines.append(f"outbound messages ({token}) go to {webhook_url}")
    return lines


def serve(port: int, tls_dir: Path, webhook_url: str | None, webhook_secret: str | None) -> None:
    """Serve the emulator on 127.0.0.1:`port` until interrupted (Ctrl-C)."""
    with SalesforceEmulator(
        tls_dir=tls_dir, port=port, webhook_url=webhook_url, webhook_secret=webhook_secret
    ) as emulator:
        for line in startup_lines(emulator, webhook_url, webhook_secret):
            print(line, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tierbridge.emulators.salesforce")
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 picks a free one)"
    )
    parser.add_argument(
        "--tls-dir", type=Path, required=True, help="folder for the CA and server certificate"
    )
    parser.add_argument("--webhook-url", help="URL that receives the outbound messages")
    parser.add_argument(
        "--webhook-secret-env",
        metavar="VAR",
        help="environment variable holding the token added to the URL as ?token=",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve; return the exit status."""
    args = _parse(argv)
    secret = None
    if args.webhook_secret_env:
        secret = os.environ.get(args.webhook_secret_env)
        if not secret:
            print(f"environment variable {args.webhook_secret_env} is not set", file=sys.stderr)
            return 2
    serve(args.port, args.tls_dir, args.webhook_url, secret)
    return 0


if __name__ == "__main__":
    sys.exit(main())
