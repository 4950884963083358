"""`python -m tierbridge.emulators.jira`: run the Jira Cloud emulator in the foreground."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.serve import serve


def _parser() -> argparse.ArgumentParser:
    accounts = "; ".join(f"{email} / {token}" for email, token in DEFAULT_TOKENS.items())
    parser = argparse.ArgumentParser(
        prog="python -m tierbridge.emulators.jira",
        description=f"Serve a Jira Cloud emulator over HTTPS on 127.0.0.1. Accounts: {accounts}.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port to listen on; 0 (the default) picks a free one",
    )
    parser.add_argument(
        "--tls-dir",
        type=Path,
        required=True,
        help="folder for the generated CA and server certificate",
    )
    parser.add_argument("--webhook-url", help="URL that receives a webhook for every change")
    parser.add_argument(
        "--webhook-secret-env",
        metavar="VAR",
        help="environment variable holding the webhook signing secret",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    secret = None
    if args.webhook_secret_env:
        secret = os.environ.get(args.webhook_secret_env)
        if not secret:
            print(
                f"environment variable {args.webhook_secret_env} is not set or empty",
                file=sys.stderr,
            )
            return 2
    serve(args.port, args.tls_dir, args.webhook_url, secret)
    return 0


if __name__ == "__main__":
    sys.exit(main())
