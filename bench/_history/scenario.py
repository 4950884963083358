"""Play one seed: people change tickets on both sides while the daemon syncs, then settle.

Everything runs on one thread in an order drawn from the seed: a person's change, a batch
of webhook deliveries, a few events handled, a poll, a restart or a crash. The emulators
respond on their own threads, but the scenario waits for each response, so a seed replays
the same way every time. When the steps are done, `settle` delivers what is left, handles every
event, polls both sides and repeats until nothing changes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bench._history.actors import Actor, Sink
from bench._history.deliveries import Deliveries
from bench._history.faults import Fuse, SimulatedCrash
from bench._history.journal import Journal
from bench._history.world import World
from tierbridge.core.engine import handle_event
from tierbridge.core.poller import poll_connector
from tierbridge.core.runtime import Runtime

__all__ = ["HumanComment", "SeedRun", "play"]

#: Rounds of deliver, handle and poll that `settle` allows before it calls the seed a loop.
SETTLE_ROUNDS = 12
#: Events one settle round may handle before it calls the seed a loop.
MAX_EVENTS_PER_ROUND = 400
#: Priorities people pick, P2 twice as often. Each pair keeps those both sides have.
_PRIORITIES = ("P1", "P2", "P2", "P3", "P4")
#: Tickets one seed opens at most.
MAX_TICKETS = 3


@dataclass
class HumanComment:
    """A comment a person posted; `texts` lists every body it had, the current one last."""

    connector: str
    ticket: str
    comment_id: str
    public: bool
    texts: list[str]


@dataclass
class SeedRun:
    """The state of one seed while it plays, and what the oracle needs afterwards."""

    world: World
    seed: int
    rng: random.Random
    journal: Journal
    deliveries: Deliveries
    fuse: Fuse
    store_url: str
    rt: Runtime
    comments: list[HumanComment] = field(default_factory=list)
    titles: dict[str, list[str]] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    restarts: int = 0
    crashes: int = 0
    settled: bool = False
    _tokens: int = 0

    def token(self, kind: str) -> str:
        """Return a text unique in this seed; the brackets keep one token out of another."""
        self._tokens += 1
        return f"<s{self.seed}{kind}{self._tokens}>"

    def restart(self) -> None:
        """Stop the daemon and start a new runtime on the same store."""
        self.rt.close()
        self.rt = self.world.runtime(self.store_url, self.fuse, self.journal)
        self.restarts += 1

    def work(self, limit: int) -> int:
        """Handle up to `limit` events that are due now, one at a time."""
        lease = self.rt.config.queue.lease_seconds
        handled = 0
        while handled < limit:
            event = self.rt.store.claim_event(self.world.clock(), lease)
            if event is None:
                break
            handle_event(self.rt, event)
            handled += 1
        return handled

    def poll(self, connector: str) -> int:
        return poll_connector(self.rt, connector).queued


def play(world: World, seed: int) -> SeedRun:
    """Reset the world and play seed `seed` to the end, settled or not."""
    world.reset()
    random.seed(seed)  # the engine's retry jitter, so that a seed replays exactly
    rng = random.Random(seed)
    journal = Journal()
    deliveries = Deliveries(random.Random(f"{seed}:network"))
    for actor in world.actors:
        actor.sink = Sink(journal, deliveries)
    fuse = Fuse()
    store_url = world.new_store(seed)
    rt = world.runtime(store_url, fuse, journal)
    run = SeedRun(world, seed, rng, journal, deliveries, fuse, store_url, rt)
    for actor in world.actors:
        run.poll(actor.connector)

    try:
        _open(run)
        for _ in range(rng.randint(12, 28)):
            world.clock.advance(rng.uniform(0.5, 4.0))
            name, step = _pick_step(run)
            run.steps.append(name)
            step(run)
        settle(run)
    except BaseException:
        run.rt.close()
        raise
    finally:
        for actor in world.actors:
            actor.sink = None
    return run


def settle(run: SeedRun) -> None:
    """Deliver every notice, handle every event and poll both sides until all is quiet."""
    clock = run.world.clock
    for _ in range(SETTLE_ROUNDS):
        clock.advance(2.0)
        delivered = run.deliveries.flush(run.rt)
        handled = _drain(run)
        if handled is None:
            return
        clock.advance(2.0)
        queued = sum(run.poll(actor.connector) for actor in run.world.actors)
        if not delivered and not handled and not queued and not run.deliveries.waiting:
            run.settled = True
            return


def _drain(run: SeedRun) -> int | None:
    """Handle every event, moving the clock to retries as they come due; None on a loop."""
    handled = 0
    while handled < MAX_EVENTS_PER_ROUND:
        if run.work(1):
            handled += 1
            continue
        unfinished = [
            row.lease_until if row.status == "processing" else row.available_at
            for row in run.rt.store.list_events(limit=100_000)
            if row.status in ("pending", "processing", "failed")
        ]
        due = [moment for moment in unfinished if moment is not None]
        if not due:
            return handled
        run.world.clock.advance_to(min(due))
    return None


# -- steps ------------------------------------------------------------------------------


def _pick_step(run: SeedRun) -> tuple[str, Callable[[SeedRun], None]]:
    has_l1 = bool(run.world.l1.tickets())
    has_l2 = bool(run.world.l2.tickets())
    choices: list[tuple[str, Callable[[SeedRun], None], float]] = [
        ("open", _open, 1.5 if len(run.world.l1.tickets()) < MAX_TICKETS else 0.0),
        ("l1_edit", _edit_fields, 3.0 if _editable_tickets(run) else 0.0),
        ("l1_status", lambda r: _set_status(r, r.world.l1), 2.0 if has_l1 else 0.0),
        ("l1_comment", lambda r: _comment(r, r.world.l1), 2.0 if has_l1 else 0.0),
        ("l2_status", lambda r: _set_status(r, r.world.l2), 3.0 if has_l2 else 0.0),
        ("l2_comment", lambda r: _comment(r, r.world.l2), 2.5 if has_l2 else 0.0),
        ("l2_edit_comment", _edit_comment, 1.0 if _editable(run) else 0.0),
        ("deliver", lambda r: _count(r.deliveries.deliver(r.rt, r.rng.randint(1, 8))), 3.0),
        ("work", lambda r: _count(r.work(r.rng.randint(1, 8))), 3.0),
        ("poll", _poll, 0.8),
        ("restart", lambda r: r.restart(), 0.3),
        ("crash", _crash, 0.8),
    ]
    names = [name for name, _, weight in choices if weight > 0]
    weights = [weight for _, _, weight in choices if weight > 0]
    name = run.rng.choices(names, weights)[0]
    step = next(step for step_name, step, _ in choices if step_name == name)
    return name, step


def _count(_result: int) -> None:
    """Drop a step's count: the oracle judges outcomes, not how much work each step did."""


def _priorities(run: SeedRun) -> list[str]:
    shared = run.world.pair.priorities
    return [value for value in _PRIORITIES if value in shared]


def _open(run: SeedRun) -> None:
    title = run.token("t")
    priority = run.rng.choice(_priorities(run))
    ticket = run.world.l1.open_ticket(title, run.token("d"), priority)
    run.titles[ticket] = [title]


def _editable_tickets(run: SeedRun) -> list[str]:
    actor = run.world.l1
    return [ticket for ticket in actor.tickets() if actor.editable(ticket)]


def _edit_fields(run: SeedRun) -> None:
    ticket = run.rng.choice(_editable_tickets(run))
    name = run.rng.choice(["title", "description", "priority"])
    if name == "priority":
        value = run.rng.choice(_priorities(run))
    elif name == "title" and len(run.titles[ticket]) > 1 and run.rng.random() < 0.2:
        value = run.rng.choice(run.titles[ticket][:-1])  # people do go back to a title
    else:
        value = run.token(name[0])
    if name == "title":
        run.titles[ticket].append(value)
    run.world.l1.set_fields(ticket, {name: value})


def _set_status(run: SeedRun, actor: Actor) -> None:
    ticket = run.rng.choice(actor.tickets())
    current = str(actor.fields_of(ticket).get("status"))
    moves = run.world.pair.moves.get(current, ())
    if not moves:
        return
    status = run.rng.choice(moves)
    resolution = actor.resolution(run.rng) if status == "resolved" else None
    actor.set_status(ticket, status, resolution, run.rng)


def _comment(run: SeedRun, actor: Actor) -> None:
    ticket = run.rng.choice(actor.tickets())
    public = run.rng.random() < 0.6 and actor.public_comments
    text = f"{run.token('c')} {'reply' if public else 'note'}"
    comment_id = actor.comment(ticket, text, public=public)
    run.comments.append(HumanComment(actor.connector, ticket, comment_id, public, [text]))


def _editable(run: SeedRun) -> list[HumanComment]:
    actor = run.world.l2
    if not actor.edits_comments:
        return []
    return [comment for comment in run.comments if comment.connector == actor.connector]


def _edit_comment(run: SeedRun) -> None:
    comment = run.rng.choice(_editable(run))
    text = f"{run.token('e')} edited"
    run.world.l2.edit_comment(comment.ticket, comment.comment_id, text)
    comment.texts.append(text)


def _poll(run: SeedRun) -> None:
    run.poll(run.rng.choice(run.world.actors).connector)


def _crash(run: SeedRun) -> None:
    """Crash around one of the next write calls, restart, and wait out the lost lease."""
    run.fuse.arm(run.rng.randint(1, 2), after=run.rng.random() < 0.5)
    try:
        run.work(run.rng.randint(1, 6))
    except SimulatedCrash:
        run.crashes += 1
        run.restart()
        run.world.clock.advance(run.rt.config.queue.lease_seconds + 1.0)
    finally:
        run.fuse.disarm()
