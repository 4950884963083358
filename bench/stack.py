"""The bench's side of the wire: both emulators, their probes, the tracker and the load.

The system under test (the daemon, or the floor) runs as a child process and receives the
ServiceNow notices from `NoticeSender` and, for the daemon only, JSM's own webhooks.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.load import LoadGenerator
from bench.notices import NoticeSender
from bench.probe import CallCounts, RequestProbe
from bench.profiles import LatencyProfile
from bench.tracker import ChangeTracker
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator

__all__ = ["BenchStack", "Target"]

_SNOW_USER = "svc.tierbridge"
_JIRA_USER = "svc.tierbridge@example.com"
_SETTLE_POLL_SECONDS = 0.2
_QUIET_CHECKS = 3


class Target(Protocol):
    """The process that syncs: it takes notices at `base_url` and reports its queue depth."""

    @property
    def base_url(self) -> str: ...

    @property
    def pid(self) -> int: ...

    def queue_depth(self) -> int: ...


@dataclass
class BenchStack:
    """Everything in the bench's own process; the caller must call `stop()`."""

    snow: ServiceNowEmulator
    jira: JiraEmulator
    snow_probe: RequestProbe
    jira_probe: RequestProbe
    tracker: ChangeTracker
    notices: NoticeSender
    load: LoadGenerator
    secrets: dict[str, str]

    @classmethod
    def start(
        cls, workdir: Path, profile: LatencyProfile, *, seed: int, sender_threads: int
    ) -> BenchStack:
        """Start both emulators with `profile`'s delays, seeded with `seed` and `seed + 1`."""
        secrets = {
            "TIERBRIDGE_SNOW_PASSWORD": DEFAULT_PASSWORDS[_SNOW_USER],
            "TIERBRIDGE_JIRA_TOKEN": DEFAULT_TOKENS[_JIRA_USER],
            "TIERBRIDGE_SNOW_WEBHOOK_SECRET": os.urandom(16).hex(),
            "TIERBRIDGE_JIRA_WEBHOOK_SECRET": os.urandom(16).hex(),
        }
        tracker = ChangeTracker()
        snow_probe = RequestProbe(profile.sampler(seed))
        jira_probe = RequestProbe(profile.sampler(seed + 1))
        tls_dir = workdir / "tls"
        snow = ServiceNowEmulator(tls_dir=tls_dir, seed=seed, middleware=snow_probe).start()
        jira = JiraEmulator(tls_dir=tls_dir, middleware=jira_probe).start()

        notices = NoticeSender(
            tracker, secret=secrets["TIERBRIDGE_SNOW_WEBHOOK_SECRET"], threads=sender_threads
        )
        snow.state.listeners.append(notices)
        snow.state.listeners.append(snow_probe.note_change)
        jira.listeners.append(jira_probe.note_change)
        jira.listeners.append(tracker.on_jira_change)
        load = LoadGenerator(snow.state, tracker)
        return cls(snow, jira, snow_probe, jira_probe, tracker, notices, load, secrets)

    def point_at(self, target: Target | None, *, jira_webhooks: bool) -> None:
        """Send ServiceNow notices (and JSM webhooks if asked) to `target`; None stops them."""
        self.notices.url = f"{target.base_url}/webhooks/snow" if target else None
        jira_url = f"{target.base_url}/webhooks/jsm" if target and jira_webhooks else None
        self.jira.set_webhook(jira_url, self.secrets["TIERBRIDGE_JIRA_WEBHOOK_SECRET"])

    def calls(self) -> CallCounts:
        """Return the requests both emulators served so far."""
        return self.snow_probe.snapshot().plus(self.jira_probe.snapshot())

    def settle(self, target: Target, timeout: float) -> bool:
        """Wait until every change reached JSM and nothing is queued anywhere; False on timeout.

        Idle must hold for three checks in a row, since a JSM webhook still on its way
        turns into new work for the daemon.
        """
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            idle = (
                self.tracker.outstanding() == 0
                and self.notices.drain(0)
                and self.jira.drain_webhooks(max(0.1, deadline - time.monotonic()))
                and target.queue_depth() == 0
            )
            quiet = quiet + 1 if idle else 0
            if quiet >= _QUIET_CHECKS:
                return True
            time.sleep(_SETTLE_POLL_SECONDS)
        return False

    def issue_keys_by_sys_id(self) -> dict[str, str]:
        """Map each bench incident to the JSM issue the daemon created for it."""
        keys = self.tracker.issue_keys
        return {t.sys_id: keys[t.index] for t in self.load.tickets if t.index in keys}

    def stop(self) -> None:
        self.notices.url = None
        self.jira.stop()
        self.snow.stop()
