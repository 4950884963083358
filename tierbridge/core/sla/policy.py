"""The SLA settings of one config, resolved: calendars by name and targets by tier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierbridge.core.model import Priority, Status, Tier
from tierbridge.core.sla.calendar import BusinessCalendar
from tierbridge.core.sla.settings import Calendars, ClockKind, SlaSettings

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig

__all__ = ["SlaPolicy"]

#: The config last resolved and its policy; every event of a daemon uses the same config.
_last_built: tuple[AppConfig, SlaPolicy] | None = None


def _remember(config: AppConfig, policy: SlaPolicy) -> None:
    global _last_built
    _last_built = (config, policy)


@dataclass(frozen=True)
class SlaPolicy:
    """The calendar of each tier, the targets, and the statuses that pause clocks."""

    calendars: Mapping[str, BusinessCalendar]
    settings: SlaSettings

    @classmethod
    def from_config(cls, config: AppConfig) -> SlaPolicy:
        """Return the policy of `config`, built once per config object (configs are frozen)."""
        cached = _last_built
        if cached is not None and cached[0] is config:
            return cached[1]
        policy = cls.from_settings(config.sla, config.calendars)
        _remember(config, policy)
        return policy

    @classmethod
    def from_settings(cls, settings: SlaSettings, calendars: Calendars | None = None) -> SlaPolicy:
        return cls((calendars or Calendars()).build(), settings)

    def calendar_name(self, tier: Tier) -> str:
        return self.settings.calendar_of(tier)

    def calendar(self, name: str, tier: Tier) -> BusinessCalendar:
        """Return calendar `name`, or the tier's current one if `name` left the config."""
        found = self.calendars.get(name)
        return found if found is not None else self.calendars[self.calendar_name(tier)]

    def target(self, tier: Tier, priority: Priority | None, kind: ClockKind) -> float | None:
        return self.settings.target_seconds(tier, priority, kind)

    def pauses(self, status: Status | None) -> bool:
        """Tell whether a ticket in `status` stops its clocks until it leaves the status."""
        return status is not None and status in self.settings.pause_statuses
