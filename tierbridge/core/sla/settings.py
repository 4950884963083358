"""Config sections `calendars:` and `sla:`: business calendars and SLA targets per tier.

```yaml
calendars:
  brussels-office:
    hours: 8/5                        # 24/7, 12/5, 8/5, or {mon: [09:00-17:00], ...}
    timezone: Europe/Brussels
    holidays: [2026-12-25, 2027-01-01]
sla:
  calendar: brussels-office           # default for tiers that name none; default 24/7 in UTC
  pause_statuses: [pending]
  targets:
    L1: {P1: {response: 15m, resolution: 4h}, default: {resolution: 3d}}
    L2: {calendar: 24/7, P1: {response: 30m, resolution: 8h}}
```

A duration counts business time of the tier's calendar: `4h` on an 8/5 calendar is half a
working day, and `1d` is always 24 hours of that calendar's open time, not one working day.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, field_validator

from tierbridge.core.model import Priority, Status, Tier
from tierbridge.core.sla.calendar import PRESET_HOURS, WEEKDAYS, BusinessCalendar, parse_time_range

__all__ = [
    "CLOCK_KINDS",
    "CalendarSettings",
    "Calendars",
    "ClockKind",
    "Duration",
    "SlaSettings",
    "Target",
    "TierTargets",
    "parse_duration",
]

ClockKind = Literal["response", "resolution"]
CLOCK_KINDS: tuple[ClockKind, ...] = ("response", "resolution")

_DURATION = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")
_UNIT_SECONDS = (86400, 3600, 60, 1)


def parse_duration(value: Any) -> float:
    """Parse `90s`, `15m`, `4h`, `1h30m` or `2d` into seconds; a number is taken as seconds.

    Raises ValueError for anything else, including zero and negative durations.
    """
    if isinstance(value, bool):
        msg = "invalid duration; write it as 30m, 4h or 1h30m"
        raise ValueError(msg)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            msg = f"invalid duration {value!r}; write it as 30m, 4h, 1h30m or 2d"
            raise ValueError(msg)
        seconds = float(
            sum(
                int(part or 0) * unit
                for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
            )
        )
    if seconds <= 0:
        msg = f"invalid duration {value!r}; it must be longer than zero"
        raise ValueError(msg)
    return seconds


#: A duration in seconds, written in the config as `15m`, `4h`, `1h30m` or `2d`.
Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class CalendarSettings(_Frozen):
    """One named business calendar."""

    hours: (
        Literal["24/7", "12/5", "8/5"] | dict[str, Annotated[list[str], BeforeValidator(_as_list)]]
    )
    timezone: str = "UTC"
    holidays: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}; use an IANA name such as Europe/Brussels or UTC"
            raise ValueError(msg) from None
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for day, ranges in value.items():
                if day not in WEEKDAYS:
                    msg = f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}"
                    raise ValueError(msg)
                for text in ranges:
                    parse_time_range(text)
        return value

    def build(self, name: str) -> BusinessCalendar:
        """Return the calendar these settings describe."""
        if isinstance(self.hours, str):
            return BusinessCalendar.preset(self.hours, self.timezone, self.holidays, name=name)
        return BusinessCalendar.weekly(name, self.hours, self.timezone, self.holidays)


class Calendars(RootModel[dict[str, CalendarSettings]]):
    """The `calendars:` section: calendar name to settings. The presets need no entry."""

    root: dict[str, CalendarSettings] = Field(default_factory=dict)

    def build(self) -> dict[str, BusinessCalendar]:
        """Return every calendar by name: the built-in presets in UTC, then the configured ones."""
        calendars = {preset: BusinessCalendar.preset(preset) for preset in PRESET_HOURS}
        calendars.update({name: settings.build(name) for name, settings in self.root.items()})
        return calendars


class Target(_Frozen):
    """Response and resolution targets of one priority, in business seconds."""

    response: Duration | None = None
    resolution: Duration | None = None


class TierTargets(_Frozen):
    """The targets of one tier by priority, and the calendar they count on."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    calendar: str | None = None
    P1: Target | None = None
    P2: Target | None = None
    P3: Target | None = None
    P4: Target | None = None
    P5: Target | None = None
    #: Used for a priority without its own entry, and for tickets without a priority.
    default: Target | None = None

    def for_priority(self, priority: Priority | None) -> Target | None:
        """Return the target of `priority`, falling back to `default`."""
        own: Target | None = getattr(self, priority.value) if priority is not None else None
        return own or self.default


class SlaSettings(_Frozen):
    """The `sla:` section."""

    #: Calendar of tiers that name none: a preset (24/7, 12/5, 8/5 in UTC) or a configured name.
    calendar: str = "24/7"
    #: Statuses that stop the clocks until the ticket leaves them (waiting for the customer).
    pause_statuses: tuple[Status, ...] = (Status.PENDING,)
    targets: dict[Tier, TierTargets] = Field(default_factory=dict)

    def calendar_of(self, tier: Tier) -> str:
        """Return the calendar name that `tier` counts on."""
        targets = self.targets.get(tier)
        return (targets.calendar if targets is not None else None) or self.calendar

    def target_seconds(
        self, tier: Tier, priority: Priority | None, kind: ClockKind
    ) -> float | None:
        """Return the `kind` target of a ticket at `tier` with `priority`, or None if none is set."""
        targets = self.targets.get(tier)
        target = targets.for_priority(priority) if targets is not None else None
        return getattr(target, kind) if target is not None else None
