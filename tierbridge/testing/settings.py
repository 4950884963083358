"""Build a connector from a plain settings mapping, as the config loader would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tierbridge.connectors.registry import SETTINGS_MODELS, connector_class

if TYPE_CHECKING:
    from tierbridge.core.connector import Connector

__all__ = ["CONTRACT_LIMITS", "build_connector"]

#: No call waits for a throttled scope: it raises at once, so that tests never sleep.
CONTRACT_LIMITS = {"max_block_seconds": 0}


def build_connector(system: str, settings: Mapping[str, Any]) -> Connector:
    """Validate `settings` with the system's settings model and build its connector."""
    values = {"rate_limit": CONTRACT_LIMITS, **settings}
    model = SETTINGS_MODELS[system].model_validate(values)
    cls: Any = connector_class(system)
    built: Connector = cls(f"contract-{system}", model)
    return built
