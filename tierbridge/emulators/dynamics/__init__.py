"""A local emulator of Dynamics 365 Customer Service (Dataverse Web API), and a human-agent helper."""

from __future__ import annotations

from tierbridge.emulators.dynamics.agent import DynamicsAgent
from tierbridge.emulators.dynamics.emulator import (
    AGENT_CLIENT,
    DEFAULT_CLIENTS,
    TENANT_ID,
    TIERBRIDGE_CLIENT,
    DynamicsEmulator,
)
from tierbridge.emulators.dynamics.state import ChangeEvent, DynamicsState

__all__ = [
    "AGENT_CLIENT",
    "DEFAULT_CLIENTS",
    "TENANT_ID",
    "TIERBRIDGE_CLIENT",
    "ChangeEvent",
    "DynamicsAgent",
    "DynamicsEmulator",
    "DynamicsState",
]
