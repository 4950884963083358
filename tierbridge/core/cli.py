"""The `tierbridge` command line: run, validate, emulate, demo, plus the modules in
`tierbridge.core.commands`, each of which adds its own subcommands through `register()`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_DEFAULT_TLS_DIR = Path("var/tls")


def _cmd_run(args: argparse.Namespace) -> int:
    from tierbridge.core.config import load_config
    from tierbridge.core.errors import ConfigError
    from tierbridge.core.logs import configure_logging
    from tierbridge.core.runner import EmbeddedRunner
    from tierbridge.core.runtime import build_runtime

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(config.logging.level)
    runtime = build_runtime(config)
    try:
        if config.runner == "procrastinate":
            # Workers (`tierbridge worker`) poll and handle events; this node takes webhooks.
            from tierbridge.core.runners.worker import serve_webhooks

            serve_webhooks(runtime)
        else:
            EmbeddedRunner(runtime, workers=args.workers).run_forever()
    finally:
        runtime.close()
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from tierbridge.core.validate import check_config, format_issues, summary

    config, issues = check_config(args.config)
    if issues or config is None:
        print(format_issues(issues), file=sys.stderr)
        return 1
    print(summary(config))
    if args.live:
        from tierbridge.core.ops.live_check import run_live_check

        return run_live_check(config, args.config)
    return 0


def _cmd_emulate(args: argparse.Namespace) -> int:
    import os

    secret = os.environ.get(args.webhook_secret_env) if args.webhook_secret_env else None
    if args.webhook_secret_env and not secret:
        msg = (
            f"environment variable {args.webhook_secret_env} is not set or empty; export the "
            "webhook secret in it, or leave out --webhook-secret-env to send unsigned webhooks"
        )
        print(msg, file=sys.stderr)
        return 2
    module = importlib.import_module(f"tierbridge.emulators.{args.system}.__main__")
    module.serve(args.port, args.tls_dir, args.webhook_url, secret)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from tierbridge.core.demo import run_demo
    from tierbridge.core.demo.scenarios import SCENARIOS

    if args.scenario not in SCENARIOS:
        print(
            f"unknown scenario {args.scenario!r}; choose one of: {', '.join(SCENARIOS)}",
            file=sys.stderr,
        )
        return 2
    return run_demo(
        incidents=args.incidents, keep=args.keep, verbose=args.verbose, scenario=args.scenario
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierbridge",
        description="Keep support tickets in sync between a client's ITSM tool and its support tiers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the sync daemon until SIGTERM")
    run.add_argument("--config", type=Path, required=True, help="path of the YAML config file")
    run.add_argument(
        "--workers", type=int, default=1, help="worker threads processing events (default 1)"
    )
    run.set_defaults(func=_cmd_run)

    validate = commands.add_parser(
        "validate", help="check a config and its mappings, list every problem"
    )
    validate.add_argument("--config", type=Path, required=True, help="path of the YAML config file")
    validate.add_argument(
        "--live",
        action="store_true",
        help="also read each instance's fields, choices, statuses and transitions and check "
        "the mappings against them (needs the secrets and network access)",
    )
    validate.set_defaults(func=_cmd_validate)

    emulate = commands.add_parser(
        "emulate", help="serve a local emulator of a vendor's REST API over HTTPS"
    )
    emulate.add_argument("system", choices=["servicenow", "jira", "salesforce", "dynamics"])
    emulate.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)"
    )
    emulate.add_argument(
        "--tls-dir", type=Path, default=_DEFAULT_TLS_DIR, help="folder for the generated CA"
    )
    emulate.add_argument("--webhook-url", help="URL that receives a signed webhook on every change")
    emulate.add_argument(
        "--webhook-secret-env", help="environment variable holding the webhook secret"
    )
    emulate.set_defaults(func=_cmd_emulate)

    demo = commands.add_parser(
        "demo", help="replay real tickets through local emulators of each tier (see --scenario)"
    )
    demo.add_argument(
        "--incidents", type=int, default=None, help="incidents to replay (default: the sample)"
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep the temporary folder with the store"
    )
    demo.add_argument("--verbose", action="store_true", help="print the daemon's JSON log lines")
    demo.add_argument(
        "--scenario",
        default="servicenow-jsm",
        help="systems in the tiers: servicenow-jsm (default), salesforce-jsm, "
        "dynamics-servicenow, salesforce-servicenow-jira (L1 Salesforce, L2 ServiceNow, L3 JSM)",
    )
    demo.set_defaults(func=_cmd_demo)

    _register_command_modules(commands)
    return parser


def _register_command_modules(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Let each module of `tierbridge.core.commands` add its subcommands."""
    import tierbridge.core.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        module.register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; return the exit status."""
    args = _parser().parse_args(argv)
    from tierbridge.core.logs import configure_logging

    # Commands print their results on stdout; log lines go to stderr, warnings and up.
    configure_logging("warning")
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
