"""KPIs per client and tier, from a store filled by the engine on a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.core.rules.memory import Harness
from tierbridge.core.report.kpi import KpiRow, compute_kpis

#: Monday 7 January 2030, 09:00 UTC; the calendar is 8/5 in UTC.
MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PERIOD = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
CONFIG = """
sla:
  calendar: 8/5
  targets:
    L1: {P2: {response: 1h, resolution: 8h}}
    L2: {P2: {response: 2h, resolution: 16h}}
rules:
  - name: to-l2
    when: {tier: L1, assignment_group: [Line 2]}
    then: [{escalate: L2}]
  - name: back
    when: {tier: L2, assignment_group: [Line 1]}
    then: [{return_to: previous}]
"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    built = Harness.from_yaml(tmp_path, CONFIG, MONDAY, tiers=2)
    yield built
    built.close()


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def by_tier(rows: list[KpiRow]) -> dict[str, KpiRow]:
    return {row.tier: row for row in rows}


def scenario(harness: Harness) -> None:
    """A: at L1 for 30 min, at L2 for 3 h (taken after 1 h), resolved there.

    B: escalated at once, handed back after 1 h, resolved at L1, reopened, still open.
    """
    l1, l2 = harness.systems["l1"], harness.systems["l2"]
    a = l1.open(title="A", priority="P2", group="Line 1")
    harness.settle()
    harness.clock.set(at(0.5))
    l1.edit(a, status="in_progress", group="Line 2")
    harness.settle()
    (a2,) = l2.records
    harness.clock.set(at(1.5))
    l2.edit(a2, assignee="bo@example.com")
    harness.settle()
    harness.clock.set(at(3.5))
    l2.edit(a2, status="resolved", close_notes="Done.")
    harness.settle()

    harness.clock.set(at(4))
    b = l1.open(title="B", priority="P2", group="Line 1")
    harness.settle()
    l1.edit(b, status="in_progress", group="Line 2")
    harness.settle()
    b2 = next(key for key in l2.records if key != a2)
    harness.clock.set(at(5))
    l2.edit(b2, group="Line 1")
    harness.settle()
    harness.clock.set(at(6))
    l1.edit(b, status="resolved", close_notes="Fixed at L1.")
    harness.settle()
    harness.clock.set(at(6.5))
    l1.edit(b, status="in_progress")
    harness.settle()


def test_counts_per_tier(harness: Harness) -> None:
    """Received, escalated, returned and backlog are counted at the tier that did them."""
    scenario(harness)

    rows = by_tier(compute_kpis(harness.rt.config, harness.rt.store, *PERIOD))

    l1, l2 = rows["L1"], rows["L2"]
    assert (l1.client, l2.client) == ("l1", "l1")
    assert (l1.received, l2.received) == (2, 2)
    assert (l1.escalated_to_L2, l1.returned) == (2, 0)
    assert (l2.escalated_to_L3, l2.returned) == (0, 1)
    assert l1.backlog == 1
    assert l1.reopen_rate_pct == 50.0


def test_durations_in_business_hours(harness: Harness) -> None:
    """Times come from the clocks in business hours; synced statuses acknowledge nothing.

    L2 acknowledges A when a person takes it (1 h), and B only when L1's resolution reaches
    it (2 h). L2 resolves A in 3 h; B was reopened, so its clock runs again and is left out.
    A stays at L2 3 h and B 1 h.
    """
    scenario(harness)

    rows = by_tier(compute_kpis(harness.rt.config, harness.rt.store, *PERIOD))

    l1, l2 = rows["L1"], rows["L2"]
    assert l1.acknowledge_mean_h == 0.25
    assert l2.acknowledge_mean_h == 1.5
    assert l2.resolve_median_h == 3.0
    assert l2.time_at_tier_mean_h == 2.0
    assert l2.response_sla_pct == 100.0
    assert (l1.breaches, l2.breaches) == (0, 0)


def test_breach_counted(harness: Harness) -> None:
    """A ticket left new past its response target counts one breach and 0 % compliance."""
    l1 = harness.systems["l1"]
    ticket_id = l1.open(title="C", priority="P2")
    harness.settle()
    harness.clock.set(at(3))
    l1.edit(ticket_id, status="in_progress")
    harness.settle()

    (row,) = compute_kpis(harness.rt.config, harness.rt.store, *PERIOD)

    assert row.breaches == 1
    assert row.response_sla_pct == 0.0
    assert row.acknowledge_mean_h == 3.0


def test_period_filters(harness: Harness) -> None:
    """Tickets opened after the period are left out of received but not of earlier backlog."""
    scenario(harness)

    rows = compute_kpis(
        harness.rt.config,
        harness.rt.store,
        datetime(2030, 2, 1, tzinfo=UTC),
        datetime(2030, 3, 1, tzinfo=UTC),
    )

    assert {row.tier: row.received for row in rows} == {"L1": 0, "L2": 0}
    assert by_tier(rows)["L1"].backlog == 1


def test_client_filter(harness: Harness) -> None:
    """Asking for another client returns no rows."""
    scenario(harness)

    assert compute_kpis(harness.rt.config, harness.rt.store, *PERIOD, client="other") == []
    assert len(compute_kpis(harness.rt.config, harness.rt.store, *PERIOD, client="l1")) == 2
