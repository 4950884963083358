"""Print a scenario's summary: counts, checks, and the sync log of a few tickets."""

from __future__ import annotations

from tierbridge.core.demo.files import describe_file_counts
from tierbridge.core.demo.play import Played
from tierbridge.core.model import Tier

__all__ = ["print_played"]


def print_played(played: Played, seconds: float) -> None:
    """Write the summary to stdout; problems, if any, come last."""
    sample, outcome, actions = played.sample, played.outcome, played.actions
    scenario = played.scenario
    expected = sum(p.escalates for p in sample)
    expected_resolved = sum(p.resolved_by is not None for p in sample)
    lines = [
        f"tierbridge demo --scenario {scenario.name}: {scenario.title}",
        "",
        f"  tickets replayed          {len(sample)} ({played.updates} logged updates from {scenario.dataset})",
        f"  escalated to L2           {outcome.escalated} of {expected} expected",
    ]
    if any(p.hands_on for p in sample):
        handed = sum(p.hands_on for p in sample)
        lines.append(f"  handed on to L3           {outcome.handed_on} of {handed} expected")
    tiers = {tier: str(tier) for tier in (Tier.L1, Tier.L2)}
    if any(p.hands_on for p in sample):
        tiers[Tier.L3] = str(Tier.L3)
    lines += [
        f"  resolved back at L1       {outcome.resolved_back} of {expected_resolved} resolved higher up",
        f"  comments up the tiers     {outcome.comments_up} checked",
        f"  comments down the tiers   {outcome.comments_down} checked",
        f"  attachments               {describe_file_counts(outcome.files, tiers)}",
        f"  echoes suppressed         {actions.get('echo_suppressed', 0) + actions.get('no_change', 0)}"
        " (our own writes coming back)",
        f"  retries                   {actions.get('retry', 0)}",
        f"  errors                    {len(outcome.problems)}",
        f"  time                      {seconds:.1f} s",
        "",
    ]
    for number, trail in played.trails.items():
        lines.append(f"sync log of {number}:")
        lines.extend(f"  {line}" for line in trail)
        lines.append("")

    if outcome.problems:
        lines.append("FAILED checks:")
        lines.extend(f"  - {problem}" for problem in outcome.problems)
    else:
        lines.append("All checks passed: every expected sync was confirmed on every emulator.")
    print("\n".join(lines))
