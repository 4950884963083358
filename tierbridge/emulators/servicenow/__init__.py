"""A local emulator of the ServiceNow Table API, and a helper that acts as a human agent."""

from __future__ import annotations

from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS, ServiceNowEmulator
from tierbridge.emulators.servicenow.state import ChangeEvent, ServiceNowState
from tierbridge.emulators.servicenow.webhook import sign

__all__ = [
    "DEFAULT_PASSWORDS",
    "ChangeEvent",
    "ServiceNowAgent",
    "ServiceNowEmulator",
    "ServiceNowState",
    "sign",
]
