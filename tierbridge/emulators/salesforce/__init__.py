"""A local emulator of a Salesforce Service Cloud org, and a helper that acts as an agent."""

from __future__ import annotations

from tierbridge.emulators.salesforce.agent import SalesforceAgent
from tierbridge.emulators.salesforce.emulator import DEFAULT_CLIENTS, SalesforceEmulator
from tierbridge.emulators.salesforce.ids import add_checksum, canonical_id
from tierbridge.emulators.salesforce.outbound import is_ack
from tierbridge.emulators.salesforce.state import (
    AGENT_USERNAME,
    DEFAULT_ORG_ID,
    INTEGRATION_USERNAME,
    ChangeEvent,
    SalesforceState,
)

__all__ = [
    "AGENT_USERNAME",
    "DEFAULT_CLIENTS",
    "DEFAULT_ORG_ID",
    "INTEGRATION_USERNAME",
    "ChangeEvent",
    "SalesforceAgent",
    "SalesforceEmulator",
    "SalesforceState",
    "add_checksum",
    "canonical_id",
    "is_ack",
]
