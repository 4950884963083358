"""Everything a unit of work needs, built once from the config: store, connectors, mappers.

A unit of work (handle one inbox event, poll one connector) takes a `Runtime` and nothing
else, so any runner (the embedded one, or a distributed one later) can execute it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tierbridge.connectors.registry import connector_class
from tierbridge.core.config import AppConfig
from tierbridge.core.connector import Connector
from tierbridge.core.mapping import Mapper
from tierbridge.core.model import Tier
from tierbridge.core.retry import CallPolicy
from tierbridge.core.store import Store

__all__ = ["Runtime", "build_runtime", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The config, the open store, one connector and one mapper per configured connector."""

    config: AppConfig
    store: Store
    connectors: dict[str, Connector]
    mappers: dict[str, Mapper]
    policy: CallPolicy = field(default_factory=CallPolicy)
    clock: Callable[[], datetime] = utc_now

    def tier_of(self, connector: str) -> Tier | None:
        """Return the tier a connector serves, or None if it serves none."""
        for tier, settings in self.config.tiers.items():
            if settings.connector == connector:
                return tier
        return None

    def connector_for_tier(self, tier: Tier) -> str | None:
        """Return the connector name configured for `tier`, or None."""
        settings = self.config.tiers.get(tier)
        return settings.connector if settings is not None else None

    def close(self) -> None:
        for connector in self.connectors.values():
            connector.close()
        self.store.close()


def build_runtime(config: AppConfig, *, store: Store | None = None) -> Runtime:
    """Open the store and construct every connector and mapper named in `config`."""
    store = store or Store.open(config.store.url)
    connectors: dict[str, Connector] = {}
    mappers: dict[str, Mapper] = {}
    for name, settings in config.connectors.items():
        cls = connector_class(settings.system)
        connectors[name] = cls(name, settings)  # type: ignore[call-arg]
        mappers[name] = Mapper(config.mapping_for(name), name)
    return Runtime(config=config, store=store, connectors=connectors, mappers=mappers)
