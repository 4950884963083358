"""The demo scenarios: which systems serve which tier, and which log they replay.

Each scenario has its config in `config/scenarios/<name>.yaml`. The tiers, the systems and
the escalation rules come from that file; the demo only replaces URLs, ports, the store and
the emulators' ids. `servicenow-jsm` is the original demo and keeps its own runner
(`run_scenario`); the others run through `play`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tierbridge.core.demo.cases import CaseLog, from_servicenow
from tierbridge.core.demo.dataset import read_histories
from tierbridge.core.demo.volvo import read_volvo

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "SCENARIO_CONFIGS", "Scenario", "scenario_named"]

SCENARIO_CONFIGS = Path(__file__).resolve().parents[3] / "config" / "scenarios"
SERVICENOW_LOG = "servicenow-incident-event-log"
VOLVO_LOG = "bpic2013-volvo-incidents"


@dataclass(frozen=True)
class Scenario:
    """One demo: its name, what it shows, its config and the log it replays."""

    name: str
    title: str
    #: The folder name of the replayed log under `data/`.
    dataset: str
    #: Tickets replayed without `--incidents`; each default run takes well under a minute.
    default_size: int

    @property
    def config(self) -> Path:
        return SCENARIO_CONFIGS / f"{self.name}.yaml"

    def read_logs(self) -> Iterator[CaseLog]:
        """Yield the replayed log's tickets in file order."""
        if self.dataset == SERVICENOW_LOG:
            return (from_servicenow(history) for history in read_histories())
        return read_volvo()


_ALL = (
    Scenario(
        "servicenow-jsm",
        "ServiceNow (L1) <-> Jira Service Management (L2)",
        SERVICENOW_LOG,
        24,
    ),
    Scenario(
        "salesforce-jsm",
        "Salesforce Service Cloud (L1) <-> Jira Service Management (L2)",
        SERVICENOW_LOG,
        12,
    ),
    Scenario(
        "dynamics-servicenow",
        "Dynamics 365 Customer Service (L1) <-> ServiceNow (L2)",
        VOLVO_LOG,
        12,
    ),
    Scenario(
        "salesforce-servicenow-jira",
        "Salesforce (L1) <-> ServiceNow (L2) <-> Jira Service Management (L3)",
        VOLVO_LOG,
        12,
    ),
)
SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _ALL}
DEFAULT_SCENARIO = "servicenow-jsm"


def scenario_named(name: str) -> Scenario:
    """Return the scenario `name`; raise KeyError listing the known ones."""
    if name not in SCENARIOS:
        msg = f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        raise KeyError(msg)
    return SCENARIOS[name]
