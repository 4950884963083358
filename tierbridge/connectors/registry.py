"""Which connector class and settings model serve each `system:` value in the config."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.salesforce.settings import SalesforceSettings
from tierbridge.connectors.servicenow.settings import ServiceNowSettings

if TYPE_CHECKING:
    from tierbridge.core.connector import Connector
    from tierbridge.core.connector_settings import ConnectorSettings

__all__ = ["SETTINGS_MODELS", "connector_class"]

#: Settings model per system, used by the config loader to validate each connector entry.
SETTINGS_MODELS: dict[str, type[ConnectorSettings]] = {
    "dynamics": DynamicsSettings,
    "jira": JiraSettings,
    "salesforce": SalesforceSettings,
    "servicenow": ServiceNowSettings,
}

_CONNECTOR_CLASSES = {
    "dynamics": "tierbridge.connectors.dynamics.connector:DynamicsConnector",
    "jira": "tierbridge.connectors.jira.connector:JiraConnector",
    "salesforce": "tierbridge.connectors.salesforce.connector:SalesforceConnector",
    "servicenow": "tierbridge.connectors.servicenow.connector:ServiceNowConnector",
}


def connector_class(system: str) -> type[Connector]:
    """Import and return the connector class for `system`; imports stay lazy for fast CLIs."""
    module_name, _, class_name = _CONNECTOR_CLASSES[system].partition(":")
    module = importlib.import_module(module_name)
    cls: type[Connector] = getattr(module, class_name)
    return cls
