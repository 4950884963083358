"""Service KPIs per client and tier, computed from the store.

A client is the connector of a link's L1 ticket (its lowest tier's, for a link without
one). Each row covers the tickets one tier handled for one client in the period
`[start, end)`:

| column | definition |
| --- | --- |
| received | the tier's tickets opened in the period |
| escalated_to_L2, _L3 | escalations from this tier in the period (tier moves) |
| returned | hand-backs from this tier to a lower one in the period |
| acknowledge_* | business hours from opening to acknowledgement, response clocks stopped in the period |
| resolve_* | business hours of resolution clocks stopped in the period, pauses excluded |
| time_at_tier_* | business hours the link's work stayed at this tier, stints ending in the period |
| response_/resolution_sla_pct | share of clocks with a target, stopped in the period, that met it |
| breaches | clocks of the tier whose breach time falls in the period |
| reopen_rate_pct | received tickets reopened at least once, of those resolved at least once |
| backlog | the tier's tickets opened before `end` and not resolved at `end` |

Durations count business time of the tier's calendar, as the SLA clocks do.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tierbridge.core.engine.fields import tier_rank
from tierbridge.core.model import Tier
from tierbridge.core.sla.policy import SlaPolicy

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
    from tierbridge.core.store import RefRow, Store
    from tierbridge.core.store.sla_rows import ActivityRow, ClockRow, TierMoveRow

__all__ = ["KpiRow", "compute_kpis"]

_HOUR = 3600.0


@dataclass
class KpiRow:
    """The KPIs of one client at one tier; hours are business hours, None means no data."""

    client: str
    tier: str
    received: int = 0
    escalated_to_L2: int = 0
    escalated_to_L3: int = 0
    returned: int = 0
    acknowledge_mean_h: float | None = None
    acknowledge_median_h: float | None = None
    resolve_mean_h: float | None = None
    resolve_median_h: float | None = None
    time_at_tier_mean_h: float | None = None
    time_at_tier_median_h: float | None = None
    response_sla_pct: float | None = None
    resolution_sla_pct: float | None = None
    breaches: int = 0
    reopen_rate_pct: float | None = None
    backlog: int = 0


@dataclass
class _Samples:
    acknowledge: list[float] = field(default_factory=list)
    resolve: list[float] = field(default_factory=list)
    stints: list[float] = field(default_factory=list)
    met: dict[str, list[bool]] = field(default_factory=lambda: {"response": [], "resolution": []})
    resolved_once: int = 0
    reopened: int = 0


class _Table:
    """The rows being filled, keyed by (client, tier), and the samples behind their averages."""

    def __init__(self, clients: dict[int, str], only: str | None) -> None:
        self.clients = clients
        self.only = only
        self.rows: dict[tuple[str, str], KpiRow] = {}
        self.samples: dict[tuple[str, str], _Samples] = defaultdict(_Samples)

    def cell(self, link_id: int, tier: str) -> tuple[KpiRow, _Samples] | None:
        """Return the row and samples of a link's client at `tier`, or None if filtered out."""
        owner = self.clients.get(link_id)
        if owner is None or (self.only is not None and owner != self.only):
            return None
        key = (owner, tier)
        return self.rows.setdefault(key, KpiRow(owner, tier)), self.samples[key]


def compute_kpis(
    config: AppConfig, store: Store, start: datetime, end: datetime, client: str | None = None
) -> list[KpiRow]:
    """Return one row per client and tier with tickets, sorted by client and tier.

    NOTE: every tracked ticket, clock and move is read into memory; that suits stores of
    up to some hundred thousand tickets, not an unbounded history.
    """
    table = _Table(_clients(store.list_refs()), client)
    policy = SlaPolicy.from_config(config)
    activity = store.list_activity()
    _count_tickets(activity, table, start, end)
    _count_clocks(store.list_clocks(), table, start, end)
    _count_moves(store.list_moves(), activity, table, policy, start, end)
    for key, found in table.rows.items():
        _summarize(found, table.samples[key])
    return sorted(table.rows.values(), key=lambda r: (r.client, tier_rank(r.tier)))


def _clients(refs: Iterable[RefRow]) -> dict[int, str]:
    """Map each link to its client: the connector of its lowest-tier ticket."""
    lowest: dict[int, RefRow] = {}
    for ref in refs:
        known = lowest.get(ref.link_id)
        if known is None or tier_rank(ref.tier) < tier_rank(known.tier):
            lowest[ref.link_id] = ref
    return {link_id: ref.connector for link_id, ref in lowest.items()}


def _count_tickets(
    activity: Sequence[ActivityRow], table: _Table, start: datetime, end: datetime
) -> None:
    for ticket in activity:
        found = table.cell(ticket.link_id, ticket.tier)
        if found is None:
            continue
        kpis, samples = found
        if start <= ticket.opened_at < end:
            kpis.received += 1
            if ticket.resolved_at is not None or ticket.reopen_count:
                samples.resolved_once += 1
            samples.reopened += ticket.reopen_count > 0
        if ticket.opened_at < end and (ticket.resolved_at is None or ticket.resolved_at >= end):
            kpis.backlog += 1


def _count_clocks(
    clocks: Sequence[ClockRow], table: _Table, start: datetime, end: datetime
) -> None:
    for clock in clocks:
        found = table.cell(clock.link_id, clock.tier)
        if found is None:
            continue
        kpis, samples = found
        if clock.breached_at is not None and start <= clock.breached_at < end:
            kpis.breaches += 1
        if clock.stopped_at is None or not start <= clock.stopped_at < end:
            continue
        hours = clock.elapsed_seconds / _HOUR
        (samples.acknowledge if clock.kind == "response" else samples.resolve).append(hours)
        if clock.target_seconds:
            met = clock.breached_at is None and clock.elapsed_seconds <= clock.target_seconds
            samples.met[clock.kind].append(met)


def _count_moves(
    moves: Sequence[TierMoveRow],
    activity: Sequence[ActivityRow],
    table: _Table,
    policy: SlaPolicy,
    start: datetime,
    end: datetime,
) -> None:
    by_link: dict[int, list[TierMoveRow]] = defaultdict(list)
    for move in moves:
        by_link[move.link_id].append(move)
        found = table.cell(move.link_id, move.from_tier)
        if found is None or not start <= move.at < end:
            continue
        kpis, _samples = found
        if move.kind == "return":
            kpis.returned += 1
        elif move.to_tier == Tier.L2.value:
            kpis.escalated_to_L2 += 1
        elif move.to_tier == Tier.L3.value:
            kpis.escalated_to_L3 += 1

    resolved = {(a.link_id, a.tier): a.resolved_at for a in activity}
    opened = _first_opened(activity)
    for link_id in set(by_link) | set(opened):
        for tier, began, ended in _stints(link_id, by_link.get(link_id, []), opened, resolved):
            found = table.cell(link_id, tier)
            if found is None or ended is None or not start <= ended < end:
                continue
            calendar = policy.calendar(policy.calendar_name(Tier(tier)), Tier(tier))
            found[1].stints.append(calendar.business_seconds(began, ended) / _HOUR)


def _first_opened(activity: Sequence[ActivityRow]) -> dict[int, tuple[str, datetime]]:
    first: dict[int, tuple[str, datetime]] = {}
    for ticket in activity:
        known = first.get(ticket.link_id)
        if known is None or ticket.opened_at < known[1]:
            first[ticket.link_id] = (ticket.tier, ticket.opened_at)
    return first


def _stints(
    link_id: int,
    moves: list[TierMoveRow],
    opened: dict[int, tuple[str, datetime]],
    resolved: dict[tuple[int, str], datetime | None],
) -> list[tuple[str, datetime, datetime | None]]:
    """Return the link's stays at each tier: (tier, from, until), until None while open."""
    tier, began = opened[link_id] if link_id in opened else (moves[0].from_tier, moves[0].at)
    stints: list[tuple[str, datetime, datetime | None]] = []
    for move in moves:
        stints.append((tier, began, move.at))
        tier, began = move.to_tier, move.at
    stints.append((tier, began, resolved.get((link_id, tier))))
    return stints


def _summarize(kpis: KpiRow, samples: _Samples) -> None:
    kpis.acknowledge_mean_h, kpis.acknowledge_median_h = _mean_median(samples.acknowledge)
    kpis.resolve_mean_h, kpis.resolve_median_h = _mean_median(samples.resolve)
    kpis.time_at_tier_mean_h, kpis.time_at_tier_median_h = _mean_median(samples.stints)
    kpis.response_sla_pct = _percent(samples.met["response"])
    kpis.resolution_sla_pct = _percent(samples.met["resolution"])
    if samples.resolved_once:
        kpis.reopen_rate_pct = round(100.0 * samples.reopened / samples.resolved_once, 1)


def _mean_median(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return round(statistics.fmean(values), 2), round(statistics.median(values), 2)


def _percent(flags: list[bool]) -> float | None:
    return round(100.0 * sum(flags) / len(flags), 1) if flags else None
