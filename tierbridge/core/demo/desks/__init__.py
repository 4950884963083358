"""Desks: scripted people working in each ticketing system, for the scenarios and tests."""

from __future__ import annotations

from tierbridge.core.demo.desks.base import Attached, Desk, Entry, Seen
from tierbridge.core.demo.desks.dynamics import DynamicsDesk
from tierbridge.core.demo.desks.jira import JiraDesk
from tierbridge.core.demo.desks.salesforce import SalesforceDesk
from tierbridge.core.demo.desks.servicenow import ServiceNowDesk

__all__ = [
    "Attached",
    "Desk",
    "DynamicsDesk",
    "Entry",
    "JiraDesk",
    "SalesforceDesk",
    "Seen",
    "ServiceNowDesk",
]
