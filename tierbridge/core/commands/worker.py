"""`tierbridge worker`: run a procrastinate worker that polls, handles events and fires timers.

The config must set `runner: procrastinate` and a PostgreSQL store. Start any number of
workers, on any hosts; `tierbridge run` on the same config serves the webhooks.
"""

from __future__ import annotations

import argparse
import sys

from tierbridge.core.commands._common import EXIT_CONFIG, add_config_argument, run_reported

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "worker",
        help="run a procrastinate worker (runner: procrastinate) until SIGTERM",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="jobs this worker runs at a time, each on its own thread (default 1)",
    )
    parser.add_argument("--name", help="worker name shown in procrastinate's logs")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        print(f"--concurrency must be 1 or more, not {args.concurrency}", file=sys.stderr)
        return EXIT_CONFIG
    return run_reported(lambda: _work(args))


def _work(args: argparse.Namespace) -> int:
    from tierbridge.core.config import load_config
    from tierbridge.core.logs import configure_logging
    from tierbridge.core.runners.worker import run_worker
    from tierbridge.core.runtime import build_runtime

    config = load_config(args.config)
    if config.runner != "procrastinate":
        print(
            f"{args.config}: `tierbridge worker` needs `runner: procrastinate` in the config; "
            "with the embedded runner, `tierbridge run` does the work itself",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    configure_logging(config.logging.level)
    runtime = build_runtime(config)
    try:
        run_worker(runtime, concurrency=args.concurrency, name=args.name)
    finally:
        runtime.close()
    return 0
