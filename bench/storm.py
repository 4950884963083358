"""`python -m bench.storm`: sync through a 429 storm and count requests sent too early.

The bench starts the demo stack (a ServiceNow emulator as L1, a JSM emulator as L2 and the
daemon, all in this process) and makes the chosen emulator respond to the next `--storm`
requests with 429 and `Retry-After: --retry-after` seconds. It then writes `--incidents`
P1 incidents into the ServiceNow emulator's state, so each one is escalated to JSM. The
incidents are written to the state directly, because a person's own requests would be
throttled by the storm as well and would count against the daemon.

The emulator's fault injector counts every request that arrives while the last 429's
`Retry-After` is still running. Each connector runs with `rate_limit.max_concurrency`
(`--max-concurrency`, 1 by default), because with two calls in flight at once a call sent
before the other's 429 reached the daemon arrives inside the wait and counts as early,
although the daemon could not have known. The last line of output is
`storm requests=N early=E max_wait_s=W`: the requests the stormed emulator received, the
early ones (must be 0), and the longest time from a 429 to the next request. The exit
status is 1 when E is above zero or an incident was not escalated.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.demo.stack import DEMO_CONFIG, DemoStack
from tierbridge.core.logs import configure_logging
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.runtime import build_runtime
from tierbridge.emulators._faults import FaultInjector
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

_L1_AGENT = "agent.l1"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__)
    parser.add_argument("--incidents", type=int, default=5, help="P1 incidents to escalate")
    parser.add_argument("--storm", type=int, default=8, help="consecutive 429 responses")
    parser.add_argument(
        "--retry-after", type=int, default=2, help="Retry-After of each 429, in seconds"
    )
    parser.add_argument(
        "--target",
        choices=("jira", "snow", "both"),
        default="both",
        help="emulator that responds with the storm",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=1,
        help="rate_limit.max_concurrency of each connector; 0 sets no cap",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after seconds")
    return parser.parse_args(argv)


def _config(snow: ServiceNowEmulator, jira: JiraEmulator, workdir: Path, cap: int) -> AppConfig:
    """Point the demo config at the emulators and set the concurrency cap of both connectors."""
    config = load_config(DEMO_CONFIG)
    urls = {"snow": snow.base_url, "jsm": jira.base_url}
    rate_limit = {"max_concurrency": cap or None}
    connectors = {
        name: type(settings).model_validate(
            {
                **settings.model_dump(),
                "base_url": urls[name],
                "ca_bundle": snow.ca_cert,
                "rate_limit": rate_limit,
            }
        )
        for name, settings in config.connectors.items()
    }
    store = config.store.model_copy(update={"url": f"sqlite:///{workdir / 'tierbridge.db'}"})
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "store": store, "server": server})


def _start(workdir: Path, cap: int) -> DemoStack:
    """Start the emulators and the daemon the way the demo does, wired to each other."""
    secrets = {
        "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS["svc.tierbridge"],
        "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS["svc.tierbridge@example.com"],
        "TIERBRIDGE_SNOW_WEBHOOK_SECRET": os.urandom(16).hex(),
        "TIERBRIDGE_JIRA_WEBHOOK_SECRET": os.urandom(16).hex(),
    }
    os.environ.update(secrets)
    snow = ServiceNowEmulator(tls_dir=workdir / "tls").start()
    jira = JiraEmulator(tls_dir=workdir / "tls").start()
    runtime = build_runtime(_config(snow, jira, workdir, cap))
    runner = EmbeddedRunner(runtime).start()
    base = f"http://127.0.0.1:{runner.port}/webhooks"
    snow.set_webhook(f"{base}/snow", secrets["TIERBRIDGE_SNOW_WEBHOOK_SECRET"])
    jira.set_webhook(f"{base}/jsm", secrets["TIERBRIDGE_JIRA_WEBHOOK_SECRET"])
    return DemoStack(snow, jira, runtime, runner)


def _injectors(stack: DemoStack, target: str) -> list[FaultInjector]:
    chosen = {"jira": [stack.jira], "snow": [stack.snow], "both": [stack.snow, stack.jira]}
    return [emulator.faults for emulator in chosen[target]]


def _open_incidents(stack: DemoStack, count: int) -> None:
    for number in range(count):
        values = {
            "short_description": f"Storm bench incident {number}",
            "impact": "1",
            "urgency": "1",
        }
        stack.snow.state.insert("incident", values, user=_L1_AGENT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the storm once and print its figures; return 1 if a request came early."""
    args = _parse(argv)
    configure_logging("error")
    workdir = Path(tempfile.mkdtemp(prefix="tierbridge-storm-"))
    stack = _start(workdir, args.max_concurrency)
    try:
        injectors = _injectors(stack, args.target)
        for injector in injectors:
            injector.reset()
            injector.storm(args.storm, retry_after=args.retry_after)

        started = time.monotonic()
        _open_incidents(stack, args.incidents)
        stack.settle(args.timeout)
        elapsed = time.monotonic() - started

        stats = [injector.stats for injector in injectors]
        escalated = stack.runtime.store.count_actions().get("escalated", 0)
        dead = len(stack.runtime.store.list_events(status="dead", limit=1000))
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    requests = sum(item.requests for item in stats)
    early = sum(item.early for item in stats)
    throttled = sum(item.throttled for item in stats)
    max_wait = max(item.max_wait_seconds for item in stats)
    print(
        f"incidents={args.incidents} escalated={escalated} dead={dead} throttled={throttled} "
        f"target={args.target} retry_after_s={args.retry_after} "
        f"max_concurrency={args.max_concurrency} elapsed_s={elapsed:.1f}",
        file=sys.stderr,
    )
    print(f"storm requests={requests} early={early} max_wait_s={max_wait:.2f}")
    return 1 if early or escalated < args.incidents or dead else 0


if __name__ == "__main__":
    raise SystemExit(main())
