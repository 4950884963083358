"""The connector contract suite's public helpers: targets, adapters and their registry.

`tests/contract/` runs one suite against every registered system in three modes: recorded
fixtures, the bundled emulators and live instances. This package contains what a user's CI
needs to run live mode against its own sandboxes, or to add a connector of its own.
"""

from __future__ import annotations

from tierbridge.testing.adapter import ContractAdapter, EmulatedSystem, LiveSystem, SecretEnv
from tierbridge.testing.emulated import EmulatedTarget, EmulatorPool
from tierbridge.testing.live import LiveTarget, live_skip_reason
from tierbridge.testing.registry import adapter, adapters, register
from tierbridge.testing.systems.dynamics import DynamicsContract
from tierbridge.testing.systems.jira import JiraContract
from tierbridge.testing.systems.salesforce import SalesforceContract
from tierbridge.testing.systems.servicenow import ServiceNowContract
from tierbridge.testing.target import (
    CONTRACT_START,
    MARKER,
    Delivery,
    Mode,
    Seeded,
    SystemFacts,
    Target,
    Unsupported,
)

__all__ = [
    "CONTRACT_START",
    "MARKER",
    "ContractAdapter",
    "Delivery",
    "EmulatedSystem",
    "EmulatedTarget",
    "EmulatorPool",
    "LiveSystem",
    "LiveTarget",
    "Mode",
    "SecretEnv",
    "Seeded",
    "SystemFacts",
    "Target",
    "Unsupported",
    "adapter",
    "adapters",
    "live_skip_reason",
    "register",
]

register(DynamicsContract())
register(JiraContract())
register(SalesforceContract())
register(ServiceNowContract())
