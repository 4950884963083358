"""The emulators of one pair, started once, and the daemon runtimes built on them per seed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._history import dynamics, jira, salesforce, servicenow
from bench._history.actors import ACTORS, PAIRS, Actor, Pair
from bench._history.clock import ScenarioClock
from bench._history.faults import CrashingConnector, Fuse
from bench._history.journal import Journal
from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.retry import CallPolicy
from tierbridge.core.runtime import Runtime, build_runtime
from tierbridge.core.store import Store

__all__ = ["World"]

#: Modules whose import registers their actor in `ACTORS`.
ACTOR_MODULES = (dynamics, jira, salesforce, servicenow)


def _no_sleep(_seconds: float) -> None:
    """Stand in for time.sleep: a retry's wait passes on the scenario clock, not the wall."""


@dataclass
class World:
    """Both emulators, their actors, the shared clock and the daemon's config."""

    pair: Pair
    clock: ScenarioClock
    l1: Actor
    l2: Actor
    config: AppConfig
    workdir: Path
    template: Path

    @classmethod
    def start(cls, workdir: Path, pair_name: str = "servicenow-jsm") -> World:
        """Start the pair's emulators under `workdir`; the caller must call `stop()`."""
        pair = PAIRS[pair_name]
        clock = ScenarioClock()
        actors = []
        for connector, system in (pair.l1, pair.l2):
            actor_class = ACTORS[system]
            os.environ.update(actor_class.secrets)
            emulator = actor_class.start_emulator(workdir / "tls", clock)
            actors.append(actor_class(connector, emulator))
        l1, l2 = actors
        config = _local_config(load_config(pair.config), [l1, l2])
        template = workdir / "template.db"
        Store.open(f"sqlite:///{template}").close()
        return cls(pair, clock, l1, l2, config, workdir, template)

    @property
    def actors(self) -> list[Actor]:
        return [self.l1, self.l2]

    def reset(self) -> None:
        """Empty both emulators and rewind the clock, for the next seed."""
        for actor in self.actors:
            actor.sink = None
            actor.reset()
        self.clock.reset()

    def new_store(self, seed: int) -> str:
        """Return the URL of a fresh store for `seed`, copied from a migrated template."""
        path = self.workdir / f"seed-{seed}.db"
        for leftover in self.workdir.glob(f"seed-{seed}.db*"):
            leftover.unlink()
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop_store(self, seed: int) -> None:
        for leftover in self.workdir.glob(f"seed-{seed}.db*"):
            leftover.unlink()

    def runtime(self, store_url: str, fuse: Fuse, journal: Journal) -> Runtime:
        """Build a daemon runtime on `store_url`, with connectors that `fuse` can crash.

        Every snapshot the engine saves is also noted in `journal`, so that the oracle can
        tell what the daemon took each ticket to contain, and when.
        """
        store = Store.open(store_url)
        save = store.save_snapshot

        def save_and_note(
            connector: str, ticket_id: str, version: str | None, data: dict[str, Any]
        ) -> None:
            save(connector, ticket_id, version, data)
            journal.note_synced(connector, ticket_id, data)

        store.save_snapshot = save_and_note  # type: ignore[method-assign]
        rt = build_runtime(self.config, store=store)
        rt.policy = CallPolicy(sleep=_no_sleep)
        rt.clock = self.clock
        rt.connectors = {
            name: CrashingConnector(connector, fuse) for name, connector in rt.connectors.items()
        }
        return rt

    def stop(self) -> None:
        for actor in reversed(self.actors):
            actor.close()
        shutil.rmtree(self.workdir / "tls", ignore_errors=True)


def _local_config(config: AppConfig, actors: list[Actor]) -> AppConfig:
    """Point the pair's config at the emulators, with the server on a free port."""
    connectors = dict(config.connectors)
    for actor in actors:
        settings = connectors[actor.connector]
        values = {**settings.model_dump(), **actor.settings_overrides()}
        connectors[actor.connector] = type(settings).model_validate(values)
    server = config.server.model_copy(update={"port": 0})
    return config.model_copy(update={"connectors": connectors, "server": server})
