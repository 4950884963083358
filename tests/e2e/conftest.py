"""The daemon end to end: both emulators, a runtime and an EmbeddedRunner with its webhook
server on a free port, wired to each other as `tierbridge demo` wires them.

The store is SQLite, or PostgreSQL in a fresh schema for tests parametrized with `pg_store`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import JIRA_WEBHOOK_SECRET, SNOW_WEBHOOK_SECRET, Stack, StackFactory
from tests.core.store.conftest import PG_URL, libpq_url, pg_unreachable_reason
from tierbridge.core.demo.stack import DemoStack
from tierbridge.core.runner import EmbeddedRunner

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Daemon:
    """A stack with a running daemon. `settle()` waits until both sides are quiet."""

    def __init__(self, stack: Stack, runner: EmbeddedRunner) -> None:
        self.stack = stack
        self.runner = runner
        emulators = stack.emulators
        self._demo = DemoStack(emulators.snow, emulators.jira, stack.rt, runner)

    def subscribe(self) -> None:
        """Send both emulators' webhooks to the daemon."""
        base = f"http://127.0.0.1:{self.runner.port}/webhooks"
        self.stack.emulators.snow.set_webhook(f"{base}/snow", SNOW_WEBHOOK_SECRET)
        self.stack.emulators.jira.set_webhook(f"{base}/jsm", JIRA_WEBHOOK_SECRET)

    def wait_for_first_poll(self, connector: str, timeout: float = 10.0) -> None:
        """Wait until the runner's first poll of `connector` has stored its watermark."""
        deadline = time.monotonic() + timeout
        while self.stack.rt.store.get_cursor(connector) is None:
            assert time.monotonic() < deadline, f"no poll of {connector} within {timeout} s"
            time.sleep(0.01)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every webhook was delivered and every event settled, both ways."""
        self._demo.settle(timeout)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Yield a PostgreSQL URL whose search_path is a new schema, dropped afterwards."""
    reason = pg_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)

    schema = f"tb_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for the default SQLite store, or a PostgreSQL URL in a fresh schema."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


DaemonFactory = Callable[..., Daemon]


@pytest.fixture
def start_daemon() -> Iterator[DaemonFactory]:
    """Start daemons on given stacks. After the test, each is stopped and the webhooks unsubscribed."""
    started: list[Daemon] = []

    def start(stack: Stack, *, subscribe: bool = True) -> Daemon:
        running = Daemon(stack, EmbeddedRunner(stack.rt).start())
        started.append(running)
        if subscribe:
            running.subscribe()
        return running

    yield start
    for running in started:
        running.stack.emulators.quiet()
        running.runner.stop(timeout=5)


@pytest.fixture
def daemon(make_stack: StackFactory, start_daemon: DaemonFactory) -> Daemon:
    """A running daemon on SQLite, subscribed to both emulators."""
    return start_daemon(make_stack())


@pytest.fixture
def daemon_on(
    make_stack: StackFactory, start_daemon: DaemonFactory, store_url: str | None
) -> Daemon:
    """A running daemon on each store backend, subscribed to both emulators."""
    return start_daemon(make_stack(store_url))
