"""One cluster bench run: start everything, replay, kill a worker, measure, count.

See `bench.cluster` for what the run does and prints.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench._scenario import L1_AGENT, L2_AGENT, write_config
from bench.cluster_checks import order_violations, polls_per_period_max
from bench.cluster_nodes import Node, Relay, start_node, start_worker, write_cluster_config
from bench.crash import CrashResult, _tally
from bench.daemon import free_port
from tierbridge.core.config import load_config
from tierbridge.core.demo.actors import L1Replay, L2Agent, replay_batches
from tierbridge.core.demo.dataset import read_histories
from tierbridge.core.demo.plan import choose_sample
from tierbridge.core.runners.connection import ensure_job_schema, job_connection_args
from tierbridge.core.runners.deferral import TASK_FIRE_TIMER, TASK_HANDLE_TICKET
from tierbridge.core.store import Store
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

__all__ = ["Cluster", "Outcome", "replay"]

PG_URL = os.environ.get(
    "TIERBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Short timings, so a killed worker's job runs again within seconds. Polls run every 2 s
#: and sweeps every 2 s. A worker sends a heartbeat every second and is dead after 4 s
#: without one. Idle workers look for unblocked jobs every 0.2 s. Leases last 3 s, longer
#: than any one event takes here.
POLL_SECONDS = 2.0
RUNNER_SETTINGS = {
    "heartbeat_seconds": 1,
    "stalled_after_seconds": 4,
    "sweep_seconds": 2,
    "fetch_interval_seconds": 0.2,
}
LEASE_SECONDS = 3.0
_WEBHOOK_NODES = 2
_SETTLE_TIMEOUT_SECONDS = 90.0
_KILL_WAIT_SECONDS = 5.0

_OPEN_JOBS = """
SELECT count(*) FROM procrastinate_jobs
 WHERE task_name = ANY(%s)
   AND (status = 'doing' OR (status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())))
"""
_BUSY_WORKERS = "SELECT worker_id FROM procrastinate_jobs WHERE status = 'doing' AND task_name = %s"


@dataclass
class Outcome:
    """The counts of one run, the problems behind them, and notes for stderr."""

    lost: int = 0
    duplicates: int = 0
    order_violations: int = 0
    polls_per_period_max: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Cluster:
    """Emulators, relay, webhook nodes and workers of one run; `stop()` ends them all."""

    workdir: Path
    snow: ServiceNowEmulator
    jira: JiraEmulator
    relay: Relay
    config_path: Path
    env: dict[str, str]
    store: Store
    jobs: tuple[str, str]
    schemas: tuple[str, str]
    nodes: list[Node] = field(default_factory=list)
    workers: list[Node] = field(default_factory=list)
    started_workers: int = 0

    @classmethod
    def start(cls, workdir: Path, workers: int, rng: random.Random) -> Cluster:
        """Create the schemas, serve the emulators and the relay, start nodes and workers."""
        schema = f"tb_cluster_{uuid.uuid4().hex[:10]}"
        job_schema = f"{schema}_jobs"
        admin, _ = job_connection_args(PG_URL, "public")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        store_url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        url = store_url.render_as_string(hide_password=False)

        tls_dir = workdir / "tls"
        snow = ServiceNowEmulator(tls_dir=tls_dir).start()
        jira = JiraEmulator(tls_dir=tls_dir).start()
        ports = [free_port() for _ in range(_WEBHOOK_NODES)]
        relay = Relay([f"http://127.0.0.1:{port}" for port in ports], rng)
        relay_url = relay.start()
        env = _environment()
        snow.set_webhook(f"{relay_url}/webhooks/snow", env["TIERBRIDGE_SNOW_WEBHOOK_SECRET"])
        jira.set_webhook(f"{relay_url}/webhooks/jsm", env["TIERBRIDGE_JIRA_WEBHOOK_SECRET"])

        base = write_config(
            workdir / "base.json",
            base_urls={"snow": snow.base_url, "jsm": jira.base_url},
            ca_cert=snow.ca_cert,
            store_url=url,
            poll_interval=POLL_SECONDS,
            queue={"lease_seconds": LEASE_SECONDS},
        )
        extra: dict[str, Any] = {
            "runner": "procrastinate",
            "procrastinate": {"job_schema": job_schema, **RUNNER_SETTINGS},
            "logging": {"level": "warning"},
        }
        configs = [
            write_cluster_config(base, workdir / f"node-{index}.json", port, extra)
            for index, port in enumerate(ports)
        ]
        # The store and the job tables are created here, once, before the children start.
        store = Store.open(url)
        ensure_job_schema(load_config(configs[0]))
        conninfo, kwargs = job_connection_args(url, job_schema)
        cluster = cls(
            workdir,
            snow,
            jira,
            relay,
            configs[0],
            env,
            store,
            (conninfo, kwargs["options"]),
            (schema, job_schema),
        )
        for index, (config, port) in enumerate(zip(configs, ports, strict=True)):
            cluster.nodes.append(start_node(config, port, f"node-{index}", workdir, env))
        for _ in range(workers):
            cluster.add_worker()
        return cluster

    def add_worker(self) -> Node:
        """Start one more worker and wait until it is registered."""
        name = f"worker-{self.started_workers}"
        self.started_workers += 1
        worker = start_worker(self.config_path, name, self.workdir, self.env, self.jobs)
        self.workers.append(worker)
        return worker

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run `sql` in the job schema and return its rows."""
        conninfo, options = self.jobs
        with psycopg.connect(conninfo, options=options, autocommit=True) as connection:
            return list(connection.execute(sql, params).fetchall())  # type: ignore[arg-type]

    def settle(self, *, kill: bool = False) -> str | None:
        """Deliver every notice and wait until the workers have handled everything.

        With `kill`, a worker running a ticket job is killed with SIGKILL during the first
        delivery and a new one started. Returns a description of the kill, if any.
        """
        killed: list[str] = []
        deadline = time.monotonic() + _SETTLE_TIMEOUT_SECONDS
        quiet_rounds = 0
        while quiet_rounds < 2:
            before = self._progress()
            self.snow.drain_webhooks(10)
            self.jira.drain_webhooks(10)
            killer = None
            if kill and not killed:
                # The jobs run while the relay posts, so the kill must watch meanwhile.
                killer = threading.Thread(target=lambda: killed.append(self.kill_busy_worker()))
                killer.start()
            self.relay.flush()
            if killer is not None:
                killer.join()
            self._wait_idle(deadline)
            time.sleep(0.1)
            idle = self._progress() == before and self.relay.held() == 0
            quiet_rounds = quiet_rounds + 1 if idle else 0
        return killed[0] if killed else None

    def _progress(self) -> tuple[int, int]:
        return sum(self.store.count_actions().values()), self.store.pending_count()

    def _wait_idle(self, deadline: float) -> None:
        while True:
            open_jobs = self.query(_OPEN_JOBS, [TASK_HANDLE_TICKET, TASK_FIRE_TIMER])[0][0]
            if self.store.pending_count() == 0 and open_jobs == 0:
                return
            if time.monotonic() > deadline:
                msg = f"the workers did not settle within {_SETTLE_TIMEOUT_SECONDS:.0f} s"
                raise TimeoutError(msg)
            time.sleep(0.05)

    def kill_busy_worker(self) -> str:
        """SIGKILL a worker while it runs a ticket job (any worker if none is seen), restart one."""
        by_id = {worker.worker_id: worker for worker in self.workers if worker.running}
        victim, busy = None, False
        deadline = time.monotonic() + _KILL_WAIT_SECONDS
        conninfo, options = self.jobs
        with psycopg.connect(conninfo, options=options, autocommit=True) as connection:
            while victim is None and time.monotonic() < deadline:
                rows = connection.execute(_BUSY_WORKERS, (TASK_HANDLE_TICKET,)).fetchall()
                busy_ids = [row[0] for row in rows if row[0] in by_id]
                if busy_ids:
                    victim, busy = by_id[busy_ids[0]], True
                time.sleep(0.001)
        victim = victim or next(iter(by_id.values()))
        victim.kill()
        self.workers.remove(victim)
        self.add_worker()
        return f"killed {victim.name} (procrastinate worker {victim.worker_id}) " + (
            "while it ran a ticket job" if busy else "while it was idle"
        )

    def stop(self, *, drop_schemas: bool) -> None:
        for node in [*self.workers, *self.nodes]:
            node.stop()
        self.relay.stop()
        self.store.close()
        self.jira.stop()
        self.snow.stop()
        if drop_schemas:
            admin, _ = job_connection_args(PG_URL, "public")
            with psycopg.connect(admin, autocommit=True) as connection:
                for schema in self.schemas:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS["svc.tierbridge"],
            "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS["svc.tierbridge@example.com"],
            "TIERBRIDGE_SNOW_WEBHOOK_SECRET": os.urandom(16).hex(),
            "TIERBRIDGE_JIRA_WEBHOOK_SECRET": os.urandom(16).hex(),
        }
    )
    return env


@dataclass
class _Agents:
    """The two agents through which `bench.crash`'s checks read both emulators."""

    l1: ServiceNowAgent
    l2: JiraAgent


def replay(cluster: Cluster, incidents: int, changes: int, *, kill: bool) -> Outcome:
    """Replay the scenario, add `changes` comments at once, then count what went wrong."""
    outcome = Outcome()
    snow, jira = cluster.snow, cluster.jira
    agents = _Agents(
        ServiceNowAgent(snow.base_url, snow.ca_cert, L1_AGENT, DEFAULT_PASSWORDS[L1_AGENT]),
        JiraAgent(jira.base_url, jira.ca_cert, L2_AGENT, DEFAULT_TOKENS[L2_AGENT]),
    )
    try:
        rule = load_config(cluster.config_path).escalation.to_L2
        priorities = [str(priority) for priority in rule.priorities]
        sample = choose_sample(read_histories(), incidents, priorities, rule.assignment_groups)
        l1 = L1Replay(agents.l1, snow.state)
        l2 = L2Agent(agents.l2, "L2")
        batches = list(replay_batches(sample))
        started = time.monotonic()
        # The kill comes in the busiest phase: the burst of comments, or else mid-replay.
        kill_batch = len(batches) // 2 if kill and not changes else None
        for index, batch in enumerate(batches):
            for planned, event_index in batch:
                l1.apply(planned, event_index)
            killed = cluster.settle(kill=index == kill_batch)
            if killed:
                outcome.notes.append(killed)
        l2.work({f"snow:{l1.sys_ids[p.number]}": p.l2_resolves for p in sample if p.escalates})
        cluster.settle()
        outcome.notes.append(
            f"replayed {len(sample)} incidents in {time.monotonic() - started:.1f} s, "
            f"{cluster.relay.posted} webhook posts"
        )
        if changes:
            targets = list(l1.sys_ids.values())
            outcome.notes.extend(_measure(cluster, agents.l1, targets, changes, kill=kill))

        result = CrashResult(kills=0)
        _tally(agents, sample, l1, l2, result)  # type: ignore[arg-type]
        outcome.lost, outcome.duplicates = result.lost, result.duplicates
        outcome.problems.extend(result.problems)
        outcome.problems.extend(
            f"dead event {event.id} ({event.connector} {event.ticket_id}): {event.last_error}"
            for event in cluster.store.list_events(status="dead", limit=1000)
        )
        violations = order_violations(cluster.store)
        outcome.order_violations = len(violations)
        outcome.problems.extend(violations)
        outcome.polls_per_period_max, periods = polls_per_period_max(*cluster.jobs)
        outcome.notes.append(f"poll periods run per connector: {periods}")
        return outcome
    finally:
        agents.l1.close()
        agents.l2.close()


def _measure(
    cluster: Cluster, l1: ServiceNowAgent, targets: list[str], changes: int, *, kill: bool
) -> list[str]:
    """Add `changes` public comments over `targets`, deliver the notices at once, time the sync.

    The time runs from the first delivery to the last sync log row written. With `kill`,
    a worker is killed during the burst, and the time includes its recovery.
    """
    for index in range(changes):
        target = targets[index % len(targets)]
        l1.add_comment(target, f"Follow-up {index}: any news?", internal=False)
    cluster.snow.drain_webhooks(30)
    began = datetime.now(UTC)
    machine_before, bench_before = _machine_cpu(), time.process_time()
    killed = cluster.settle(kill=kill)
    machine_after, bench_after = _machine_cpu(), time.process_time()
    rows = cluster.store.sync_log(since=began, limit=1_000_000)
    ended = max((row.at for row in rows), default=began)
    seconds = max((ended - began).total_seconds(), 1e-6)
    wall = max((datetime.now(UTC) - began).total_seconds(), 1e-6)
    notes = [killed] if killed else []
    killed_note = " (a worker was killed meanwhile)" if kill else ""
    notes.append(
        f"throughput: {changes} comments on {len(targets)} incidents with "
        f"{len(cluster.workers)} workers synced in {seconds:.2f} s, "
        f"{changes / seconds:.1f} changes/s{killed_note}"
    )
    busy = (machine_after - machine_before) / wall
    notes.append(
        f"cpu during the burst: {busy:.2f} of {os.cpu_count()} cores busy, "
        f"{(bench_after - bench_before) / wall:.2f} in the bench process (emulators, relay), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return notes


def _machine_cpu() -> float:
    """Return the CPU seconds all cores spent busy since boot, from /proc/stat (Linux)."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(value) for value in fields]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
