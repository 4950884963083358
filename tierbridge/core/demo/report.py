"""Print the demo's summary: counts, checks, and the sync log of a few tickets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierbridge.core.demo.files import describe_file_counts
from tierbridge.core.demo.plan import PlannedIncident
from tierbridge.core.demo.verify import Outcome
from tierbridge.core.model import Tier

__all__ = ["print_summary"]

_SIDES = {Tier.L1: "SN", Tier.L2: "JSM"}


def print_summary(
    sample: list[PlannedIncident], outcome: Outcome, seen: Mapping[str, Any], seconds: float
) -> None:
    """Write the summary to stdout; problems, if any, come last."""
    expected = sum(p.escalates for p in sample)
    expected_resolved = sum(p.l2_resolves for p in sample)
    actions: Mapping[str, int] = seen["actions"]
    lines = [
        "tierbridge demo: ServiceNow (L1) <-> Jira Service Management (L2)",
        "",
        f"  incidents replayed        {len(sample)} ({seen['events']} logged updates)",
        f"  escalated to JSM          {outcome.escalated} of {expected} expected",
        f"  resolved back in SN       {outcome.resolved_back} of {expected_resolved} resolved by L2",
        f"  comments SN -> JSM        {outcome.comments_to_l2} checked",
        f"  comments JSM -> SN        {outcome.comments_to_l1} checked",
        f"  attachments               {describe_file_counts(outcome.files, _SIDES)}",
        f"  echoes suppressed         {actions.get('echo_suppressed', 0) + actions.get('no_change', 0)}"
        " (our own writes coming back)",
        f"  retries                   {actions.get('retry', 0)}",
        f"  errors                    {len(outcome.problems)}",
        f"  time                      {seconds:.1f} s",
        "",
    ]
    for number, trail in seen["trails"].items():
        lines.append(f"sync log of {number}:")
        lines.extend(f"  {line}" for line in trail)
        lines.append("")

    if outcome.problems:
        lines.append("FAILED checks:")
        lines.extend(f"  - {problem}" for problem in outcome.problems)
    else:
        lines.append("All checks passed: every expected sync was confirmed on both emulators.")
    print("\n".join(lines))
